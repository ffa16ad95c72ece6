"""Checkers of step 6, mindset (aie.exercises.mindset) and the early-signals log (aie.signals): a right answer
passes, a typical wrong one gets its specific hint, a malformed signal gets a clear error."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from aie import signals
from aie.evals import paired_bootstrap
from aie.exercises import mindset as m
from feedback import hints, ok


def shortlist(models, need):
    return m.reference_shortlist(models, need)


def test_shortlist():
    ok(m.check_shortlist(shortlist))
    hints(m.check_shortlist(lambda mo, n: list(reversed(m.reference_shortlist(mo, n)))), "order")
    hints(m.check_shortlist(lambda mo, n: m.reference_shortlist(mo.assign(input_modalities="text;image;audio;video"), n)), "modalit")
    hints(m.check_shortlist(lambda mo, n: m.reference_shortlist(mo.assign(context_window=10**9), n)), "context")
    hints(m.check_shortlist(...), "placeholder")


def test_recurring():
    ok(m.check_recurring(lambda log, today: m.reference_recurring(log, today)))

    def rows(log, today):
        end = pd.Timestamp(today)
        c = log[(log.date > end - pd.Timedelta(days=90)) & (log.date <= end)].use_case.value_counts()
        return sorted(c[c >= 2].index)

    hints(m.check_recurring(rows), "distinct sources")

    def all_time(log, today):
        c = log[log.date <= pd.Timestamp(today)].groupby("use_case").source.nunique()
        return sorted(c[c >= 2].index)

    hints(m.check_recurring(all_time), "90 days")


def test_gate():
    ok(m.check_gate(m.reference_gate))

    def no_tolerance(results, baseline):
        return sorted(k for k, v in baseline.items()
                      if [r[k] for r in results if k in r] and sum(r[k] for r in results if k in r) / sum(k in r for r in results) < v)

    hints(m.check_gate(no_tolerance), "0.05")

    def over_results(results, baseline):
        names = {k for r in results for k in r}
        return sorted(k for k in names if sum(r[k] for r in results) / len(results) < baseline.get(k, 1) - 0.05)

    hints(m.check_gate(over_results), "cites")


def test_project():
    def answer(q, client):
        return client.chat.completions.create(model=m.offline_model() if hasattr(m, "offline_model") else "aie-offline",
                                              messages=[{"role": "user", "content": q}], max_tokens=20).choices[0].message.content or ""

    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}}
    project = {"name": "Demo", "user": "people who want a demo of the checker", "examples": [("a", "b"), ("c", "d")],
               "retrieve": lambda q: ["passage"], "tools": [tool], "functions": {"f": lambda: 1}, "answer": answer,
               "eval_cases": [{"input": f"question {i}"} for i in range(5)],
               "evaluate": lambda case, out: {"nonempty": bool(out)},
               "cost_report": lambda usage, mid: {"calls": 1, "input_tokens": 1, "output_tokens": 1, "usd": 0.0}}
    ok(m.check_project(project))
    hints(m.check_project({k: v for k, v in project.items() if k != "retrieve"}), "retrieve")
    hints(m.check_project(dict(project, functions={})), "no function")
    hints(m.check_project(dict(project, eval_cases=project["eval_cases"][:2])), "at least 5")
    hints(m.check_project(dict(project, evaluate=lambda c, o: "pass")), "named checks")


def unpinned(text):
    loose = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", line).group(0)
        spec = re.sub(r"^\[[^\]]*\]", "", line[len(name):].strip()).strip()
        if not re.fullmatch(r"===?\s*[^\s,*=<>!~]+", spec):
            loose.append(name)
    return loose


def test_unpinned():
    ok(m.check_unpinned(unpinned))
    hints(m.check_unpinned(lambda t: [l.split("=")[0] for l in t.splitlines() if "==" not in l]), "skip comments")
    hints(m.check_unpinned(lambda t: [n for n in unpinned(t) if n != "scipy"]), "wildcard")


def test_decide():
    def decide(a, b):
        _, low, high = paired_bootstrap(a, b, seed=0)
        return "adopt" if low > 0 else "keep" if high < 0 else "undecided"

    ok(m.check_decide(decide))
    hints(m.check_decide(lambda a, b: "adopt" if sum(b) > sum(a) else "keep" if sum(b) < sum(a) else "undecided"), "includes 0")
    hints(m.check_decide(lambda a, b: decide(b, a)), "swapped")

    def no_length_check(a, b):
        return decide(a, b) if len(a) == len(b) else "undecided"

    hints(m.check_decide(no_length_check), "different lengths")


GOOD = {"date": "2026-11-22", "source": "https://survey.stackoverflow.co/2025/", "capability": "tools over MCP",
        "use_case": "agents", "note": ""}


def test_signals_round_trip(tmp_path):
    log = tmp_path / "log.csv"
    signals.append_signal(log, GOOD)
    signals.append_signal(log, dict(GOOD, use_case="voice agents"))
    frame = signals.read_signals(log)
    assert list(frame.use_case) == ["agents", "voice agents"]
    assert str(frame.date.dtype).startswith("datetime64")


@pytest.mark.parametrize("row, words", [
    (dict(GOOD, date="22/11/2026"), ["YYYY-MM-DD"]),
    (dict(GOOD, source="a podcast"), ["not a link"]),
    (dict(GOOD, use_case=" "), ["use_case is empty"]),
    ({k: v for k, v in GOOD.items() if k != "note"}, ["missing note"]),
    (dict(GOOD, extra=1), ["unknown extra"]),
])
def test_signals_bad_rows(tmp_path, row, words):
    with pytest.raises(signals.SignalError) as e:
        signals.append_signal(tmp_path / "log.csv", row)
    for w in words:
        assert w in str(e.value)
    assert not (tmp_path / "log.csv").exists()


def test_signals_bad_file_names_the_line(tmp_path):
    log = tmp_path / "log.csv"
    signals.append_signal(log, GOOD)
    with log.open("a") as f:
        f.write("2026-11-23,seen on a podcast,agents,x,\n")
    with pytest.raises(signals.SignalError, match="line 3"):
        signals.read_signals(log)
    with pytest.raises(signals.SignalError):
        signals.append_signal(log, GOOD)  # refuses to add to a broken log
