"""Plumbing for step 6 (scale): a local server to time, a token-bucket rate limiter, and a queueing
simulation of an LLM service.

The lessons (notebooks/06-mindset/02-latency, 05-capacity) keep the ideas visible: the timing loop,
the concurrency loop, the sizing loop. What lives here is set-up they would otherwise repeat: starting
``python -m aie serve`` on a free port, an asyncio limiter shaped like a provider's RPM/TPM limits,
and a seeded discrete-event simulation whose parameters are checked before it runs.
"""

from __future__ import annotations

import asyncio
import atexit
import heapq
import math
import subprocess
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ the course server, over HTTP


class OfflineServer:
    """``python -m aie serve`` with the offline backend, on 127.0.0.1 and a free port, in a subprocess.

    The lesson times real HTTP requests against it: the network stack, JSON, the server's queue and the
    offline model are all on the path, as they are for a hosted API (minus the internet). Stopped by
    :meth:`stop`, at the end of a ``with`` block, or when Python exits."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def start(self, wait_seconds: float = 120) -> str:
        from aie.notebooks import start_server

        if self.process is not None:
            return self.base_url
        # the offline model, whatever the notebook's own backend is
        self.process, self.base_url = start_server("offline", seconds=wait_seconds)
        atexit.register(self.stop)
        return self.base_url

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ------------------------------------------------------------------ rate limiting


class TokenBucket:
    """An asyncio token bucket: ``rate`` units flow in per second, up to ``capacity`` saved.

    ``await bucket.acquire(n)`` returns once ``n`` units are available and takes them. It is the shape
    of a provider's limits: requests per minute is a bucket of requests, tokens per minute a bucket of
    tokens. A full bucket lets a short burst through at once; after that, callers wait."""

    def __init__(self, rate: float, capacity: float | None = None, clock=time.monotonic) -> None:
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate must be a positive number of units per second, got {rate!r}. For a limit of 500 "
                             "requests per minute, pass rate=500 / 60.")
        capacity = rate if capacity is None else capacity
        if not isinstance(capacity, (int, float)) or not math.isfinite(capacity) or capacity < 1:
            raise ValueError(f"capacity must be at least 1 unit (the largest burst let through at once), got {capacity!r}.")
        self.rate, self.capacity, self.clock = float(rate), float(capacity), clock
        self.level, self.updated = self.capacity, clock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, amount: float = 1) -> float:
        """Seconds until ``amount`` units are available (0 if they are now)."""
        self._check(amount)
        self._refill()
        return max(0.0, (amount - self.level) / self.rate)

    async def acquire(self, amount: float = 1) -> None:
        self._check(amount)
        while True:
            wait = self.wait_time(amount)
            if wait <= 0:
                self.level -= amount
                return
            await asyncio.sleep(wait)

    def _check(self, amount: float) -> None:
        if amount <= 0:
            raise ValueError(f"acquire a positive amount, got {amount!r}.")
        if amount > self.capacity:
            raise ValueError(f"a request for {amount:g} units can never pass a bucket that holds at most {self.capacity:g}: "
                             "raise the capacity (for a tokens-per-minute limit, the capacity is the limit itself) or "
                             "send smaller requests.")


class ProviderLimits:
    """Requests-per-minute and tokens-per-minute limits, enforced on the caller's side.

    Providers often enforce a per-minute limit over shorter windows (a limit of 600 per minute as 10 per
    second), so the request bucket holds only ``burst`` requests (default: one second's worth); ``burst=1``
    spaces requests evenly. The token bucket holds one minute's allowance."""

    def __init__(self, rpm: float, tpm: float | None = None, burst: float | None = None) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm), ("burst", burst)):
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0):
                raise ValueError(f"{name} must be a positive number, got {value!r} (rpm and tpm are per minute; leave tpm "
                                 "or burst as None for no token limit and a one-second burst).")
        self.rpm, self.tpm = rpm, tpm
        self.requests = TokenBucket(rpm / 60, capacity=max(1.0, burst if burst is not None else rpm / 60))
        self.tokens = TokenBucket(tpm / 60, capacity=tpm) if tpm else None

    async def acquire(self, tokens: int = 0) -> None:
        await self.requests.acquire(1)
        if self.tokens is not None and tokens:
            await self.tokens.acquire(tokens)


# ------------------------------------------------------------------ the capacity simulation


class ImpossibleLoadError(ValueError):
    """The offered load exceeds what the replicas (or the quota) can ever serve: no steady state exists."""


@dataclass(frozen=True)
class Service:
    """What one replica does: time to first token, decoding speed, and answer lengths (log-normal)."""

    tokens_per_s: float
    ttft_s: float
    mean_output_tokens: float
    spread: float = 0.6  # sigma of log(output tokens): real answer lengths are skewed

    def mean_seconds(self) -> float:
        return self.ttft_s + self.mean_output_tokens / self.tokens_per_s


