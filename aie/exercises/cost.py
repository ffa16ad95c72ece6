"""Checkers for step 6, mindset and scaling: cost (06-mindset/03-cost) and the ladder (06-mindset/04-the-ladder).

Each checker recomputes the answer from the course's data or from the scenario defined here, so a grade
needs no model call and is the same on every machine.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

from aie.check import Feedback, close, exercise, hint, passed


def _unfilled(answer: Any, keys: set[str]) -> Feedback | None:
    """A hint when the answer is not a dict with these keys, or still holds a `...` placeholder."""
    if not isinstance(answer, dict) or not keys <= set(answer):
        return hint(f"`answer` must be a dict with the keys {', '.join(repr(k) for k in sorted(keys))}.")
    empty = sorted(k for k in keys if answer[k] is ... or answer[k] is None)
    if empty:
        return hint(f"replace the `...` placeholder of {', '.join(repr(k) for k in empty)} with your value.")
    return None


# ================================================================== 03 cost: semantic cache threshold

GRID = np.round(np.arange(0.50, 0.951, 0.01), 2)
MAX_WRONG = 0.05


def _pair_similarities() -> tuple[np.ndarray, np.ndarray]:
    from aie import data
    from aie.retrieval import embed

    pairs = data.load("question_pairs")
    sim = (embed(list(pairs.question_a)) * embed(list(pairs.question_b))).sum(axis=1).round(4)
    return sim, pairs.same_answer.to_numpy(bool)


def threshold_solution() -> dict[str, float]:
    sim, same = _pair_similarities()
    t = min(t for t in GRID if ((sim >= t) & ~same).mean() <= MAX_WRONG)
    return {"threshold": float(t), "hit_rate": float((sim >= t).mean()), "wrong_rate": float(((sim >= t) & ~same).mean())}


@exercise("mindset-cost-threshold")
def check_threshold(answer: dict[str, Any]) -> Feedback:
    """The lowest threshold on the grid whose wrong-answer rate is at most 2%, with its two rates."""
    if (fb := _unfilled(answer, {"threshold", "hit_rate", "wrong_rate"})) is not None:
        return fb
    sim, same = _pair_similarities()
    t = float(answer["threshold"])
    right = threshold_solution()
    wrong_at_t = float(((sim >= t) & ~same).mean())
    if wrong_at_t > MAX_WRONG:
        return hint(f"at threshold {t:.2f} the cache serves a wrong answer on {wrong_at_t:.1%} of lookups, above 5%: "
                    "count a wrong hit as a pair with similarity >= threshold and same_answer false, over all 48 pairs.")
    if not close(t, right["threshold"], 0.001):
        return hint(f"{t:.2f} is safe but not the lowest safe threshold on the grid: lower thresholds give more hits; "
                    "scan the grid from the bottom.")
    if close(answer["hit_rate"], (same & (sim >= t)).mean(), 0.001) and not close(answer["hit_rate"], right["hit_rate"], 0.001):
        return hint("the hit rate counts every lookup served from the cache, right or wrong, over all 48 pairs.")
    if not close(answer["hit_rate"], right["hit_rate"], 0.005) or not close(answer["wrong_rate"], right["wrong_rate"], 0.005):
        return hint("the threshold is right; recompute both rates over all 48 lookups, as fractions (0.25, not 25).")
    return passed(f"threshold {right['threshold']:.2f}: {right['hit_rate']:.0%} of questions served from the cache, "
                  f"{right['wrong_rate']:.1%} of all questions answered with another question's answer.")


# ================================================================== 03 cost: a prompt-caching bill

BILL = {"model": "claude-haiku-4-5", "provider": "anthropic", "requests": 20_000, "shared": 3_000,
        "fresh": 200, "output": 150, "writes": 40}


def _rates(model: str, provider: str) -> dict[str, float]:
    from genai_prices import Usage, calc_price

    n = 100_000
    per_m = lambda usage: float(calc_price(usage, model, provider_id=provider).total_price) * 1_000_000 / n  # noqa: E731
    return {"input": per_m(Usage(input_tokens=n)), "read": per_m(Usage(input_tokens=n, cache_read_tokens=n)),
            "write": per_m(Usage(input_tokens=n, cache_write_tokens=n)), "output": per_m(Usage(output_tokens=n))}


def caching_bill_solution() -> dict[str, float]:
    r, b = _rates(BILL["model"], BILL["provider"]), BILL
    n, s, f, o, w = b["requests"], b["shared"], b["fresh"], b["output"], b["writes"]
    without = n * ((s + f) * r["input"] + o * r["output"]) / 1e6
    with_ = (w * s * r["write"] + (n - w) * s * r["read"] + n * f * r["input"] + n * o * r["output"]) / 1e6
    return {"without": without, "with": with_}


@exercise("mindset-cost-caching-bill")
def check_caching_bill(answer: dict[str, Any]) -> Feedback:
    """Daily bills with and without prompt caching for the scenario in the exercise."""
    if (fb := _unfilled(answer, {"without", "with"})) is not None:
        return fb
    right = caching_bill_solution()
    r, b = _rates(BILL["model"], BILL["provider"]), BILL
    if not close(answer["without"], right["without"], 0.01):
        return hint("without caching every request pays the input price for all 3,200 prompt tokens and the output "
                    "price for 150 tokens; prices are per million tokens.")
    all_reads = (b["requests"] * b["shared"] * r["read"] + b["requests"] * (b["fresh"] * r["input"] + b["output"] * r["output"])) / 1e6
    if close(answer["with"], all_reads, 0.01):
        return hint("the 40 requests that write the cache pay the write price (1.25x input) for the shared prefix, not the read price.")
    writes_at_input = right["with"] - b["writes"] * b["shared"] * (r["write"] - r["input"]) / 1e6
    if close(answer["with"], writes_at_input, 0.01):
        return hint("a cache write costs more than plain input on Anthropic: use the 'cache write' rate for the 40 writes.")
    if not close(answer["with"], right["with"], 0.01):
        return hint("with caching: 40 writes and 19,960 reads of the 3,000 shared tokens, plus the 200 fresh input and "
                    "150 output tokens of every request at the normal prices.")
    return passed(f"${right['without']:.2f} a day without caching, ${right['with']:.2f} with it "
                  f"({1 - right['with'] / right['without']:.0%} less); the output tokens are now most of the bill.")


# ================================================================== 04 the ladder: choose a rung

# A teammate's measurement on 60 questions (1 = the answer passed the eval), written for the course:
# rung 1 prompt only, rung 2 prompt + retrieved context, rung 3 a fine-tuned model without context.
def _vector(passes: int, n: int, seed: int) -> np.ndarray:
    v = np.zeros(n, dtype=int)
    v[np.random.default_rng(seed).permutation(n)[:passes]] = 1
    return v


LADDER_RESULTS = {1: _vector(38, 60, 1), 2: _vector(52, 60, 2), 3: _vector(51, 60, 3)}
# what-if costs: USD per 1,000 questions, and one-off costs (fine-tuning: labelling plus training)
LADDER_COST_PER_1000 = {1: 0.30, 2: 0.90, 3: 0.45}
LADDER_ONE_OFF = {1: 0.0, 2: 150.0, 3: 1_400.0}
LADDER_QUESTIONS_PER_YEAR = 1_200_000
LADDER_TARGET = 0.75  # the lower end of the pass rate's 95% interval must reach this


def ladder_solution() -> dict[str, Any]:
    from aie import evals

    rows = {}
    for rung, v in LADDER_RESULTS.items():
        _, low, _ = evals.bootstrap_mean(v, n_resamples=2000, seed=0)
        yearly = LADDER_ONE_OFF[rung] + LADDER_COST_PER_1000[rung] * LADDER_QUESTIONS_PER_YEAR / 1000
        rows[rung] = (low, yearly)
    ok = [r for r, (low, _) in rows.items() if low >= LADDER_TARGET]
    best = min(ok, key=lambda r: rows[r][1])
    return {"rung": best, "low": rows[best][0], "yearly_cost": rows[best][1], "rows": rows}


@exercise("mindset-ladder-rung")
def check_rung(answer: dict[str, Any]) -> Feedback:
    """The cheapest rung (over a year, one-off costs included) whose 95% interval clears the target."""
    if (fb := _unfilled(answer, {"rung", "low", "yearly_cost"})) is not None:
        return fb
    right = ladder_solution()
    rung = int(answer["rung"])
    if rung not in right["rows"]:
        return hint("the rungs are 1 (prompt), 2 (prompt + retrieval) and 3 (fine-tuned).")
    low, yearly = right["rows"][rung]
    if low < LADDER_TARGET:
        return hint(f"rung {rung}'s pass rate has a 95% interval starting at {low:.1%}, below the 75% target: "
                    "judge the lower end of the interval (evals.bootstrap_mean), not the point estimate.")
    if rung != right["rung"]:
        per_call_best = min(right["rows"], key=lambda r: LADDER_COST_PER_1000[r] if right["rows"][r][0] >= LADDER_TARGET else 1e9)
        if rung == per_call_best:
            return hint("include the one-off costs: labelling and training a fine-tuned model is paid before its first "
                        "cheap call, so compare yearly totals.")
        return hint("both remaining rungs clear the target; pick the one with the lower yearly total "
                    "(one-off cost + cost per 1,000 questions x 1,200).")
    if not close(answer["low"], low, 0.005):
        return hint("the rung is right; 'low' is the lower end of its pass rate's 95% bootstrap interval "
                    "(2,000 resamples, seed 0), as a fraction.")
    if not close(answer["yearly_cost"], yearly, 1.0):
        return hint("the rung is right; the yearly cost is the one-off cost plus the cost per 1,000 questions x 1,200.")
    return passed(f"rung {rung}: interval from {low:.1%}, ${yearly:,.0f} a year. The tuned model is cheaper per call "
                  "but its one-off cost decides at this volume; at ten times the volume the answer changes.")


# ================================================================== 04 the ladder: a metric you can trust

# (answer, reference, a person's verdict: does the answer state the reference's key fact?) written for the course
METRIC_CASES: list[tuple[str, str, bool]] = [
    ("Set OPENAI_BASE_URL to http://localhost:11434/v1 and pull the models with Ollama.",
     "export OPENAI_BASE_URL=http://localhost:11434/v1 after pulling llama3.2 and nomic-embed-text", True),
    ("I don't know.", "export OPENAI_BASE_URL=http://localhost:11434/v1 after pulling llama3.2 and nomic-embed-text", False),
    ("With strict replay, a request that has no recording raises an error naming it.",
     "a request with no recording becomes an error that names it", True),
    ("It makes the cassette record every request again.", "a request with no recording becomes an error that names it", False),
    ("Run python -m aie doctor to see which backend and model are active.",
     "which backend is active, which model, and how to switch", True),
    ("It prints the Python version.", "which backend is active, which model, and how to switch", False),
    ("Chunks are at most 160 tokens long.", "160 word-piece tokens per chunk", True),
    ("Chunks are at most 512 tokens long.", "160 word-piece tokens per chunk", False),
    ("The offline model uses all-MiniLM-L6-v2 embeddings, shipped as ONNX.", "all-MiniLM-L6-v2 sentence embeddings (ONNX)", True),
    ("The offline model is a small GPT.", "all-MiniLM-L6-v2 sentence embeddings (ONNX)", False),
    ("The sources do not say; I don't know which embedding model is used.", "all-MiniLM-L6-v2 sentence embeddings (ONNX)", False),
    ("The budget cap stops the run once the spending limit in USD is reached.", "the run stops when the USD spending limit is reached", True),
]


@exercise("mindset-ladder-metric")
def check_metric(metric: Callable[[str, str], bool]) -> Feedback:
    """A pass/fail metric that agrees with a person on at least 11 of the 12 labelled cases."""
    if not callable(metric):
        return hint("pass your function itself: `ex.check_metric(key_fact_pass)`, a function (answer, reference) -> bool.")
    verdicts = [bool(metric(a, r)) for a, r, _ in METRIC_CASES]
    agree = [v == h for v, (_, _, h) in zip(verdicts, METRIC_CASES)]
    if sum(agree) >= len(METRIC_CASES) - 1:
        return passed(f"your metric agrees with the person on {sum(agree)} of {len(METRIC_CASES)} cases. Keep these "
                      "cases as the metric's own test: a metric is a classifier too.")
    wrong = [(a, h) for (a, _, h), ok in zip(METRIC_CASES, agree) if not ok]
    idk = [a for a, h in wrong if re.search(r"don'?t know", a, re.I)]
    if idk:
        return hint(f"an answer that declines ('{idk[0]}') must fail, even when it repeats words of the question.")
    numbers = [a for a, h in wrong if re.search(r"\d", a)]
    if numbers:
        return hint(f"numbers carry the fact: '{numbers[0]}' is judged by whether its numbers match the reference's.")
    return hint(f"your metric agrees with the person on {sum(agree)} of {len(METRIC_CASES)} cases (11 needed); "
                f"it gets this one wrong: '{wrong[0][0]}' (the person says {'pass' if wrong[0][1] else 'fail'}).")
