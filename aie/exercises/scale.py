"""Checkers for step 6, scaling (notebooks/06-mindset/02-latency, 05-capacity).

No checker times anything: timings vary from run to run and machine to machine. They check decisions
made from a table (fixed tables here) or from the seeded simulation in :mod:`aie.scale`, which is the
same on every machine.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from aie import scale
from aie.check import Feedback, exercise, hint, passed

# ================================================================== 02 latency

# ------------------------------------------------------------------ 1. pick the concurrency for a budget

# (table rows (concurrency, requests/s, p95 latency s), budget s, expected concurrency or None, why)
CURVES: list[tuple[list[tuple[int, float, float]], float, int | None, str]] = [
    ([(1, 4.0, 0.30), (2, 7.5, 0.35), (4, 12.0, 0.50), (8, 14.0, 0.90), (16, 14.5, 1.80)], 1.0, 8,
     "the fastest level inside the budget"),
    ([(1, 4.0, 0.30), (2, 7.5, 0.35), (4, 12.0, 0.50), (8, 14.0, 0.90), (16, 14.5, 1.80)], 0.6, 4,
     "a tighter budget"),
    ([(16, 9.0, 2.5), (1, 3.0, 0.4), (8, 9.5, 1.2), (2, 5.5, 0.5), (4, 9.6, 0.7)], 1.5, 4,
     "rows out of order, and the highest throughput inside the budget is not the highest concurrency"),
    ([(1, 4.0, 0.30), (2, 7.5, 0.35), (4, 12.0, 0.50)], 0.2, None, "no level meets the budget"),
]


def _curve(rows: list[tuple[int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["concurrency", "requests/s", "p95 latency (s)"])


@exercise("scale-latency-pick-concurrency")
def check_pick_concurrency(pick: Callable[[pd.DataFrame, float], Any]) -> Feedback:
    """``pick(curve, budget_s)`` returns the concurrency with the most requests/s whose p95 latency is
    within the budget, or None when no level meets it."""
    if not callable(pick):
        return hint("pass the function itself, `pick_concurrency`, not the result of calling it.")
    for rows, budget, expected, why in CURVES:
        table = _curve(rows)
        got = pick(table.copy(), budget)
        if got is not None and not isinstance(got, (int, float)):
            return hint(f"return one concurrency level (an int) or None; got {type(got).__name__}.")
        if expected is None and got is not None:
            return hint(f"with a budget of {budget} s no level qualifies ({why}): return None so the caller knows, rather "
                        f"than concurrency {got}.")
        if got == expected:
            continue
        if got is None:
            return hint(f"with a budget of {budget} s, concurrency {expected} qualifies ({why}), but you returned None.")
        row = table[table["concurrency"] == got]
        if row.empty:
            return hint(f"{got} is not a concurrency level in the table; return a value from its 'concurrency' column.")
        if float(row["p95 latency (s)"].iloc[0]) > budget:
            return hint(f"concurrency {got} has a p95 of {float(row['p95 latency (s)'].iloc[0])} s, over the {budget} s budget: "
                        "filter on 'p95 latency (s)' <= budget first.")
        return hint(f"concurrency {got} meets the budget, but {expected} gives more requests/s ({why}): among the levels "
                    "inside the budget, take the one with the highest 'requests/s', not the highest concurrency.")
    return passed("the most throughput that keeps p95 inside the budget, and None when nothing does. Past that point "
                  "more concurrency only lengthens the queue.")


# ------------------------------------------------------------------ 2. which limit bites

LIMIT_RPM, LIMIT_TPM = 500, 200_000
PROMPT_TOKENS, MAX_TOKENS = 1_150, 250


def requests_per_minute_allowed() -> int:
    """Providers count a request's prompt plus its max_tokens against the token limit when it arrives."""
    return min(LIMIT_RPM, LIMIT_TPM // (PROMPT_TOKENS + MAX_TOKENS))


@exercise("scale-latency-rate-limits")
def check_rate_limits(answer: Any) -> Feedback:
    """Requests per minute a workload can sustain under LIMIT_RPM and LIMIT_TPM."""
    right = requests_per_minute_allowed()
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return hint("answer with one number: requests per minute.")
    if abs(value - right) <= 1:
        return passed(f"{right} requests per minute: the token limit ({LIMIT_TPM:,} / {PROMPT_TOKENS + MAX_TOKENS:,} tokens) "
                      f"bites long before the {LIMIT_RPM} RPM limit. Shorter prompts or a lower max_tokens raise it.")
    if abs(value - LIMIT_RPM) <= 1:
        return hint(f"{LIMIT_RPM} is the request limit, but each request also spends tokens: check how many requests the "
                    "tokens-per-minute limit allows, and take the smaller.")
    if abs(value - LIMIT_TPM / PROMPT_TOKENS) <= 1:
        return hint("you counted only the prompt: the token limit counts the prompt plus max_tokens of each request.")
    if abs(value - LIMIT_TPM / MAX_TOKENS) <= 1:
        return hint("you counted only the answer: the token limit counts the prompt plus max_tokens of each request.")
    if abs(value - right / 60) <= 1:
        return hint("that looks like requests per second; the exercise asks for requests per minute.")
    return hint("divide the tokens-per-minute limit by the tokens each request counts (prompt + max_tokens), compare with "
                "the requests-per-minute limit, and take the smaller.")


# ================================================================== 05 capacity

# ------------------------------------------------------------------ 1. replicas for a p95

SIZING = {"arrival_rate": 0.5, "target_p95_s": 16.0,
          "service": scale.Service(tokens_per_s=30.0, ttft_s=0.8, mean_output_tokens=180.0)}


def replicas_needed(arrival_rate: float, target_p95_s: float, service: scale.Service, seed: int = 0) -> int:
    """The fewest replicas whose simulated p95 meets the target (the lesson's loop, written once more here)."""
    r = math.floor(arrival_rate * service.mean_seconds()) + 1
    floor = float(np.percentile(scale.simulate(arrival_rate, r, service, seed=seed)["service_s"], 95))
    if target_p95_s <= floor:
        raise ValueError(f"a p95 of {target_p95_s} s is below the p95 of the service time alone ({floor:.1f} s): no number of "
                         "replicas reaches it; shorten the answers or use a faster model.")
    while r < 1000:
        if scale.p95(scale.simulate(arrival_rate, r, service, seed=seed)) <= target_p95_s:
            return r
        r += 1
    raise ValueError("no replica count up to 1000 meets the target")


@exercise("scale-capacity-replicas")
def check_replicas(answer: Any) -> Feedback:
    """Fewest replicas for SIZING's p95 target (seed 0)."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        return hint("answer with a whole number of replicas.")
    n = int(answer)
    s = SIZING["service"]
    right = replicas_needed(SIZING["arrival_rate"], SIZING["target_p95_s"], s)
    stable = math.floor(SIZING["arrival_rate"] * s.mean_seconds()) + 1
    if n == right:
        return passed(f"{right} replicas: the p95 is {scale.p95(scale.simulate(SIZING['arrival_rate'], right, s)):.1f} s. "
                      f"{stable} would keep up on average, but the queue's tail needs headroom.")
    if n < stable:
        return hint(f"with {n} replicas the work arriving ({SIZING['arrival_rate'] * s.mean_seconds():.2f} replica-seconds per "
                    "second) exceeds what they can do, and the queue grows without end: start the search higher.")
    if n < right:
        got = scale.p95(scale.simulate(SIZING["arrival_rate"], n, s))
        return hint(f"{n} replicas keep up on average, but the simulated p95 is {got:.1f} s, over the "
                    f"{SIZING['target_p95_s']:.0f} s target: the tail needs more headroom than the mean.")
    return hint(f"{n} replicas meet the target, but fewer do too: find the *fewest* (each replica costs money).")


# ------------------------------------------------------------------ 2. a tokens-per-minute quota

QUOTA = {"arrival_rate": 1.0, "mean_tokens": 2_500, "minutes": 240, "seed": 11}


def quota_needed() -> int:
    """The tokens-per-minute quota that covers 99% of the simulated minutes."""
    per_minute = scale.tokens_per_minute(QUOTA["arrival_rate"], QUOTA["mean_tokens"], QUOTA["minutes"], QUOTA["seed"])
    return int(np.percentile(per_minute, 99))


@exercise("scale-capacity-quota")
def check_quota(answer: Any) -> Feedback:
    """A TPM quota covering 99% of minutes of the QUOTA workload (within 2%)."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return hint("answer with one number of tokens per minute.")
    right = quota_needed()
    mean = QUOTA["arrival_rate"] * 60 * QUOTA["mean_tokens"]
    if abs(value - right) <= 0.02 * right:
        return passed(f"about {right:,} tokens per minute, {right / mean - 1:.0%} above the average of {mean:,.0f}: "
                      "random arrivals and long answers bunch up, and a quota sized for the average is hit in many minutes.")
    if abs(value - mean) <= 0.02 * mean:
        return hint(f"{mean:,.0f} is the *average* minute; about half of all minutes are busier. Size for the 99th percentile "
                    "of the per-minute totals.")
    if abs(value - mean / 60) <= 0.02 * mean / 60 or abs(value - right / 60) <= 0.02 * right / 60:
        return hint("that is per second; quotas are per minute.")
    if value > right * 1.02:
        return hint("that covers more than 99% of minutes (perhaps the busiest minute): a higher quota than needed. Use the "
                    "99th percentile of the per-minute totals.")
    return hint("simulate the per-minute token totals with scale.tokens_per_minute(...) and the exercise's parameters, "
                "then take their 99th percentile (np.percentile(..., 99)).")