def _positive(name: str, value, integer: bool = False, allow_zero: bool = False) -> None:
    ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, bool) or not ok_type or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} must be {kind} {'>= 0' if allow_zero else '> 0'}, got {value!r}.")


def simulate(arrival_rate: float, replicas: int, service: Service, *, n_requests: int = 3000, seed: int = 0,
             rpm_limit: float | None = None) -> pd.DataFrame:
    """A seeded simulation of an LLM service: one row per request (arrival, start, seconds waiting and
    being served, end-to-end latency, output tokens).

    Requests arrive as a Poisson process (``arrival_rate`` per second), wait first-come first-served for
    one of ``replicas`` identical servers, each serving one request at a time in ``ttft_s + output
    tokens / tokens_per_s``. With ``rpm_limit`` (a provider's requests-per-minute quota) no more than
    that many requests start in any 60 seconds; the rest wait on the caller's side.

    Raises :class:`ImpossibleLoadError` when the load can never be served (the queue would grow without
    end), and ValueError for parameters that are not positive numbers."""
    _positive("arrival_rate (requests per second)", arrival_rate)
    _positive("replicas", replicas, integer=True)
    _positive("service.tokens_per_s", service.tokens_per_s)
    _positive("service.ttft_s", service.ttft_s, allow_zero=True)
    _positive("service.mean_output_tokens", service.mean_output_tokens)
    _positive("service.spread", service.spread, allow_zero=True)
    _positive("n_requests", n_requests, integer=True)
    if n_requests < 100:
        raise ValueError(f"n_requests={n_requests} is too few for a p95: simulate at least 100 requests (default 3000).")
    busy = arrival_rate * service.mean_seconds()  # replica-seconds of work arriving per second
    if busy >= replicas:
        raise ImpossibleLoadError(
            f"{arrival_rate:g} requests/s x {service.mean_seconds():.2f} s each = {busy:.2f} replicas busy on average, "
            f"but only {replicas} exist: the queue grows without end and no p95 exists. Use at least "
            f"{math.floor(busy) + 1} replicas, shorter answers, or a faster model.")
    if rpm_limit is not None:
        _positive("rpm_limit", rpm_limit)
        if arrival_rate * 60 >= rpm_limit:
            raise ImpossibleLoadError(
                f"{arrival_rate * 60:g} requests arrive per minute on average, at or above the quota of {rpm_limit:g} RPM: "
                "the waiting line grows without end. Ask the provider for a higher quota or spread the load.")
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / arrival_rate, n_requests))
    mu = math.log(service.mean_output_tokens) - service.spread ** 2 / 2  # so that the mean is mean_output_tokens
    tokens = np.maximum(1, np.round(rng.lognormal(mu, service.spread, n_requests))).astype(int)
    serve = service.ttft_s + tokens / service.tokens_per_s
    admitted = arrivals.copy()
    if rpm_limit is not None:  # at most rpm_limit starts in any 60 s: request i waits for i - rpm_limit + 60 s
        window = int(rpm_limit)
        for i in range(window, n_requests):
            admitted[i] = max(arrivals[i], admitted[i - window] + 60.0)
    free = [0.0] * replicas
    heapq.heapify(free)
    start = np.empty(n_requests)
    for i in range(n_requests):
        t = max(admitted[i], heapq.heappop(free))
        start[i] = t
        heapq.heappush(free, t + serve[i])
    done = start + serve
    return pd.DataFrame({"arrival": arrivals, "start": start, "wait_s": start - arrivals, "service_s": serve,
                         "latency_s": done - arrivals, "output_tokens": tokens})


def p95(frame: pd.DataFrame, warmup: float = 0.1) -> float:
    """95th percentile of end-to-end latency, skipping the first ``warmup`` share of requests (the queue
    starts empty, which flatters the first ones)."""
    kept = frame["latency_s"].iloc[int(len(frame) * warmup):]
    return float(np.percentile(kept, 95))


def tokens_per_minute(arrival_rate: float, mean_tokens: float, minutes: int = 60, seed: int = 0,
                      spread: float = 0.6) -> np.ndarray:
    """Tokens sent in each minute of a seeded hour (Poisson arrivals, log-normal tokens per request):
    what a tokens-per-minute quota has to cover."""
    _positive("arrival_rate (requests per second)", arrival_rate)
    _positive("mean_tokens", mean_tokens)
    _positive("minutes", minutes, integer=True)
    rng = np.random.default_rng(seed)
    counts = rng.poisson(arrival_rate * 60, minutes)
    mu = math.log(mean_tokens) - spread ** 2 / 2
    return np.array([int(rng.lognormal(mu, spread, c).round().sum()) for c in counts])
