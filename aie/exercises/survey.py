"""Checkers for the survey-data notebooks (``notebooks/survey/``).

Every right answer is computed from the course tables (``aie.data.load``), not typed in, so a
corrected table corrects its exercises. Each checker recognises the typical wrong answers (a
fraction where a percentage was asked, the other year, the wrong base, a relative change where
percentage points were asked) and says which one it is.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from aie.exercises.forms import placeholders
from aie.check import Feedback, close, exercise, hint, passed
from aie.exercises.forms import grade_claims, grade_open

# -- reading the tables -------------------------------------------------------------------------


def amplify_value(row_id: str) -> float:
    """The ``value`` of one row of the Amplify table, by its ``id``."""
    from aie import data

    df = data.load("amplify_survey").set_index("id")
    return float(df.loc[row_id, "value"])


def aiewf_value(row_id: str) -> float:
    """The ``value`` of one row of the World's Fair table, by its ``id``."""
    from aie import data

    df = data.load("aiewf_2025").set_index("id")
    return float(df.loc[row_id, "value"])


def so_percent(year: int, question_id: str, cohort: str, responses: list[str] | None = None,
               series: str | None = None) -> float:
    """Sum of the published percentages of the given responses (all when None) in the Stack Overflow table."""
    from aie import data

    df = data.load("stackoverflow_ai")
    sel = df[(df.year == year) & (df.question_id == question_id) & (df.cohort == cohort)]
    sel = sel[sel.series.isna()] if series is None else sel[sel.series == series]
    if responses is not None:
        missing = set(responses) - set(sel.response)
        if missing:
            raise KeyError(f"{year} {question_id} {cohort}: no response(s) {sorted(missing)}")
        sel = sel[sel.response.isin(responses)]
    if sel.empty:
        raise KeyError(f"{year} {question_id} {cohort}: no rows")
    return round(float(sel.percent.sum()), 2)


USE_2025 = ["Yes, I use AI tools daily", "Yes, I use AI tools weekly", "Yes, I use AI tools monthly or infrequently"]
TRUST = ["Highly trust", "Somewhat trust"]
FAVOURABLE = ["Very favorable", "Favorable"]


# -- grading helpers ----------------------------------------------------------------------------


def _number(answer: Any) -> float:
    if isinstance(answer, bool) or not isinstance(answer, Real):
        raise TypeError(f"expected a number, got {type(answer).__name__} {answer!r}")
    return float(answer)


def _grade(answer: Any, right: float, tol: float, wrong: list[tuple[float, str]], general: str,
           success: str, percent: bool = True) -> Feedback:
    """Pass ``right`` (within ``tol``); name the first typical wrong answer that matches; else ``general``."""
    value = _number(answer)
    if close(value, right, tol):
        return passed(success)
    if percent and abs(right) > 1 and close(value * 100, right, tol):
        return hint("that looks like a fraction (0-1); the question asks for a percentage (0-100): multiply by 100.")
    for candidate, message in wrong:
        if close(value, candidate, tol) or (percent and abs(candidate) > 1 and close(value * 100, candidate, tol)):
            return hint(message)
    return hint(general)


# -- notebook 1: who AI engineers are ------------------------------------------------------------


def _verdict(flag: bool) -> str:
    return "supported" if flag else "contradicted"


@exercise("survey-who-claims")
@placeholders
def check_who_claims(answer: Any) -> Feedback:
    """Four claims about who answered the 2025-2026 surveys, each checked against the tables."""
    from aie import data

    y25, y26 = amplify_value("2025-experience-10y-software-3y-ai"), amplify_value("2026-experience-10y-software-3y-ai")
    total, staff = aiewf_value("attendees"), aiewf_value("role-principal-staff")
    roles = data.load("aiewf_2025")
    listed = float(roles.loc[roles.category == "attendee role", "value"].sum())
    truth = {"A": _verdict(y26 > 50), "B": _verdict(abs(100 * (y26 - y25) / y25 - 1) < 0.05),
             "C": _verdict(total * staff / 100 > 600), "D": _verdict(abs(listed - 100) < 0.5)}
    why = {
        "A": f"the 2026 row says {y26:g}%; compare it with 50.",
        "B": f"{y25:g}% -> {y26:g}% is {y26 - y25:g} percentage point, a relative rise of {100 * (y26 - y25) / y25:.0f}%: "
             "'rose by 1%' confuses the two.",
        "C": f"multiply the attendance ({total:,.0f}) by the principal/staff share ({staff:g}%), divided by 100.",
        "D": f"add the four 'attendee role' shares: {listed:g}%, not 100%; the rest are roles the recap does not list.",
    }
    return grade_claims(answer, truth, why, f"right on all four. The roles add up to {listed:g}%: shares that do not "
                        "reach 100% are a reason to read the source again, never to rescale.")


