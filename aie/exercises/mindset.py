"""Checkers for step 6, mindset and scaling (notebooks/06-mindset/).

The capstone checker runs the learner's app on the course's offline model, in process and outside the
usage ledger, so a grade needs no key and costs nothing. It checks that the parts exist and that the eval
suite runs; it does not judge whether the idea is good (the rubric leaves that to a person).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from aie.check import Feedback, exercise, hint, passed

# ================================================================== 01 capabilities

# Needs the checker tries; the first is the one the notebook shows.
NEEDS: list[dict] = [
    {"input": ["text", "image"], "min_context": 200_000, "input_tokens": 3_000, "output_tokens": 500, "max_usd_per_1k": 5.0},
    {"input": ["text", "audio"], "min_context": 100_000, "input_tokens": 2_000, "output_tokens": 300, "max_usd_per_1k": 2.0},
    {"input": ["text"], "min_context": 128_000, "input_tokens": 10_000, "output_tokens": 1_000, "max_usd_per_1k": 1.5},
]


def usd_per_1k(row, need: dict) -> float:
    """US dollars for 1,000 requests of the need's size at the row's per-million-token prices."""
    return 1_000 * (need["input_tokens"] * row.input_usd_per_mtok + need["output_tokens"] * row.output_usd_per_mtok) / 1e6


def reference_shortlist(models: pd.DataFrame, need: dict) -> list[str]:
    """Models that take every input modality, write text, have the context and fit the budget; cheapest first."""
    rows = []
    for row in models.itertuples():
        ins = set(str(row.input_modalities).split(";"))
        outs = set(str(row.output_modalities).split(";"))
        if not set(need["input"]) <= ins or "text" not in outs:
            continue
        if pd.isna(row.context_window) or row.context_window < need["min_context"]:
            continue
        if pd.isna(row.input_usd_per_mtok) or pd.isna(row.output_usd_per_mtok):
            continue
        cost = usd_per_1k(row, need)
        if cost <= need["max_usd_per_1k"]:
            rows.append((round(cost, 9), row.model))
    return [m for _, m in sorted(rows)]


@exercise("mindset-capabilities-shortlist")
def check_shortlist(fn: Callable[[pd.DataFrame, dict], list]) -> Feedback:
    """``shortlist(models, need)``: the model ids that meet a use case's needs, cheapest per request first."""
    if not callable(fn):
        return hint("pass the function itself, `shortlist`, not the result of calling it.")
    from aie import data

    models = data.load("models")
    for need in NEEDS:
        want = reference_shortlist(models, need)
        got = fn(models.copy(), dict(need))
        if got is None or isinstance(got, str) or not hasattr(got, "__iter__"):
            return hint(f"return a list of model ids, not {type(got).__name__}.")
        got = [str(g) for g in got]
        if got == want:
            continue
        label = f"for the need {need}"
        if sorted(got) == sorted(want):
            return hint(f"{label} you have the right models in the wrong order: sort by the cost of 1,000 requests, "
                        "cheapest first.")
        ignore_mod = reference_shortlist(models.assign(input_modalities="text;image;audio;video"), need)
        if sorted(got) == sorted(ignore_mod):
            return hint(f"{label} some of your models cannot read {' and '.join(need['input'])}: every input "
                        "modality of the need must be in the model's input_modalities (split it on ';').")
        ignore_ctx = reference_shortlist(models.assign(context_window=10**9), need)
        if sorted(got) == sorted(ignore_ctx):
            return hint(f"{label} check the context window: a model needs at least need['min_context'] tokens.")
        extra = set(got) - set(want)
        if extra and all(models.set_index("model").loc[m, ["input_usd_per_mtok", "output_usd_per_mtok"]].isna().any()
                         for m in extra if m in set(models.model)):
            return hint(f"{label} {sorted(extra)} have no per-token price: a model whose price is unknown cannot "
                        "be shown to fit the budget, so leave it out.")
        return hint(f"{label} expected {want}, got {got}. Cost of 1,000 requests = 1,000 × (input_tokens × "
                    "input price + output_tokens × output price) / 1,000,000, since prices are per million tokens.")
    return passed(f"all {len(NEEDS)} needs give the right shortlist, cheapest first.")


