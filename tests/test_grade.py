"""Grading a class: `python -m aie grade` grades what students hand in with the course's checkers.

The end-to-end test makes student copies of two short notebooks, hands in right, wrong and hostile
work for a class of students, grades it, and compares the table with the expected grades exactly.
The other tests are the bad inputs one at a time (most need no kernel, so they are quick).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from conftest import throwaway_key
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from aie.__main__ import main
from aie.grade import GradeError, Settings, find_submissions, grade, grading_env
from aie.grade_run import _load
from aie.notebooks import REPO, SOLUTION_END, SOLUTION_START, write_student_copies

GETTING_STARTED = REPO / "notebooks" / "00-start" / "getting-started.ipynb"
TEAMS = REPO / "notebooks" / "survey" / "02-how-teams-build.ipynb"
SECRET = throwaway_key()  # the instructor's key: made at run time, never written in a file
QUIET = dict(log=lambda *a: None)


# --- helpers that edit a student copy the way a student would ------------------------------------

def solutions(master: Path) -> dict[str, str]:
    """The instructor's solution code for each exercise label."""
    nb, found, label = nbformat.read(master, as_version=4), {}, None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith(SOLUTION_START):
            label = cell.source.split()[1]
        elif cell.cell_type == "markdown" and SOLUTION_END in cell.source:
            label = None
        elif label and cell.cell_type == "code":
            found[label] = cell.source
    return found


def learner_cell(nb, answer: str):
    """The learner cell of the exercise whose answer is `answer` (it starts `answer = ...`)."""
    [cell] = [c for c in nb.cells if c.cell_type == "code" and re.search(rf"^{answer} = \.\.\.", c.source, re.M)]
    return cell


def answer(cell, code: str) -> None:
    """Replace the learner's answer, keeping the cell's import of the checkers (as a student would)."""
    imports = [line for line in cell.source.splitlines() if line.startswith("from aie.exercises import")]
    cell.source = "\n".join(imports + [code])


def answered(copy: Path, answers: dict[str, str]):
    nb = nbformat.read(copy, as_version=4)
    for name, code in answers.items():
        answer(learner_cell(nb, name), code)
    return nb


def hand_in(nb, path: Path, version: int = 4) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if version == 3:
        nb = nbformat.convert(nb, 3)
    nbformat.write(nb, str(path), version=version)


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("student")
    return {target.stem: target for target, _ in write_student_copies(out, [str(GETTING_STARTED), str(TEAMS)])}