OPEN_TABLES = {"amplify_survey": "id", "aiewf_2025": "id", "stackoverflow_ai": "question_id"}


@exercise("survey-who-open")
@placeholders
def check_claim_review(answer: Any) -> Feedback:
    """Open-ended: a claim of the learner's choice, checked against named rows of a course table."""
    from aie import data

    problem = grade_open(answer, {"claim": 5, "table": 0, "rows": 0, "verdict": 0, "why": 15},
                         placeholder_words={"...", "your claim"})
    if problem is not None:
        return problem
    table = answer["table"]
    if table not in OPEN_TABLES:
        return hint(f"`table` is the name of a course table: one of {sorted(OPEN_TABLES)}.")
    rows = answer["rows"]
    if isinstance(rows, str) or not isinstance(rows, (list, tuple, set)) or not rows:
        return hint("`rows` is a list of the row ids you read (the `id` column, or `question_id` for stackoverflow_ai).")
    known = set(data.load(table)[OPEN_TABLES[table]].astype(str))
    unknown = sorted(set(map(str, rows)) - known)
    if unknown:
        return hint(f"{unknown} are not in the `{OPEN_TABLES[table]}` column of `{table}`: name rows you actually read.")
    if str(answer["verdict"]).strip().lower() not in ("supported", "contradicted", "cannot tell"):
        return hint("`verdict` is 'supported', 'contradicted' or 'cannot tell'.")
    return passed("the shape is right and the rows exist. Now compare your review with the rubric in the solution: "
                  "the checker cannot judge whether the reasoning holds.")


# -- notebook 2: how teams build -----------------------------------------------------------------


@exercise("survey-build-claims")
@placeholders
def check_build_claims(answer: Any) -> Feedback:
    """Three claims about use cases and prompt updates in the 2025 survey."""
    two, three = amplify_value("2025-use-cases-2plus"), amplify_value("2025-use-cases-3plus")
    monthly, daily = amplify_value("2025-prompt-updates-monthly"), amplify_value("2025-prompt-updates-daily")
    truth = {"A": _verdict(abs((two - three) - 12) < 0.5), "B": _verdict(abs(100 * daily / monthly - 10) < 1),
             "C": _verdict(False)}
    why = {
        "A": f"'2 or more' ({two:g}%) includes '3 or more' ({three:g}%): exactly two is the difference.",
        "B": f"the {daily:g}% daily updaters are a share of *all* respondents; among the {monthly:g}% who update at "
             f"least monthly they are {100 * daily / monthly:.1f}%.",
        "C": "daily updaters are already inside 'at least monthly': adding nested groups counts them twice.",
    }
    return grade_claims(answer, truth, why, f"right on all three: nested answers subtract ({two:g} - {three:g}), a "
                        f"subgroup's share divides ({daily:g} / {monthly:g}), and nested groups never add.")


@exercise("survey-build-cost-claims")
@placeholders
def check_cost_claims(answer: Any) -> Feedback:
    """Four claims about cost and prompt management, where some cannot be decided from the tables."""
    regularly, sometimes = amplify_value("2026-cost-regularly"), amplify_value("2026-cost-sometimes")
    truth = {"A": _verdict(abs(regularly + sometimes - 76) < 0.5), "B": "cannot tell", "C": _verdict(regularly > sometimes),
             "D": "cannot tell"}
    why = {
        "A": f"'regularly' and 'sometimes' are two options of one single-choice question: {regularly:g} + {sometimes:g}.",
        "B": f"the other {100 - regularly - sometimes:g}% may have answered 'rarely', 'never' or something else: "
             "the table does not publish those options.",
        "C": f"compare {regularly:g}% (regularly) with {sometimes:g}% (sometimes).",
        "D": "the 2025 figure counts teams with *no* prompt management, the 2026 one teams that *build their own*: "
             "two different questions, possibly asked of different people, so no trend follows.",
    }
    return grade_claims(answer, truth, why, "right on all four. 'Cannot tell' is an answer: a table that does not "
                        "publish an option, or two editions that asked different questions, support no claim.")


