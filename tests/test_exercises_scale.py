"""Step 6, scaling: the checkers in aie.exercises.scale (a right answer passes, typical wrong ones get their
hint) and the bad-input errors of aie.scale (rate limiter, simulation). Nothing here times anything."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from aie import scale
from aie.exercises import scale as ex
from feedback import hints, ok


# ------------------------------------------------------------------ 02 latency: pick the concurrency

def right_pick(curve, budget_s):
    inside = curve[curve["p95 latency (s)"] <= budget_s]
    return None if inside.empty else int(inside.loc[inside["requests/s"].idxmax(), "concurrency"])


def test_pick_concurrency_right_answer_passes():
    ok(ex.check_pick_concurrency(right_pick))


def test_pick_concurrency_highest_concurrency_inside_budget_gets_hint():
    def highest(curve, budget_s):
        inside = curve[curve["p95 latency (s)"] <= budget_s]
        return None if inside.empty else int(inside["concurrency"].max())
    hints(ex.check_pick_concurrency(highest), "highest 'requests/s'")


def test_pick_concurrency_ignoring_the_budget_gets_hint():
    hints(ex.check_pick_concurrency(lambda c, b: int(c.loc[c["requests/s"].idxmax(), "concurrency"])), "over the")


def test_pick_concurrency_never_none_gets_hint():
    def no_none(curve, budget_s):
        inside = curve[curve["p95 latency (s)"] <= budget_s]
        return int(curve["concurrency"].min()) if inside.empty else right_pick(curve, budget_s)
    hints(ex.check_pick_concurrency(no_none), "return None")


def test_pick_concurrency_not_a_function_gets_hint():
    hints(ex.check_pick_concurrency(8), "function itself")


# ------------------------------------------------------------------ 02 latency: which limit bites

def test_rate_limits():
    ok(ex.check_rate_limits(ex.requests_per_minute_allowed()))
    assert ex.requests_per_minute_allowed() == 142
    hints(ex.check_rate_limits(ex.LIMIT_RPM), "tokens-per-minute")
    hints(ex.check_rate_limits(ex.LIMIT_TPM // ex.PROMPT_TOKENS), "only the prompt")
    hints(ex.check_rate_limits(142 / 60), "per second")
    hints(ex.check_rate_limits("lots"), "one number")


# ------------------------------------------------------------------ 05 capacity: replicas for a p95

def test_replicas():
    right = ex.replicas_needed(ex.SIZING["arrival_rate"], ex.SIZING["target_p95_s"], ex.SIZING["service"])
    ok(ex.check_replicas(right))
    hints(ex.check_replicas(right - 1), "headroom")
    hints(ex.check_replicas(1), "grows without end")
    hints(ex.check_replicas(right + 2), "fewest")
    hints(ex.check_replicas(2.5), "whole number")


def test_replicas_needed_refuses_a_target_below_the_floor():
    with pytest.raises(ValueError, match="below the p95 of the service time"):
        ex.replicas_needed(0.5, 1.0, ex.SIZING["service"])


# ------------------------------------------------------------------ 05 capacity: quota

def test_quota():
    right = ex.quota_needed()
    mean = ex.QUOTA["arrival_rate"] * 60 * ex.QUOTA["mean_tokens"]
    ok(ex.check_quota(right))
    hints(ex.check_quota(mean), "average")
    hints(ex.check_quota(right / 60), "per second")
    hints(ex.check_quota(right * 2), "more than 99%")
    assert right > mean  # the busy minutes, not the average one


# ------------------------------------------------------------------ aie.scale: bad input

@pytest.mark.parametrize("rate", [0, -1, float("nan"), "10", True])
def test_token_bucket_refuses_a_non_positive_rate(rate):
    with pytest.raises(ValueError, match="rate must be a positive number"):
        scale.TokenBucket(rate)


def test_token_bucket_refuses_a_request_bigger_than_it_can_hold():
    bucket = scale.TokenBucket(rate=10, capacity=5)
    with pytest.raises(ValueError, match="can never pass"):
        asyncio.run(bucket.acquire(6))


def test_provider_limits_refuse_bad_limits():
    with pytest.raises(ValueError, match="rpm must be a positive"):
        scale.ProviderLimits(rpm=0)
    with pytest.raises(ValueError, match="tpm must be a positive"):
        scale.ProviderLimits(rpm=500, tpm=-1)
    with pytest.raises(ValueError, match="burst must be a positive"):
        scale.ProviderLimits(rpm=500, burst=0)


def test_token_bucket_waits_at_its_rate():
    clock = [0.0]
    bucket = scale.TokenBucket(rate=2, capacity=2, clock=lambda: clock[0])
    assert bucket.wait_time(2) == 0
    bucket.level -= 2  # spent the burst
    assert bucket.wait_time(1) == pytest.approx(0.5)
    clock[0] = 0.5
    assert bucket.wait_time(1) == 0


SERVICE = scale.Service(tokens_per_s=30, ttft_s=1.0, mean_output_tokens=150)


def test_simulate_refuses_an_overload():
    with pytest.raises(scale.ImpossibleLoadError, match="at least 4 replicas"):
        scale.simulate(0.5, 2, SERVICE)


def test_simulate_refuses_a_quota_below_the_load():
    with pytest.raises(scale.ImpossibleLoadError, match="quota"):
        scale.simulate(2.0, 100, SERVICE, rpm_limit=100)


@pytest.mark.parametrize("kwargs, word", [
    ({"arrival_rate": 0}, "arrival_rate"), ({"replicas": 0}, "replicas"), ({"replicas": 2.5}, "whole number"),
    ({"n_requests": 10}, "at least 100"), ({"service": scale.Service(0, 1, 150)}, "tokens_per_s"),
    ({"service": scale.Service(30, -1, 150)}, "ttft_s"),
])
def test_simulate_refuses_impossible_parameters(kwargs, word):
    args = {"arrival_rate": 0.1, "replicas": 2, "service": SERVICE} | kwargs
    with pytest.raises(ValueError, match=word):
        scale.simulate(**args)


def test_simulate_is_seeded_and_queues():
    a, b = scale.simulate(0.3, 2, SERVICE, seed=3), scale.simulate(0.3, 2, SERVICE, seed=3)
    assert a.equals(b)
    assert (a["latency_s"] >= a["service_s"] - 1e-9).all()
    assert scale.p95(scale.simulate(0.3, 2, SERVICE)) > scale.p95(scale.simulate(0.3, 6, SERVICE))


def test_simulate_rpm_limit_holds_in_every_window():
    run = scale.simulate(1.9, 200, SERVICE, rpm_limit=120, n_requests=2000)
    starts = np.sort(run["start"].to_numpy())
    assert (starts[120:] - starts[:-120] >= 60 - 1e-9).all()


def test_tokens_per_minute_is_seeded():
    assert (scale.tokens_per_minute(1.0, 1000, 30, seed=1) == scale.tokens_per_minute(1.0, 1000, 30, seed=1)).all()
    with pytest.raises(ValueError, match="mean_tokens"):
        scale.tokens_per_minute(1.0, 0)