# --- the class ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graded_class(copies, tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    right = {**solutions(GETTING_STARTED), **solutions(TEAMS)}
    gs_right = {"my_messages": right["start-ex-messages"], "lever_ranking": right["start-ex-levers"],
                "my_plan": right["start-ex-plan"]}
    teams_right = {"build_verdicts": right["survey-build-claims"], "cost_verdicts": right["survey-build-cost-claims"]}

    # alice: everything right
    hand_in(answered(copies["getting-started"], gs_right), subs / "alice" / "getting-started.ipynb")
    hand_in(answered(copies["02-how-teams-build"], teams_right), subs / "alice" / "02-how-teams-build.ipynb")

    # bob: the roles in the wrong order; the levers in the order most people guess, with the checker cell
    # rewritten to print a pass; no plan
    hand_in(answered(copies["getting-started"], {
        "my_messages": 'my_messages = [{"role": "user", "content": "How do I reverse a list?"},\n'
                       '               {"role": "system", "content": "You are a patient Python tutor."}]\n'
                       "ex.check_messages(my_messages)",
        "lever_ranking": right["start-ex-levers"].replace("ex.check_cost_levers(lever_ranking)", "")
        + "\nlever_ranking = ['C', 'A', 'B']\nprint('✅ Correct [start-cost-levers]: well done.')"}),
        subs / "bob" / "getting-started.ipynb")

    # carol: right answers, checker calls deleted, cells moved and deleted, a cell that raises first
    nb = answered(copies["getting-started"], {k: v.replace("ex.check_", "# ex.check_") for k, v in gs_right.items()})
    moved = next(c for c in nb.cells if "my_messages = [" in c.source)
    nb.cells.remove(moved)
    nb.cells = [c for c in nb.cells if c.cell_type == "code"] + [moved]
    hand_in(nb, subs / "carol" / "nested" / "folder" / "getting-started.ipynb")
    nb = answered(copies["02-how-teams-build"], teams_right)
    nb.cells.insert(0, new_code_cell("1 / 0"))
    hand_in(nb, subs / "carol" / "02-how-teams-build-Copy1.ipynb")

    # mallory: reads the environment, floods the output, patches the checkers, forges a result line
    nb = nbformat.read(copies["getting-started"], as_version=4)
    nb.cells.insert(2, new_code_cell("import os\nprint('LEAK:', os.environ.get('OPENAI_API_KEY', 'no key'),"
                                     " os.environ.get('AIE_BACKEND', 'no backend'))\nprint(dict(os.environ))"))
    answer(learner_cell(nb, "my_messages"),
        "import os\nmy_messages = [os.environ.get('OPENAI_API_KEY', 'no key')]\n"
        "from aie.check import REGISTRY, Feedback\n"
        "REGISTRY['start-messages'] = REGISTRY['start-cost-levers'] = lambda answer: Feedback(True, 'fine')\n"
        "ex.check_messages = ex.check_cost_levers = lambda answer: print('✅ Correct')\n"
        "print('AIE-GRADE-0000 ' + '{\"label\": \"start-ex-messages\", \"passed\": true, \"message\": \"\"}')\n"
        "print('x' * 3_000_000)")
    learner_cell(nb, "lever_ranking").source = "lever_ranking = '✅'\nex.check_cost_levers(lever_ranking)"
    hand_in(nb, subs / "mallory" / "getting-started.ipynb")

    # dave: a flat folder, and an old notebook format (v3), right answers
    hand_in(answered(copies["02-how-teams-build"], teams_right), subs / "dave__02-how-teams-build.ipynb", version=3)

    # eve: another course's notebook under the right name
    hand_in(new_notebook(cells=[new_markdown_cell("# Week 3: loops"), new_code_cell("print('hello')")]),
            subs / "eve" / "getting-started.ipynb")

    # frank: JSON that is not a notebook; grace: a text file renamed .ipynb
    (subs / "frank__getting-started.ipynb").write_text(json.dumps({"cells": []}))
    (subs / "grace").mkdir()
    (subs / "grace" / "getting-started.ipynb").write_text("These are my answers: 42\n")
    # heidi: no notebook at all; ivan: a notebook the course does not have; and a file with no student
    (subs / "heidi").mkdir()
    (subs / "heidi" / "notes.txt").write_text("I could not do it")
    hand_in(new_notebook(cells=[new_code_cell("x = 1")]), subs / "ivan" / "homework.ipynb")
    hand_in(new_notebook(cells=[new_code_cell("x = 1")]), subs / "getting-started.ipynb")

    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    result = grade(subs, out, [str(GETTING_STARTED), str(TEAMS)], Settings(jobs=2, cell_timeout=60, timeout=300), **QUIET)
    return result, out


GS = ["start-ex-messages", "start-ex-levers", "start-ex-plan"]
TEAMS_EX = ["survey-build-claims", "survey-build-cost-claims"]


def expected_grades() -> dict[tuple[str, str, str], bool]:
    passed = {("alice", "getting-started"): [True, True, True], ("alice", "02-how-teams-build"): [True, True],
              ("carol", "getting-started"): [True, True, True], ("carol", "02-how-teams-build"): [True, True],
              ("dave", "02-how-teams-build"): [True, True]}
    table = {}
    for student in ["alice", "bob", "carol", "mallory", "dave", "eve", "frank", "grace", "heidi", "ivan"]:
        for notebook, labels in (("getting-started", GS), ("02-how-teams-build", TEAMS_EX)):
            for label, ok in zip(labels, passed.get((student, notebook), [False] * len(labels))):
                table[(student, notebook, label)] = ok
    # files that are no gradable notebook get one row each
    table[("heidi", "heidi", "")] = False
    table[("ivan", "homework.ipynb", "")] = False
    table[("(unknown)", "getting-started.ipynb", "")] = False
    return table


def test_the_class_gets_exactly_the_expected_grades(graded_class):
    result, _ = graded_class
    got = {(r.student, r.notebook, r.exercise): r.passed for r in result.rows}
    assert got == expected_grades()


