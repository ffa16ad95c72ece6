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


def right_answers() -> dict[str, float]:
    roles = data.load("aiewf_2025")
    pros = so(2025, "AISelect", "Professional Developers")
    sent, select = so(2025, "AISent"), so(2025, "AISelect")
    favourable = sent.loc[sent.response.isin(["Very favorable", "Favorable"]), "count"].sum()
    never = select.loc[select.response == "No, and I don't plan to", "count"].iloc[0]
    return {
        "survey-who-1": amplify("2026-experience-10y-software-3y-ai"),
        "survey-who-2": round(fair("attendees") * fair("role-principal-staff") / 100),
        "survey-who-3": 100 - roles.loc[roles.category == "attendee role", "value"].sum(),
        "survey-build-1": amplify("2025-use-cases-2plus") - amplify("2025-use-cases-3plus"),
        "survey-build-2": 100 * amplify("2025-prompt-updates-daily") / amplify("2025-prompt-updates-monthly"),
        "survey-build-3": amplify("2026-cost-regularly") + amplify("2026-cost-sometimes"),
        "survey-agents-1": amplify("2026-agents-write-access") - amplify("2025-agents-write-access"),
        "survey-agents-2": 100 * amplify("2025-vector-db-self-hosted") / amplify("2025-vector-db-dedicated"),
        "survey-so-1": 100 - so(2025, "AIAcc").percent.sum(),
        "survey-so-2": pros.loc[pros.response.str.startswith("Yes"), "percent"].sum(),
        "survey-so-3": 100 * favourable / (sent.n.iloc[0] - never),
    }


# (exercise id, a typical wrong answer, a phrase its hint must contain)
WRONG = [
    ("survey-who-1", 50, "2025 figure"),
    ("survey-who-1", 0.51, "fraction"),
    ("survey-who-2", 22, "that is the share"),
    ("survey-who-2", 527, "senior engineers"),
    ("survey-who-2", 68156, "divide it by 100"),
    ("survey-who-3", 76, "does break down"),
    ("survey-who-3", 0.24, "fraction"),
    ("survey-build-1", 6, "fewer than two"),
    ("survey-build-1", 94, "or more"),
    ("survey-build-2", 10, "*all* respondents"),
    ("survey-build-2", 7, "multiplied"),
    ("survey-build-2", 0.1429, "fraction"),
    ("survey-build-3", 40, "'regularly' only"),
    ("survey-build-3", 0.76, "fraction"),
    ("survey-agents-1", 71.15, "relative"),
    ("survey-agents-1", -37, "sign"),
    ("survey-agents-1", 89, "2026 level"),
    ("survey-agents-2", 35, "*all* respondents"),
    ("survey-agents-2", 46.15, "third-party"),
    ("survey-so-1", 78.48, "sum of the published options"),
    ("survey-so-1", 0.2152, "fraction"),
    ("survey-so-2", 78.48, "All Respondents"),
    ("survey-so-2", 73.31, "Learning to Code"),
    ("survey-so-2", 63.17, "2024 figure"),
    ("survey-so-2", 50.62, "daily use only"),
    ("survey-so-3", 59.7, "published share"),
    ("survey-so-3", 70.71, "AISelect n"),
    ("survey-so-3", 71.97, "2024 share"),
]


def test_every_survey_checker_is_registered():
    assert {k for k in REGISTRY if k.startswith("survey-")} == set(right_answers())


@pytest.mark.parametrize("exercise_id", sorted(right_answers()))
def test_right_answer_passes(exercise_id):
    feedback = REGISTRY[exercise_id](right_answers()[exercise_id])
    assert feedback.passed, feedback.message


@pytest.mark.parametrize(("exercise_id", "answer", "phrase"), WRONG)
def test_typical_wrong_answer_gets_its_specific_hint(exercise_id, answer, phrase):
    feedback = REGISTRY[exercise_id](answer)
    assert not feedback.passed
    assert phrase in feedback.message, feedback.message


@pytest.mark.parametrize("exercise_id", sorted(right_answers()))
def test_placeholder_and_nonsense_are_hints_not_errors(exercise_id):
    checker = REGISTRY[exercise_id]
    assert "no answer yet" in checker(...).message
    for nonsense in ("ten", True, [1, 2]):
        feedback = checker(nonsense)
        assert not feedback.passed
    assert not checker(12345.0).passed


def test_wrong_answers_are_really_wrong():
    """Guard the table above: no 'typical wrong answer' is within tolerance of the right one."""
    right = right_answers()
    for exercise_id, answer, _ in WRONG:
        assert abs(answer - right[exercise_id]) > 0.05, (exercise_id, answer)


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
                solution = cells[i + 1]
                shown = json.dumps(solution.get("outputs", []))
                assert "Correct" in shown, f"{path.name}: the stored solution after cell {i} does not pass"
    assert labels == set(right_answers()), labels ^ set(right_answers())
    assert len(NOTEBOOKS) >= 4
