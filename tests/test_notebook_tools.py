"""Instructor tooling: student copies lose exactly the solutions; checkers give hints and pass right answers."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from aie.check import REGISTRY, Feedback
from aie.notebooks import _coalesce_streams, strip_solutions, write_student_copies


def lesson():
    return new_notebook(cells=[
        new_markdown_cell("# Lesson"),
        new_markdown_cell(":::{exercise}\n:label: ex-1\nDo it.\n:::"),
        new_code_cell("answer = ...\ncheck(answer)"),
        new_markdown_cell(":::{solution-start} ex-1\n:class: dropdown\n:::"),
        new_code_cell("answer = 42\ncheck(answer)", outputs=[], execution_count=3),
        new_markdown_cell(":::{solution-end}\n:::"),
        new_markdown_cell("## Summary"),
    ])


def test_student_copy_removes_solutions_and_outputs(tmp_path):
    src = tmp_path / "notebooks" / "lesson.ipynb"
    src.parent.mkdir()
    nbformat.write(lesson(), src)
    [(target, removed)] = write_student_copies(tmp_path / "student", [str(src)])
    nb = nbformat.read(target, as_version=4)
    assert removed == 3
    text = "\n".join(c.source for c in nb.cells)
    assert "answer = 42" not in text and "solution" not in text
    assert "answer = ...\ncheck(answer)" in text and "## Summary" in text
    assert all(c.execution_count is None and c.outputs == [] for c in nb.cells if c.cell_type == "code")
    assert nbformat.read(src, as_version=4).cells[4].source == "answer = 42\ncheck(answer)"  # original untouched


def test_stored_outputs_do_not_depend_on_how_the_kernel_flushed():
    """Consecutive stdout chunks are stored as one output, so re-running a notebook gives the same file."""
    chunks = [{"output_type": "stream", "name": "stdout", "text": "a\n"}, {"output_type": "stream", "name": "stdout", "text": "b\n"},
              {"output_type": "stream", "name": "stderr", "text": "warn\n"}, {"output_type": "stream", "name": "stdout", "text": "c\n"}]
    merged = _coalesce_streams(chunks)
    assert [(o["name"], o["text"]) for o in merged] == [("stdout", "a\nb\n"), ("stderr", "warn\n"), ("stdout", "c\n")]


def test_unclosed_solution_is_an_error_not_a_silent_loss():
    nb = lesson()
    del nb.cells[5]
    with pytest.raises(ValueError, match="no matching"):
        strip_solutions(nb)


def test_start_checkers_pass_right_answers_and_hint_wrong_ones():
    import aie.exercises.start as ex

    good = [{"role": "system", "content": "You are a tutor."}, {"role": "user", "content": "Reverse a list?"}]
    assert ex.check_messages(good).passed
    assert "first message should be the system" in ex.check_messages(good[::-1]).message
    assert "last message should be the user's" in ex.check_messages(good + [{"role": "assistant", "content": "x"}]).message
    assert "exactly the keys" in ex.check_messages([{"role": "system"}, good[1]]).message
    assert ex.check_cost_levers(["C", "B", "A"]).passed
    assert ex.check_cost_levers("CBA").passed
    assert "compare A and B again" in ex.check_cost_levers(["C", "A", "B"]).message
    assert "compute the cost" in ex.check_cost_levers(["B", "C", "A"]).message
    assert "three letters" in ex.check_cost_levers(["C", "B"]).message
    plan = {"task": "Answer students' questions about the course setup.", "input": "a question in English",
            "output": "a short answer with links", "check": "On 50 real questions the answer links the right page.",
            "model": "gpt-4.1-mini", "requests_per_day": 300, "input_tokens": 2500, "output_tokens": 200}
    right = ex.cost_of_workload("gpt-4.1-mini", 300, 2500, 200)
    assert ex.check_plan({**plan, "usd_per_day": right}).passed
    assert "does not match your own estimates" in ex.check_plan({**plan, "usd_per_day": right * 1000}).message
    assert "no OpenAI price" in ex.check_plan({**plan, "model": "my-model", "usd_per_day": right}).message
    assert "positive whole number" in ex.check_plan({**plan, "requests_per_day": 0.5, "usd_per_day": right}).message
    assert "8+ words" in ex.check_plan({**plan, "check": "looks good", "usd_per_day": right}).message
    assert "no answer yet" in ex.check_plan({k: ... for k in [*plan, "usd_per_day"]} | {"model": "gpt-4.1-mini"}).message


def test_placeholder_and_malformed_answers_get_hints_not_tracebacks():
    import aie.exercises.start  # noqa: F401  registers

    fb = REGISTRY["start-cost-levers"](...)
    assert isinstance(fb, Feedback) and not fb.passed and "placeholder" in fb.message
    fb = REGISTRY["start-cost-levers"]("about forty cents")
    assert not fb.passed and "three letters" in fb.message
    fb = REGISTRY["start-plan"]({"task": 3})
    assert not fb.passed and "needs the keys" in fb.message