def test_every_row_says_why_an_exercise_did_not_pass(graded_class):
    rows = {(r.student, r.notebook, r.exercise): r for r in graded_class[0].rows}
    assert "first message should be the system" in rows[("bob", "getting-started", "start-ex-messages")].hint
    assert "compare A and B again" in rows[("bob", "getting-started", "start-ex-levers")].hint  # its printed ✅ did not count
    assert "no answer yet" in rows[("bob", "getting-started", "start-ex-plan")].hint
    assert "ZeroDivisionError" in rows[("carol", "02-how-teams-build", "survey-build-claims")].notes
    assert "printed too much" in rows[("mallory", "getting-started", "start-ex-messages")].notes
    assert "is not defined" in rows[("eve", "getting-started", "start-ex-messages")].error
    assert "not a notebook: the JSON has no 'nbformat'" in rows[("frank", "getting-started", "start-ex-levers")].error
    assert "invalid JSON at line 1" in rows[("grace", "getting-started", "start-ex-levers")].error
    assert "no .ipynb file in heidi/ (found notes.txt)" in rows[("heidi", "heidi", "")].error
    assert rows[("heidi", "getting-started", "start-ex-levers")].error == "not submitted"
    assert "not a notebook of this course" in rows[("ivan", "homework.ipynb", "")].error
    assert "whose is it?" in rows[("(unknown)", "getting-started.ipynb", "")].error
    for row in rows.values():
        assert row.passed or row.hint or row.error, row


def test_no_key_reaches_a_graded_notebook(graded_class, monkeypatch):
    result, out = graded_class
    executed = (out.parent / "grades_executed" / "mallory" / "getting-started.ipynb").read_text()
    assert "LEAK: no key no backend" in executed and "'PATH'" in executed  # it printed the environment: no key in it
    for path in out.parent.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".ipynb"):
            assert SECRET not in path.read_text(errors="replace"), path