# -- notebook 3: agents, modalities, quality -----------------------------------------------------


@exercise("survey-agents-claims")
@placeholders
def check_agents_claims(answer: Any) -> Feedback:
    """Three claims about write access of agents in production, 2025 to 2026."""
    before, after = amplify_value("2025-agents-write-access"), amplify_value("2026-agents-write-access")
    truth = {"A": _verdict(abs(after - before - 37) < 0.5), "B": _verdict(abs(100 * (after - before) / before - 37) < 0.5),
             "C": _verdict(abs(after / before - 1.7) < 0.05)}
    why = {
        "A": f"{after:g}% - {before:g}% is the change in percentage points.",
        "B": f"a rise of {after - before:g} points on a base of {before:g}% is a relative rise of "
             f"{100 * (after - before) / before:.0f}%, not {after - before:g}%.",
        "C": f"divide {after:g} by {before:g}.",
    }
    return grade_claims(answer, truth, why, f"right: +{after - before:g} percentage points, {after / before:.2f} times "
                        "the 2025 share. Say 'points' for differences of percentages.")


@exercise("survey-agents-vector-claims")
@placeholders
def check_vector_claims(answer: Any) -> Feedback:
    """Three claims about vector databases in the 2025 survey."""
    dedicated = amplify_value("2025-vector-db-dedicated")
    self_hosted, third = amplify_value("2025-vector-db-self-hosted"), amplify_value("2025-vector-db-third-party")
    truth = {"A": _verdict(abs(100 * self_hosted / dedicated - 35) < 0.5), "B": _verdict(self_hosted > third), "C": "cannot tell"}
    why = {
        "A": f"{self_hosted:g}% is a share of *all* respondents; of the {dedicated:g}% with a dedicated vector "
             f"database, {100 * self_hosted / dedicated:.1f}% host it themselves.",
        "B": f"compare {self_hosted:g}% (self-hosted) with {third:g}% (third-party).",
        "C": f"the other {100 - dedicated:g}% have no *dedicated* vector database: they may store vectors in "
             "Postgres, a search engine, or nowhere. The table does not say.",
    }
    return grade_claims(answer, truth, why, f"right: {self_hosted:g}% self-host of {dedicated:g}% with a dedicated "
                        f"database ({100 * self_hosted / dedicated:.1f}% of them), and 'no dedicated database' is not "
                        "'no vectors'.")


# -- notebook 4: Stack Overflow ------------------------------------------------------------------


def _so_count(year: int, question_id: str, cohort: str, responses: list[str]) -> int:
    from aie import data

    df = data.load("stackoverflow_ai")
    sel = df[(df.year == year) & (df.question_id == question_id) & (df.cohort == cohort) & df.series.isna()]
    return int(sel[sel.response.isin(responses)]["count"].sum())


DISTRUST = ["Somewhat distrust", "Highly distrust"]


