"""A regression gate: the code-based eval suite must not fall below its stored baseline.

The suite (tests/eval_suite.py, written out in notebooks/05-evals/02-code-based-evals.ipynb) runs over the
course's stored traces (datasets/eval_traces.csv). Each assertion's pass rate is compared with
tests/eval_baseline.json; a drop of more than TOLERANCE fails the test and names the assertion.

After a change you mean to keep (new traces from another model, a better prompt), refresh the baseline:

    python tests/test_eval_regression.py --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import eval_suite  # noqa: E402

from aie import evals  # noqa: E402

BASELINE = HERE / "eval_baseline.json"
TOLERANCE = 0.02


def current_rates() -> dict[str, float]:
    return eval_suite.run_suite(evals.traces())


def regressions(rates: dict[str, float], baseline: dict[str, float], tolerance: float = TOLERANCE) -> list[str]:
    problems = []
    for name, base in baseline.items():
        if name not in rates:
            problems.append(f"{name}: in the baseline but not in the suite (removed or renamed? update the baseline)")
        elif rates[name] < base - tolerance:
            problems.append(f"{name}: pass rate {rates[name]:.1%} is below its baseline {base:.1%} "
                            f"(tolerance {tolerance:.0%})")
    return problems


def test_suite_does_not_regress():
    baseline = evals.load_baseline(BASELINE)
    problems = regressions(current_rates(), baseline)
    assert not problems, ("eval regression against tests/eval_baseline.json:\n  " + "\n  ".join(problems)
                          + "\nIf the change is intended, run `python tests/test_eval_regression.py --update`.")


def test_a_drop_is_reported_with_its_assertion():
    assert regressions({"no_raw_error": 0.5}, {"no_raw_error": 0.8}) == [
        "no_raw_error: pass rate 50.0% is below its baseline 80.0% (tolerance 2%)"]
    assert regressions({"no_raw_error": 0.79}, {"no_raw_error": 0.8}) == []


def test_the_gate_fails_on_worse_traces():
    """On the stored traces with every agent reply blanked, the gate fails and names the assertion that dropped."""
    traces = evals.traces()
    worse = traces.assign(answer=traces.answer.where(traces.system != "support-agent", ""))
    problems = regressions(eval_suite.run_suite(worse), evals.load_baseline(BASELINE))
    assert [p.split(":")[0] for p in problems] == ["replies_to_the_customer"], problems


def test_missing_baseline_names_the_file(tmp_path):
    with pytest.raises(evals.EvalDataError, match=r"nope\.json: baseline file not found"):
        evals.load_baseline(tmp_path / "nope.json")


@pytest.mark.parametrize("text, words", [
    ('{"no_raw_error": 0.8', "not valid JSON (line 1"),
    ("[0.8]", "expected a non-empty JSON object"),
    ("{}", "expected a non-empty JSON object"),
    ('{"no_raw_error": 1.5}', "expected a pass rate between 0 and 1"),
    ('{"no_raw_error": "high"}', "expected a pass rate between 0 and 1"),
])
def test_corrupt_baseline_names_the_file_and_what_was_expected(tmp_path, text, words):
    path = tmp_path / "baseline.json"
    path.write_text(text)
    with pytest.raises(evals.EvalDataError) as e:
        evals.load_baseline(path)
    assert str(path) in str(e.value) and words in str(e.value)


def test_an_assertion_with_nothing_to_check_is_an_error():
    empty = evals.traces().iloc[:0]
    with pytest.raises(ValueError, match="eval set is empty"):
        eval_suite.run_suite(empty)


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        rates = {k: round(v, 4) for k, v in current_rates().items()}
        BASELINE.write_text(json.dumps(rates, indent=2) + "\n")
        print(f"wrote {BASELINE}: {rates}")
    else:
        print(__doc__)