@pytest.fixture(autouse=True, scope="module")
def instructor_has_keys():
    """The instructor's shell has keys and backend settings; grading must not pass them on."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", SECRET)
    mp.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    mp.setenv("AIE_BACKEND", "local-llm")
    yield
    mp.undo()


def test_summaries_and_chart(graded_class):
    result, out = graded_class
    students = {s["student"]: s for s in result.by_student}
    assert (students["alice"]["passed"], students["alice"]["exercises"], students["alice"]["score"]) == (5, 5, 100.0)
    assert (students["bob"]["passed"], students["bob"]["exercises"]) == (0, 5)
    exercises = {e["exercise"]: e for e in result.by_exercise}
    assert (exercises["start-ex-messages"]["passed"], exercises["start-ex-messages"]["students"]) == (2, 10)
    assert (exercises["survey-build-claims"]["passed"], exercises["survey-build-claims"]["students"]) == (3, 10)
    assert exercises["survey-build-claims"]["top_hint"] == ""  # nobody got a hint: the others did not hand it in
    names = sorted(p.name for p in result.files)
    assert names == ["grades.csv", "grades_by_exercise.csv", "grades_by_student.csv", "grades_pass_rates.png"]
    assert (out.parent / "grades_pass_rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (out.parent / "grades.csv").read_text().splitlines()[0]
    assert header == "student,notebook,exercise,checker,passed,hint,error,notes"


# --- a notebook that never ends, a check that never ends, a kernel that dies ---------------------------

def tiny_lesson() -> nbformat.NotebookNode:
    """A master notebook with one exercise (the break-even exercise), so runs take a second or two."""
    return new_notebook(cells=[
        new_code_cell("from aie.exercises import models as ex"),
        new_markdown_cell(":::{exercise}\n:label: tiny-break-even\nCompute it.\n:::"),
        new_code_cell("break_even = ...\nex.check_break_even(break_even)"),
        new_markdown_cell(":::{solution-start} tiny-break-even\n:class: dropdown\n:::"),
        new_code_cell("break_even = ex.break_even_requests()\nex.check_break_even(break_even)"),
        new_markdown_cell(":::{solution-end}\n:::"),
    ])


def test_runaway_notebooks_lose_only_their_own_grade(tmp_path):
    master = tmp_path / "course" / "tiny.ipynb"
    hand_in(tiny_lesson(), master)
    right = "break_even = ex.break_even_requests()"
    cases = {
        "ok": [right],
        "loops": ["while True: pass", right],  # interrupted after the cell time limit; the rest still runs
        # ignores the interrupt, so every later cell waits out its time limit too: the notebook is stopped
        "stubborn": ["import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"]
        + ["pass"] * 10,
        "slow_answer": ["class Slow(float):\n    def __float__(self):\n        while True: pass\n"
                        "    def __abs__(self):\n        while True: pass\n"
                        "    def __sub__(self, other):\n        while True: pass\n"
                        "    def __rsub__(self, other):\n        while True: pass\nbreak_even = Slow(1.0)"],
        "exits": ["import os\nos._exit(0)", right],
    }
    for student, cells in cases.items():
        hand_in(new_notebook(cells=[new_code_cell("from aie.exercises import models as ex")] + [new_code_cell(c) for c in cells]),
                tmp_path / "subs" / student / "tiny.ipynb")
    result = grade(tmp_path / "subs", tmp_path / "g.csv", [str(master)], Settings(cell_timeout=4, timeout=25, jobs=2), **QUIET)
    rows = {r.student: r for r in result.rows}
    assert {s: r.passed for s, r in rows.items()} == {"ok": True, "loops": True, "stubborn": False, "slow_answer": False, "exits": False}
    assert rows["loops"].notes == "cell 2 was stopped after 4 s"
    assert "timed out" in rows["stubborn"].error
    assert "the check was stopped" in rows["slow_answer"].error
    assert "kernel died" in rows["exits"].notes


# --- bad input, no kernel needed ---------------------------------------------------------------------

def test_submissions_are_found_in_both_layouts(tmp_path):
    known = {"getting-started", "01-who"}
    for rel in ["ann/getting-started.ipynb", "ann/sub/01-Who (1).ipynb", "ben__01-who.ipynb", "ann/again/getting-started.ipynb",
                ".hidden/getting-started.ipynb", "cat/.ipynb_checkpoints/01-who-checkpoint.ipynb", "README.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    found = [(s.student, s.notebook, bool(s.problem)) for s in find_submissions(tmp_path, known)]
    assert found == [("ann", "getting-started", False), ("ann", "getting-started", True), ("ann", "01-who", False),
                     ("ben", "01-who", False), ("cat", "", True)]


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such folder"),
    (lambda p: p.mkdir(), "no submissions"),
    (lambda p: p.write_text("x"), "not a folder"),
])
def test_a_missing_or_empty_submissions_folder_is_one_clear_error(tmp_path, make, message):
    make(tmp_path / "subs")
    with pytest.raises(GradeError, match=message):
        grade(tmp_path / "subs", tmp_path / "g.csv", [str(GETTING_STARTED)], **QUIET)


def test_the_command_line_says_one_line_and_exits_non_zero(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "g.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere: no such folder" in err and "Traceback" not in err


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\xff\xfe\x00binary", "not UTF-8"),
    (b"print('hello')\n", "invalid JSON at line 1 column 1"),
    (b'[1, 2]', "no 'nbformat'"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "nope"}', "not a notebook nbformat can read"),
])
def test_files_that_are_not_notebooks_are_named_for_what_they_are(tmp_path, content, message):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        _load(path, 1_000_000)


def test_an_oversized_file_is_not_read(tmp_path):
    path = tmp_path / "big.ipynb"
    path.write_bytes(b" " * 2000)
    with pytest.raises(ValueError, match="more than the 1,000 a notebook may have"):
        _load(path, 1000)


def test_an_old_notebook_format_is_upgraded(tmp_path):
    path = tmp_path / "v3.ipynb"
    nbformat.write(nbformat.convert(new_notebook(cells=[new_code_cell("x = 1")]), 3), str(path), version=3)
    assert json.loads(path.read_text())["nbformat"] == 3
    assert _load(path, 1_000_000).cells[0].source == "x = 1"


def test_the_grading_environment_holds_no_keys(monkeypatch):
    for name in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BACKEND", "AIE_BUDGET_USD", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "MY_SECRET"]:
        monkeypatch.setenv(name, SECRET)
    env = grading_env()
    assert SECRET not in json.dumps(env)
    assert not [k for k in env if k.startswith(("OPENAI", "AIE_"))]
    assert env["PYTHONPATH"].split(":")[0] == str(REPO)  # the kernel grades with this checkout's checkers


def test_the_sample_class_benchmark_fills_in_every_exercise_of_its_notebooks(tmp_path):
    """benchmarks/grade_sample_class.py hands in answers for the notebooks' current exercises: every answer
    name it fills exists in the student copies, and every right answer is valid code that assigns it."""
    import ast
    import importlib.util

    spec = importlib.util.spec_from_file_location("grade_sample_class", REPO / "benchmarks" / "grade_sample_class.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.make_class(tmp_path, n_students=2)
    copies = "\n".join(c.source for p in (tmp_path / "_student_copies").rglob("*.ipynb")
                       for c in nbformat.read(p, as_version=4).cells)
    learner_answers = set(re.findall(r"^(\w+) = \.\.\.", copies, re.M))
    assert learner_answers == set(bench.WRONG), "the benchmark's answers no longer match the notebooks' exercises"
    solutions = {**bench.solutions(bench.NOTEBOOKS[0]), **bench.solutions(bench.NOTEBOOKS[1])}
    for label, code in solutions.items():
        body = bench.without_calls(code)
        assigned = {t.id for node in ast.parse(body).body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)}
        assert assigned & learner_answers, (label, body)
