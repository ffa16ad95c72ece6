"""The survey exercise checkers: a right answer passes, typical wrong answers get their specific hint.

Right answers are computed here from the tables with plain pandas, independently of the checkers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import aie
import aie.exercises.survey as ex
from aie import data
from aie.check import REGISTRY

REPO = Path(aie.__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks" / "survey").glob("*.ipynb"))


@pytest.fixture(autouse=True)
def _real_datasets(monkeypatch):
    monkeypatch.delenv("AIE_DATASETS", raising=False)


def amplify(row_id: str) -> float:
    return float(data.load("amplify_survey").set_index("id").loc[row_id, "value"])


def fair(row_id: str) -> float:
    return float(data.load("aiewf_2025").set_index("id").loc[row_id, "value"])


def so(year: int, qid: str, cohort: str = "All Respondents"):
    df = data.load("stackoverflow_ai")
    return df[(df.year == year) & (df.question_id == qid) & (df.cohort == cohort) & df.series.isna()]


S, C, U = "supported", "contradicted", "cannot tell"


def right_answers() -> dict:
    sent, select = so(2025, "AISent"), so(2025, "AISelect")
    favourable = sent.loc[sent.response.isin(["Very favorable", "Favorable"]), "count"].sum()
    never = select.loc[select.response == "No, and I don't plan to", "count"].iloc[0]
    roles = data.load("aiewf_2025")
    listed = roles.loc[roles.category == "attendee role", "value"].sum()
    acc = so(2025, "AIAcc")
    trust = acc[acc.response.isin(["Highly trust", "Somewhat trust"])].percent.sum()
    pros = so(2025, "AISelect", "Professional Developers")
    users = pros.loc[pros.response.str.startswith("Yes"), "count"].sum()
    pro_acc = so(2025, "AIAcc", "Professional Developers")
    trusting = pro_acc.loc[pro_acc.response.isin(["Highly trust", "Somewhat trust"]), "count"].sum()
    return {
        "survey-who-claims": {"A": S if amplify("2026-experience-10y-software-3y-ai") > 50 else C, "B": C,
                              "C": S if fair("attendees") * fair("role-principal-staff") / 100 > 600 else C,
                              "D": S if listed == 100 else C},
        "survey-who-open": {"claim": "Most AI engineers are new to software.", "table": "amplify_survey",
                            "rows": ["2026-experience-10y-software-3y-ai"], "verdict": "contradicted",
                            "why": "In 2026, 51% of respondents had ten or more years in software but three or fewer "
                                   "in AI; the base is not stated."},
        "survey-build-claims": {"A": S, "B": C, "C": C},
        "survey-build-cost-claims": {"A": S, "B": U, "C": S, "D": U},
        "survey-agents-claims": {"A": S, "B": C, "C": S},
        "survey-agents-vector-claims": {"A": C, "B": S, "C": U},
        "survey-so-trust-claims": {"A": S if acc.percent.sum() - trust > trust else C,
                                   "B": U, "C": S, "D": C},
        "survey-so-use-claims": {"A": S if pros.loc[pros.response.str.startswith("Yes"), "percent"].sum() > 80 else C,
                                 "B": S, "C": S if trusting / users > 0.5 else C},
        "survey-so-3": 100 * favourable / (sent.n.iloc[0] - never),
    }


def flip(verdicts: dict, letter: str, to: str) -> dict:
    return {**verdicts, letter: to}


# (exercise id, a function of the right answer giving a typical wrong one, a phrase its hint must contain)
WRONG = [
    ("survey-who-claims", lambda r: flip(r, "B", S), "relative rise"),
    ("survey-who-claims", lambda r: flip(r, "D", S), "not 100%"),
    ("survey-who-claims", lambda r: {k: v for k, v in r.items() if k != "D"}, "missing"),
    ("survey-who-claims", lambda r: flip(r, "A", "yes"), "a verdict is one of"),
    ("survey-who-open", lambda r: {**r, "table": "amplify"}, "name of a course table"),
    ("survey-who-open", lambda r: {**r, "rows": ["2027-made-up-row"]}, "not in the `id` column"),
    ("survey-who-open", lambda r: {**r, "why": "it is wrong"}, "15+ words"),
    ("survey-who-open", lambda r: {**r, "verdict": "maybe"}, "`verdict` is"),
    ("survey-who-open", lambda r: {**r, "why": ...}, "still holds `...`"),
    ("survey-build-claims", lambda r: flip(r, "B", S), "among the 70%"),
    ("survey-build-claims", lambda r: flip(r, "C", S), "counts them twice"),
    ("survey-build-claims", lambda r: flip(r, "A", C), "includes '3 or more'"),
    ("survey-build-cost-claims", lambda r: flip(r, "B", S), "does not publish"),
    ("survey-build-cost-claims", lambda r: flip(r, "D", S), "two different questions"),
    ("survey-agents-claims", lambda r: flip(r, "B", S), "relative rise of 71%"),
    ("survey-agents-vector-claims", lambda r: flip(r, "A", S), "share of *all* respondents"),
    ("survey-agents-vector-claims", lambda r: flip(r, "C", S), "does not say"),
    ("survey-so-trust-claims", lambda r: flip(r, "B", S), "does not say who they are"),
    ("survey-so-trust-claims", lambda r: flip(r, "D", S), "add up to 78.48%"),
    ("survey-so-use-claims", lambda r: flip(r, "C", U), "fewer than half"),
    ("survey-so-use-claims", lambda r: flip(r, "C", S), "fewer than half"),
    ("survey-so-3", lambda r: 59.7, "published share"),
    ("survey-so-3", lambda r: 70.71, "AISelect n"),
    ("survey-so-3", lambda r: 71.97, "2024 share"),
]


def test_every_survey_checker_is_registered():
    assert {k for k in REGISTRY if k.startswith("survey-")} == set(right_answers())


@pytest.mark.parametrize("exercise_id", sorted(right_answers()))
def test_right_answer_passes(exercise_id):
    feedback = REGISTRY[exercise_id](right_answers()[exercise_id])
    assert feedback.passed, feedback.message


@pytest.mark.parametrize(("exercise_id", "wrong", "phrase"), WRONG)
def test_typical_wrong_answer_gets_its_specific_hint(exercise_id, wrong, phrase):
    answer = wrong(right_answers()[exercise_id])
    assert answer != right_answers()[exercise_id]
    feedback = REGISTRY[exercise_id](answer)
    assert not feedback.passed
    assert phrase in feedback.message, feedback.message


@pytest.mark.parametrize("exercise_id", sorted(right_answers()))
def test_placeholder_and_nonsense_are_hints_not_errors(exercise_id):
    checker = REGISTRY[exercise_id]
    assert "no answer yet" in checker(...).message
    for nonsense in ("ten", True, [1, 2], 12345.0, {"A": ...}):
        feedback = checker(nonsense)
        assert not feedback.passed


@pytest.mark.parametrize("exercise_id", [k for k in sorted(right_answers()) if k.endswith("claims")])
def test_the_untouched_learner_cell_says_no_answer_yet(exercise_id):
    blank = {k: ... for k in right_answers()[exercise_id]}
    assert "no answer yet" in REGISTRY[exercise_id](blank).message


def test_open_ended_review_accepts_stackoverflow_question_ids():
    review = {**right_answers()["survey-who-open"], "table": "stackoverflow_ai", "rows": ["AIAcc"]}
    assert REGISTRY["survey-who-open"](review).passed


def test_every_notebook_exercise_has_a_checker_and_a_passing_stored_solution():
    labels = set()
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        for i, cell in enumerate(cells):
            source = "".join(cell["source"])
            m = re.search(r":label: (survey-[\w-]+)", source)
            if cell["cell_type"] == "markdown" and m:
                labels.add(m.group(1))
            if cell["cell_type"] == "markdown" and source.startswith(":::{solution-start}"):
                solution = next(c for c in cells[i + 1:] if c["cell_type"] == "code")
                shown = json.dumps(solution.get("outputs", []))
                assert "Correct" in shown, f"{path.name}: the stored solution after cell {i} does not pass"
    assert labels == set(right_answers()), labels ^ set(right_answers())
    assert len(NOTEBOOKS) >= 4
