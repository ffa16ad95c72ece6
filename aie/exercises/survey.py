"""Checkers for the survey-data notebooks (``notebooks/survey/``).

Every right answer is computed from the course tables (``aie.data.load``), not typed in, so a
corrected table corrects its exercises. Each checker recognises the typical wrong answers (a
fraction where a percentage was asked, the other year, the wrong base, a relative change where
percentage points were asked) and says which one it is.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from aie.check import Feedback, close, exercise, hint, passed

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


@exercise("survey-who-1")
def check_experience_2026(answer: Any) -> Feedback:
    """2026: percentage of respondents with 10+ years in software but 3 or fewer in AI."""
    right = amplify_value("2026-experience-10y-software-3y-ai")
    old = amplify_value("2025-experience-10y-software-3y-ai")
    return _grade(
        answer, right, 0.5,
        wrong=[(old, f"{old:g} is the 2025 figure (and only 'about half'); the question asks about the 2026 edition.")],
        general="filter the Amplify table to edition 2026 and topic 'experience', then read `value`.",
        success=f"{right:g}% in the 2026 edition. Note that its base is not stated.",
    )


@exercise("survey-who-2")
def check_principal_staff(answer: Any) -> Feedback:
    """AIEWF 2025: number of attendees who were principal or staff engineers (rounded to a whole person)."""
    total = aiewf_value("attendees")
    share = aiewf_value("role-principal-staff")
    right = total * share / 100
    value = _number(answer)
    if abs(value - right) <= 1:
        return passed(f"about {round(right):,} of the {total:,.0f} attendees ({share:g}%).")
    if close(value, share, 0.01) or close(value, share / 100, 0.001):
        return hint("that is the share; the question asks for a number of people: multiply the share by the attendance.")
    for rid, label in [("role-senior", "senior engineers"), ("role-c-level", "C-level attendees"), ("role-executives", "executives")]:
        if abs(value - total * aiewf_value(rid) / 100) <= 1:
            return hint(f"that is the number of {label}; use the principal/staff row.")
    if abs(value - total * share) <= 100:
        return hint("the share is a percentage: divide it by 100 before multiplying by the attendance.")
    return hint("multiply the attendance (3,098 in the table) by the principal/staff share, divided by 100.")


@exercise("survey-who-3")
def check_roles_unaccounted(answer: Any) -> Feedback:
    """AIEWF 2025: percentage of attendees whose role the recap does not break down."""
    from aie import data

    df = data.load("aiewf_2025")
    listed = float(df.loc[df.category == "attendee role", "value"].sum())
    right = 100 - listed
    return _grade(
        answer, right, 0.01,
        wrong=[(listed, f"{listed:g}% is the share the recap does break down; the question asks for the rest.")],
        general="add up the `value` of the 'attendee role' rows and subtract the total from 100.",
        success=f"{right:g}% of attendees are in roles the recap does not list. Shares that do not add up to 100% "
                "are a signal to read the source again, not to rescale.",
    )


# -- notebook 2: how teams build -----------------------------------------------------------------


@exercise("survey-build-1")
def check_exactly_two_use_cases(answer: Any) -> Feedback:
    """2025: percentage of LLM users with exactly two use cases."""
    two = amplify_value("2025-use-cases-2plus")
    three = amplify_value("2025-use-cases-3plus")
    right = two - three
    return _grade(
        answer, right, 0.01,
        wrong=[(100 - two, f"{100 - two:g}% have fewer than two use cases (100 - {two:g}); the question asks for exactly two."),
               (two, f"{two:g}% have two *or more*; subtract those with three or more."),
               (three, f"{three:g}% have three or more; subtract them from those with two or more.")],
        general="'2 or more' includes '3 or more': subtract the second from the first.",
        success=f"{right:g}% use LLMs for exactly two use cases: {two:g}% (2+) minus {three:g}% (3+).",
    )


@exercise("survey-build-2")
def check_daily_among_monthly(answer: Any) -> Feedback:
    """2025: of teams that update prompts at least monthly, the percentage that update them daily."""
    monthly = amplify_value("2025-prompt-updates-monthly")
    daily = amplify_value("2025-prompt-updates-daily")
    right = 100 * daily / monthly
    return _grade(
        answer, right, 0.1,
        wrong=[(daily, f"{daily:g}% is the share of *all* respondents; the question asks for a share of the {monthly:g}% "
                       "who update at least monthly: divide by that base."),
               (daily * monthly / 100, "you multiplied the two shares; a share of a subgroup needs a division."),
               (monthly - daily, "a difference of two shares is in percentage points, not a share of a subgroup.")],
        general="daily updaters are a subset of monthly-or-more updaters: divide the daily share by the monthly share, times 100.",
        success=f"about {right:.1f}%: {daily:g} / {monthly:g} x 100, assuming both figures share the same base.",
    )


@exercise("survey-build-3")
def check_cost_at_least_sometimes(answer: Any) -> Feedback:
    """2026: percentage of respondents for whom cost shapes AI use regularly or sometimes."""
    regularly = amplify_value("2026-cost-regularly")
    sometimes = amplify_value("2026-cost-sometimes")
    right = regularly + sometimes
    return _grade(
        answer, right, 0.01,
        wrong=[(regularly, f"{regularly:g}% is 'regularly' only; 'at least sometimes' adds 'sometimes'."),
               (sometimes, f"{sometimes:g}% is 'sometimes' only; add 'regularly'."),
               (100 - right, "that is the share for whom cost does *not* shape use regularly or sometimes.")],
        general="the two options are answers to one single-choice question, so they can be added.",
        success=f"{right:g}%: {regularly:g}% regularly plus {sometimes:g}% sometimes (one answer each, so adding is allowed).",
    )


# -- notebook 3: agents, modalities, quality -----------------------------------------------------


@exercise("survey-agents-1")
def check_write_access_change(answer: Any) -> Feedback:
    """Change in the share of agents in production with write access, 2025 to 2026, in percentage points."""
    before = amplify_value("2025-agents-write-access")
    after = amplify_value("2026-agents-write-access")
    right = after - before
    relative = 100 * (after - before) / before
    return _grade(
        answer, right, 0.01,
        wrong=[(relative, f"{relative:.1f}% is the *relative* change; the question asks for percentage points: "
                          "subtract the two percentages."),
               (-right, "check the sign: the share went up from 2025 to 2026."),
               (after, f"{after:g}% is the 2026 level; subtract the 2025 level."),
               (after / before, "that is the ratio of the two shares; the question asks for the difference.")],
        general="percentage points = 2026 percentage minus 2025 percentage.",
        success=f"+{right:g} percentage points ({before:g}% -> {after:g}%), a relative rise of {relative:.0f}%.",
    )


@exercise("survey-agents-2")
def check_self_hosted_share(answer: Any) -> Feedback:
    """2025: of respondents with a dedicated vector database, the percentage that self-host it."""
    dedicated = amplify_value("2025-vector-db-dedicated")
    self_hosted = amplify_value("2025-vector-db-self-hosted")
    right = 100 * self_hosted / dedicated
    return _grade(
        answer, right, 0.1,
        wrong=[(self_hosted, f"{self_hosted:g}% is a share of *all* respondents; divide by the {dedicated:g}% who have a "
                             "dedicated vector database."),
               (100 - right, "that is the third-party share; the question asks about self-hosting."),
               (self_hosted * dedicated / 100, "you multiplied; a share of a subgroup needs a division.")],
        general="self-hosted / dedicated x 100: the subgroup's share of the group it belongs to.",
        success=f"about {right:.1f}% of those with a dedicated vector database host it themselves.",
    )


# -- notebook 4: Stack Overflow ------------------------------------------------------------------


@exercise("survey-so-1")
def check_trust_gap_2025(answer: Any) -> Feedback:
    """2025 AIAcc, All Respondents: percentage of respondents in no published answer option."""
    listed = so_percent(2025, "AIAcc", "All Respondents")
    right = round(100 - listed, 2)
    return _grade(
        answer, right, 0.05,
        wrong=[(listed, f"{listed:g}% is the sum of the published options; the question asks for what is missing from 100%."),
               (0, "the published shares do not add up to 100%: sum them and look again.")],
        general="sum `percent` over the 2025 AIAcc rows for All Respondents and subtract the sum from 100.",
        success=f"{right:g}% of the 2025 respondents are in no published option. The aggregate does not say who they "
                "are (a neutral answer? people who do not use AI tools?), so say so; do not quietly rescale to 100%.",
    )


@exercise("survey-so-2")
def check_professional_use_2025(answer: Any) -> Feedback:
    """2025: percentage of Professional Developers who use AI tools (daily, weekly, or monthly/infrequently)."""
    right = so_percent(2025, "AISelect", "Professional Developers", USE_2025)
    everyone = so_percent(2025, "AISelect", "All Respondents", USE_2025)
    learners = so_percent(2025, "AISelect", "Learning to Code", USE_2025)
    pros_2024 = so_percent(2024, "AISelect", "Professional Developers", ["Yes"])
    daily = so_percent(2025, "AISelect", "Professional Developers", USE_2025[:1])
    return _grade(
        answer, right, 0.05,
        wrong=[(everyone, f"{everyone:g}% is All Respondents; filter the cohort to 'Professional Developers'."),
               (learners, f"{learners:g}% is the 'Learning to Code' cohort; the question asks about professionals."),
               (pros_2024, f"{pros_2024:g}% is the 2024 figure; the question asks about 2025."),
               (daily, f"{daily:g}% is daily use only; add weekly and monthly/infrequent use.")],
        general="in 2025 'yes' is split into daily, weekly and monthly/infrequent: add the three for the professional cohort.",
        success=f"{right:g}% of professional developers used AI tools in 2025 (All Respondents: {everyone:g}%).",
    )


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