@exercise("survey-so-trust-claims")
@placeholders
def check_trust_claims(answer: Any) -> Feedback:
    """Four claims about trust in the accuracy of AI tools (AIAcc), 2025."""
    trust = so_percent(2025, "AIAcc", "All Respondents", TRUST)
    distrust = so_percent(2025, "AIAcc", "All Respondents", DISTRUST)
    learners = so_percent(2025, "AIAcc", "Learning to Code", TRUST)
    pros = so_percent(2025, "AIAcc", "Professional Developers", TRUST)
    truth = {"A": _verdict(distrust > trust), "B": "cannot tell", "C": _verdict(pros < learners),
             "D": _verdict(abs(trust + distrust - 100) < 0.5)}
    missing = 100 - trust - distrust
    why = {
        "A": f"add the two distrust options ({distrust:.2f}%) and the two trust options ({trust:.2f}%), then compare.",
        "B": f"the {missing:.2f}% in no published option could be neutral, or people who skipped the options the "
             "aggregate publishes: the table does not say who they are.",
        "C": f"professional developers: {pros:.2f}% trust; learning to code: {learners:.2f}%.",
        "D": f"the four published options add up to {trust + distrust:.2f}%.",
    }
    return grade_claims(answer, truth, why, f"right on all four: more distrust ({distrust:.1f}%) than trust "
                        f"({trust:.1f}%), and {missing:.1f}% that the aggregate leaves unexplained.")


@exercise("survey-so-use-claims")
@placeholders
def check_use_claims(answer: Any) -> Feedback:
    """Three claims about AI use and trust among professional developers, 2025 (one needs counts, not shares)."""
    pros_use = so_percent(2025, "AISelect", "Professional Developers", USE_2025)
    early = so_percent(2025, "AISelect", "Early Career Devs", USE_2025[:1])
    experienced = so_percent(2025, "AISelect", "Experienced Devs", USE_2025[:1])
    users = _so_count(2025, "AISelect", "Professional Developers", USE_2025)
    trusting = _so_count(2025, "AIAcc", "Professional Developers", TRUST)
    truth = {"A": _verdict(pros_use > 80), "B": _verdict(early > experienced), "C": _verdict(trusting / users > 0.5)}
    why = {
        "A": f"add daily, weekly and monthly/infrequent use for professional developers: {pros_use:.2f}%.",
        "B": f"daily use: early career {early:.2f}%, experienced {experienced:.2f}%.",
        "C": f"even if every one of the {trusting:,} professionals who trust AI accuracy is a user, they are at most "
             f"{100 * trusting / users:.1f}% of the {users:,} professional users: fewer than half.",
    }
    return grade_claims(answer, truth, why, f"right on all three. C needed counts: at most {100 * trusting / users:.0f}% "
                        "of professional users trust the accuracy of what they use, whatever the overlap.")


@exercise("survey-so-3")
def check_favourable_what_if(answer: Any) -> Feedback:
    """2025, All Respondents: the favourable share of AISent if the respondents who do not plan to use AI tools
    (AISelect) all answered AISent and none of them was favourable."""
    from aie import data

    df = data.load("stackoverflow_ai")
    sent = df[(df.year == 2025) & (df.question_id == "AISent") & (df.cohort == "All Respondents")]
    sel = df[(df.year == 2025) & (df.question_id == "AISelect") & (df.cohort == "All Respondents")]
    favourable = int(sent[sent.response.isin(FAVOURABLE)]["count"].sum())
    n_sent = int(sent.n.iloc[0])
    n_select = int(sel.n.iloc[0])
    never = int(sel.loc[sel.response == "No, and I don't plan to", "count"].iloc[0])
    right = 100 * favourable / (n_sent - never)
    published = 100 * favourable / n_sent
    last_year = so_percent(2024, "AISent", "All Respondents", FAVOURABLE)
    return _grade(
        answer, right, 0.05,
        wrong=[(published, f"{published:.1f}% is the published share (favourable / all {n_sent:,}); remove the "
                           f"{never:,} who do not plan to use AI tools from the denominator."),
               (100 * favourable / (n_select - never), f"you subtracted from the AISelect n ({n_select:,}); the "
                                                        f"denominator is the AISent n ({n_sent:,}) minus {never:,}."),
               (last_year, f"{last_year:g}% is the 2024 share; compute the 2025 what-if share."),
               (100 * (favourable - never) / (n_sent - never), "none of the removed respondents was favourable, so "
                                                               "the numerator stays the same; only the denominator shrinks.")],
        general="favourable count (Very favorable + Favorable) / (AISent n - the count of 'No, and I don't plan to' in AISelect) x 100.",
        success=f"about {right:.1f}%, against {published:.1f}% as published and {last_year:g}% in 2024: how much sentiment "
                "fell depends on who the 2025 question reached, which the aggregate does not say.",
    )
