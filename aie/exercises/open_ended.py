"""Checkers for the open-ended exercises of steps 4 (orchestration) and 5 (evaluations).

They live apart from ``orchestration.py`` and ``evals.py`` so that the exercises can be placed in those
notebooks without touching their modules. As for every open-ended exercise, a checker verifies what code
can verify (the shape, a schema that strict mode accepts, a check that really tells the learner's own
examples apart) and never the quality of the design: that is the rubric's job.
"""

from __future__ import annotations

from typing import Any

from aie.check import Feedback, exercise, hint, passed
from aie.exercises.forms import grade_open, placeholders

TRIFECTA = {"private data", "untrusted content", "external communication"}


def _closed_object_problem(schema: Any, where: str = "parameters") -> str | None:
    """The first strict-mode rule a JSON schema breaks (every object closed, every property required), or None."""
    if not isinstance(schema, dict):
        return f"`{where}` is not a JSON schema (a dict)."
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if set(schema.get("required", [])) != set(props):
            return f"`{where}`: list every property in `required` (use a null type for an optional one)."
        if schema.get("additionalProperties") is not False:
            return f"`{where}`: set `additionalProperties` to false, so the model cannot add arguments of its own."
        for name, sub in props.items():
            if (problem := _closed_object_problem(sub, f"{where}.{name}")):
                return problem
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return _closed_object_problem(schema["items"], f"{where}[]")
    return None


@exercise("orchestration-open-tool")
@placeholders
def check_tool_design(answer: Any) -> Feedback:
    """Open-ended (step 4): a tool for an agent of the learner's, with its risks, its guard and test cases."""
    problem = grade_open(answer, {"task": 5, "tool": 0, "legs": 0, "guard": 10, "tests": 0})
    if problem is not None:
        return problem
    tool = answer["tool"]
    fn = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
        return hint("`tool` is a Chat Completions tool: {'type': 'function', 'function': {'name', 'description', 'parameters'}}.")
    if not fn.get("name") or len(str(fn.get("description", "")).split()) < 5:
        return hint("give the function a `name` and a `description` of a sentence or more: the model chooses tools by it.")
    if (problem := _closed_object_problem(fn.get("parameters"))):
        return hint(problem)
    legs = answer["legs"]
    if isinstance(legs, str) or not isinstance(legs, (list, tuple, set)) or not set(legs) <= TRIFECTA:
        return hint(f"`legs` lists which legs of the lethal trifecta the tool touches: a subset of {sorted(TRIFECTA)} "
                    "(an empty list if none).")
    tests = answer["tests"]
    if not isinstance(tests, (list, tuple)) or len(tests) < 3 or not all(
            isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(x, str) and x.strip() for x in t) for t in tests):
        return hint("`tests` holds at least three (request, expected behaviour) pairs of strings; one should be a "
                    "request the agent must refuse or ask about.")
    if len(set(legs)) == 3:
        return hint("the tool touches all three legs of the trifecta: split it, or drop a leg, before guarding it.")
    return passed("a closed tool schema, its risks, a guard and test cases. The rubric in the solution is for the design; "
                  "the checker only verifies the shape.")


@exercise("evals-open-plan")
@placeholders
def check_eval_plan(answer: Any) -> Feedback:
    """Open-ended (step 5): an evaluation plan whose code check really separates the learner's own examples."""
    problem = grade_open(answer, {"failure_mode": 5, "check": 0, "passing_output": 0, "failing_output": 0,
                                  "n_examples": 0, "threshold": 0, "source": 8})
    if problem is not None:
        return problem
    check = answer["check"]
    if not callable(check):
        return hint("`check` is a function: it takes one model output (a string) and returns True when the output "
                    "is free of the failure mode.")
    for key, want in (("passing_output", True), ("failing_output", False)):
        if not isinstance(answer[key], str):
            return hint(f"`{key}` is a model output, as a string.")
        try:
            got = check(answer[key])
        except Exception as e:  # the learner's check crashed on their own example
            return hint(f"`check` raised {type(e).__name__} on `{key}`: {e}.")
        if not isinstance(got, bool):
            return hint(f"`check` should return True or False, got {got!r} for `{key}`.")
        if got is not want:
            return hint(f"`check` returns {got} for `{key}`: it should return {want}. A check that cannot tell your own "
                        "two examples apart will not tell real outputs apart.")
    n = answer["n_examples"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 30:
        return hint("`n_examples` is how many labelled outputs you will run the check on: at least 30, to see a rate.")
    try:
        threshold = float(answer["threshold"])
    except (TypeError, ValueError):
        return hint("`threshold` is the pass rate (0-1) below which you will not ship.")
    if not 0 < threshold <= 1:
        return hint("`threshold` is a rate between 0 and 1.")
    return passed("a failure mode, a check that separates your own examples, and a rule to ship by. The rubric in "
                  "the solution is for the rest.")