# A synthetic signals log for the recurring-signals exercise: (date, source, use_case).
SIGNAL_LOG = [
    ("2025-03-02", "https://example.org/a", "meeting notes"),
    ("2025-05-20", "https://example.org/b", "meeting notes"),
    ("2025-05-21", "https://example.org/c", "voice agents"),
    ("2025-05-22", "https://example.org/c", "voice agents"),
    ("2025-05-23", "https://example.org/d", "invoice extraction"),
    ("2025-06-01", "https://example.org/e", "invoice extraction"),
    ("2025-06-05", "https://example.org/f", "code review"),
    ("2025-06-20", "https://example.org/g", "code review"),
    ("2025-06-25", "https://example.org/h", "meeting notes"),
]
SIGNAL_TODAY = "2025-06-12"  # one entry is after this day: a log can hold dates you typed wrong


def signal_frame() -> pd.DataFrame:
    frame = pd.DataFrame(SIGNAL_LOG, columns=["date", "source", "use_case"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["capability"] = "x"
    frame["note"] = ""
    return frame[["date", "source", "capability", "use_case", "note"]]


def reference_recurring(log: pd.DataFrame, today: str, days: int = 90) -> list[str]:
    end = pd.Timestamp(today)
    recent = log[(log.date > end - pd.Timedelta(days=days)) & (log.date <= end)]
    counts = recent.groupby("use_case").source.nunique()
    return sorted(counts[counts >= 2].index)


@exercise("mindset-capabilities-recurring")
def check_recurring(fn: Callable[[pd.DataFrame, str], list]) -> Feedback:
    """``recurring(log, today)``: use cases seen in at least two distinct sources in the 90 days up to today."""
    if not callable(fn):
        return hint("pass the function itself, `recurring`, not the result of calling it.")
    log = signal_frame()
    cases = [(SIGNAL_TODAY, reference_recurring(log, SIGNAL_TODAY)), ("2025-07-01", reference_recurring(log, "2025-07-01"))]
    for today, want in cases:
        got = fn(log.copy(), today)
        if got is None or isinstance(got, str) or not hasattr(got, "__iter__"):
            return hint(f"return a list of use cases, not {type(got).__name__}.")
        got = sorted(str(g) for g in got)
        if got == want:
            continue
        end = pd.Timestamp(today)
        rows_not_sources = log[(log.date > end - pd.Timedelta(days=90)) & (log.date <= end)].use_case.value_counts()
        if got == sorted(rows_not_sources[rows_not_sources >= 2].index):
            return hint(f"on {today}: count distinct sources, not rows. Two entries from the same link are one "
                        "signal seen twice, not two signals (use .nunique()).")
        all_time = log[log.date <= end].groupby("use_case").source.nunique()
        if got == sorted(all_time[all_time >= 2].index):
            return hint(f"on {today}: keep only the last 90 days; an old signal that never came back is not recurring.")
        no_future = log[log.date > end - pd.Timedelta(days=90)].groupby("use_case").source.nunique()
        if got == sorted(no_future[no_future >= 2].index):
            return hint(f"on {today}: leave out entries dated after today (a typo in a date should not count).")
        return hint(f"on {today}: expected {want}, got {got}.")
    return passed("the 90-day window, distinct sources and the cut at today are all right.")


# ================================================================== 06 capstone


def sample_usage() -> pd.DataFrame:
    return pd.DataFrame({"backend": ["cassette"] * 4, "model": ["qwen2.5-coder-1.5b-instruct"] * 4,
                         "endpoint": ["chat.completions"] * 4, "input_tokens": [812, 815, 240, 255],
                         "output_tokens": [31, 28, 64, 71], "latency_s": [0.0] * 4, "cost_usd": [0.0] * 4,
                         "source": ["cassette"] * 4})


# (results per case, baseline pass rates, checks that regressed)
GATE_CASES: list[tuple[list[dict], dict, list[str]]] = [
    ([{"a": True, "b": True}] * 4, {"a": 1.0, "b": 1.0}, []),
    ([{"a": True, "b": False}, {"a": True, "b": True}, {"a": True, "b": True}, {"a": False, "b": True}],
     {"a": 0.8, "b": 0.75}, []),  # a: 0.75 is within 0.05 of 0.80; b: 0.75 equals its baseline
    ([{"a": True, "b": False}, {"a": False, "b": True}, {"a": True, "b": False}, {"a": False, "b": False}],
     {"a": 0.6, "b": 0.5}, ["a", "b"]),
    ([{"a": True}, {"a": True}, {"a": True}], {"a": 0.9, "cites": 0.8}, ["cites"]),  # a check that no longer runs
    ([{"a": True, "new": False}] * 3, {"a": 0.5}, []),  # a new check has no baseline yet: not a regression
]
TOLERANCE = 0.05


def reference_gate(results: list[dict], baseline: dict) -> list[str]:
    bad = []
    for name, rate in baseline.items():
        values = [r[name] for r in results if name in r]
        if not values or sum(values) / len(values) < rate - TOLERANCE - 1e-12:
            bad.append(name)
    return sorted(bad)


@exercise("mindset-capstone-gate")
def check_gate(fn: Callable[[list, dict], list]) -> Feedback:
    """``gate(results, baseline)``: the checks whose pass rate fell more than 0.05 below the baseline, or vanished."""
    if not callable(fn):
        return hint("pass the function itself, `gate`, not the result of calling it.")
    for results, baseline, want in GATE_CASES:
        got = fn([dict(r) for r in results], dict(baseline))
        if got is None or isinstance(got, str) or not hasattr(got, "__iter__"):
            return hint(f"return a list of check names, not {type(got).__name__}.")
        got = sorted(str(g) for g in got)
        if got == want:
            continue
        rates = {k: round(sum(r[k] for r in results if k in r) / max(1, sum(k in r for r in results)), 2)
                 for k in {k for r in results for k in r}}
        where = f"with pass rates {rates} and baseline {baseline}"
        if "cites" in want and "cites" not in got:
            return hint(f"{where}: 'cites' is in the baseline but no case reports it any more. A check that stopped "
                        "running is a regression too (a renamed or deleted check would otherwise pass silently).")
        if "new" in got:
            return hint(f"{where}: 'new' has no baseline yet; it cannot have regressed. Loop over the baseline's checks.")
        if not want and got:
            return hint(f"{where}: a drop of up to {TOLERANCE} is allowed (small suites wobble); flag only rates below "
                        "baseline - 0.05.")
        return hint(f"{where}: expected {want}, got {got}. The rate of a check is the share of cases where it is True.")
    return passed("drops, the tolerance, checks that vanished and new checks are all handled.")


PROJECT_KEYS = {
    "name": "a short name for the app",
    "user": "who it is for and what they get (one sentence)",
    "examples": "a list of at least two (input, output) example pairs that go into the prompt",
    "retrieve": "a function retrieve(query) -> list of text passages",
    "tools": "a list of tool definitions in the chat API's format",
    "functions": "a dict mapping each tool's name to the Python function that runs it",
    "answer": "the app: a function answer(question, client) -> str",
    "eval_cases": "a list of at least five dicts, each with an 'input'",
    "evaluate": "a function evaluate(case, output) -> dict of named True/False checks",
    "cost_report": "a function cost_report(usage, model_id) -> dict with calls, input_tokens, output_tokens, usd",
}
MIN_CASES = 5


@exercise("mindset-capstone-project")
def check_project(project: dict) -> Feedback:
    """The capstone: every part exists, fits together, and the eval suite runs end to end (on the offline model)."""
    if not isinstance(project, dict):
        return hint("`project` must be a dict with the keys " + ", ".join(PROJECT_KEYS) + ".")
    missing = [k for k in PROJECT_KEYS if k not in project or project[k] is None or project[k] is ...]
    if missing:
        k = missing[0]
        return hint(f"the project has no {k!r} yet ({PROJECT_KEYS[k]}). Missing: {', '.join(missing)}.")
    for k in ("name", "user"):
        if not isinstance(project[k], str) or len(project[k].split()) < (1 if k == "name" else 5):
            return hint(f"{k!r}: {PROJECT_KEYS[k]}.")
    examples = project["examples"]
    if not isinstance(examples, (list, tuple)) or len(examples) < 2 or not all(
            isinstance(e, (list, tuple)) and len(e) == 2 and all(isinstance(x, str) and x.strip() for x in e) for e in examples):
        return hint("'examples' must be a list of at least two (input, output) pairs of non-empty strings: the "
                    "examples your prompt shows the model (step 2).")
    for k in ("retrieve", "answer", "evaluate", "cost_report"):
        if not callable(project[k]):
            return hint(f"{k!r} must be a function: {PROJECT_KEYS[k]}.")
    tools, functions = project["tools"], project["functions"]
    if not isinstance(tools, list) or not tools:
        return hint("'tools' must be a non-empty list of tool definitions: {'type': 'function', 'function': "
                    "{'name': ..., 'description': ..., 'parameters': {...}}} (step 4).")
    for t in tools:
        fn = t.get("function", {}) if isinstance(t, dict) else {}
        name = fn.get("name")
        if not (isinstance(t, dict) and t.get("type") == "function" and name and fn.get("description")
                and isinstance(fn.get("parameters"), dict) and fn["parameters"].get("type") == "object"):
            return hint(f"the tool {t!r:.80} is not a complete definition: it needs type 'function', a name, a "
                        "description and parameters of type 'object'.")
        if not isinstance(functions, dict) or not callable(functions.get(name)):
            return hint(f"the tool {name!r} has no function in 'functions': every tool the model is shown must "
                        "have code behind it.")
    cases = project["eval_cases"]
    if not isinstance(cases, list) or len(cases) < MIN_CASES or not all(isinstance(c, dict) and isinstance(c.get("input"), str) for c in cases):
        return hint(f"'eval_cases' must be a list of at least {MIN_CASES} dicts, each with an 'input' string.")
    passages = project["retrieve"](cases[0]["input"])
    if not isinstance(passages, list) or not passages or not all(isinstance(p, str) for p in passages):
        return hint("retrieve(query) must return a non-empty list of text passages for your first eval case.")

    from aie.clients import offline_client

    client = offline_client()
    results = []
    for i, case in enumerate(cases):
        try:
            output = project["answer"](case["input"], client)
        except Exception as e:
            return hint(f"answer() raised on eval case {i} ({type(e).__name__}: {e}). The app must return a string "
                        "for every case; catch what can fail inside it.")
        if not isinstance(output, str):
            return hint(f"answer() returned {type(output).__name__} on case {i}; it must return the app's text output.")
        verdict = project["evaluate"](case, output)
        if not isinstance(verdict, dict) or not verdict or not all(isinstance(v, (bool, np.bool_)) for v in verdict.values()):
            return hint(f"evaluate(case, output) must return a dict of named checks, each True or False; on case {i} "
                        f"it returned {verdict!r:.80}.")
        results.append(verdict)
    names = sorted({k for r in results for k in r})
    report = project["cost_report"](sample_usage(), "gpt-4.1-mini")
    if not isinstance(report, dict) or not {"calls", "input_tokens", "output_tokens", "usd"} <= set(report):
        return hint("cost_report(usage, model_id) must return a dict with calls, input_tokens, output_tokens and usd.")
    all_pass = sum(all(r.values()) for r in results)
    return passed(f"every part is there and the eval suite ran: {len(results)} cases, checks {', '.join(names)}; "
                  f"{all_pass}/{len(results)} cases pass every check on the offline model (the checker does not grade "
                  "the score or the idea: the rubric's other rows are for a reviewer).")


# ================================================================== 07 keeping up

# (requirements text, names that are not pinned exactly)
PIN_CASES: list[tuple[str, list[str]]] = [
    ("openai==3.54.0\nhttpx2==2.16.2\n", []),
    ("# a comment\n-r requirements.txt\n-e .\n\npandas==3.1.1\nnumpy>=2\n", ["numpy"]),
    ("requests\nrich~=13.0\nChromaDB==1.5.9  # the vector store\n", ["requests", "rich"]),
    ("pydantic-ai-slim[openai]==2.62.0\nlangchain-core[all]>=0.3\n", ["langchain-core"]),
    ("tomli==2.0.1; python_version < '3.11'\nlitellm!=1.82.7,!=1.82.8\nflask <3\n", ["litellm", "flask"]),
    ("numpy===2.4.6\nscipy==1.*\n", ["scipy"]),
]


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


@exercise("mindset-keeping-up-pins")
def check_unpinned(fn: Callable[[str], list]) -> Feedback:
    """``unpinned(text)``: the packages of a requirements file that are not pinned to one exact version."""
    if not callable(fn):
        return hint("pass the function itself, `unpinned`, not the result of calling it.")
    for text, want in PIN_CASES:
        got = fn(text)
        if got is None or isinstance(got, str) or not hasattr(got, "__iter__"):
            return hint(f"return a list of package names, not {type(got).__name__}.")
        got_n, want_n = sorted(_norm(str(g)) for g in got), sorted(_norm(w) for w in want)
        if got_n == want_n:
            continue
        shown = text.strip().replace("\n", " | ")
        if any(g.startswith(("#", "-")) or g == "" for g in got_n):
            return hint(f"on `{shown}`: skip comments, blank lines and options such as -r and -e; they are not packages.")
        if any("[" in g or "=" in g or "<" in g or ">" in g or "~" in g or ";" in g for g in got_n):
            return hint(f"on `{shown}`: return the bare package name, without extras, versions or markers "
                        f"(you returned {got}).")
        if "scipy" in want_n and "scipy" not in got_n:
            return hint(f"on `{shown}`: '==1.*' is a wildcard: it allows every 1.x release, so it is not a pin.")
        if "litellm" in want_n and "litellm" not in got_n:
            return hint(f"on `{shown}`: '!=' only excludes versions; everything else is still allowed.")
        if "numpy" not in want_n and "numpy" in got_n and "===" in text:
            return hint(f"on `{shown}`: '===' (arbitrary equality) is also an exact pin.")
        return hint(f"on `{shown}`: expected {want}, got {list(got)}.")
    return passed(f"all {len(PIN_CASES)} requirements files read right, markers, extras and wildcards included.")


# (incumbent results, candidate results, decision)
ADOPTION_CASES = [
    ([1, 0, 1, 0, 0, 1, 0, 0, 1, 0] * 4, [1, 1, 1, 1, 0, 1, 1, 0, 1, 1] * 4, "adopt"),
    ([1, 1, 1, 1, 0, 1, 1, 0, 1, 1] * 4, [1, 0, 1, 0, 0, 1, 0, 0, 1, 0] * 4, "keep"),
    ([1, 0, 1, 1, 0, 1, 0, 1], [1, 1, 1, 0, 0, 1, 1, 1], "undecided"),
    ([1, 1, 0, 1, 0, 1, 1, 1, 0, 1], [1, 1, 0, 1, 0, 1, 1, 1, 0, 1], "undecided"),
]


def reference_decide(incumbent, candidate) -> str:
    from aie.evals import paired_bootstrap

    _, low, high = paired_bootstrap(incumbent, candidate, seed=0)
    return "adopt" if low > 0 else "keep" if high < 0 else "undecided"


@exercise("mindset-keeping-up-decide")
def check_decide(fn: Callable[[list, list], str]) -> Feedback:
    """``decide(incumbent, candidate)``: adopt, keep or undecided, from the paired bootstrap interval."""
    if not callable(fn):
        return hint("pass the function itself, `decide`, not the result of calling it.")
    for inc, cand, want in ADOPTION_CASES:
        got = fn(list(inc), list(cand))
        if got not in {"adopt", "keep", "undecided"}:
            return hint(f"return one of 'adopt', 'keep' or 'undecided', not {got!r}.")
        if got == want:
            continue
        rate_a, rate_b = float(np.mean(inc)), float(np.mean(cand))
        if want == "undecided" and ((got == "adopt" and rate_b > rate_a) or (got == "keep" and rate_b < rate_a)):
            return hint(f"with {len(inc)} cases ({rate_a:.0%} vs {rate_b:.0%}) the interval of the difference "
                        "includes 0: a higher pass rate on a small set is not yet evidence. Decide from "
                        "aie.evals.paired_bootstrap's (low, high), not from the two means.")
        if {got, want} == {"adopt", "keep"}:
            return hint("adopt and keep are swapped: paired_bootstrap(a, b) measures b - a, so pass the incumbent "
                        "first and the candidate second.")
        return hint(f"on {rate_a:.0%} (incumbent) vs {rate_b:.0%} (candidate) over {len(inc)} cases expected "
                    f"{want!r}, got {got!r}.")
    try:
        fn([1, 0], [1, 0, 1])
    except ValueError:
        pass
    else:
        return hint("results of different lengths cannot be paired: let the error from paired_bootstrap through "
                    "(or raise a ValueError yourself) instead of deciding.")
    return passed("adopt, keep and undecided all come out where the paired interval says, and unpaired input is refused.")
