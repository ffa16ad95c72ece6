"""Does ``python -m aie serve`` answer a burst of concurrent requests?

    python benchmarks/server_burst.py                      (256 and 512 at once; about a minute on 2 cores)
    python benchmarks/server_burst.py --concurrency 64     (a quick run)
    python benchmarks/server_burst.py --endpoint models    (GET /v1/models: the server alone, no model work)

Prints one table: concurrency, answered, failed, requests/s, p50/p95 latency. Target (issue 17): every
request answered at 256 concurrent.

What is measured, and how: the server (``aie.offline.server.make_server``, whichever ``aie`` is on the
path, so the same script measures an older checkout too) runs in this process on 127.0.0.1 with a
free port. For each concurrency N, N threads wait at a barrier, then each sends one request on its own
new connection (no keep-alive), so the server must accept N connections at once. A request is
"answered" when it gets HTTP 200 within the timeout; anything else (refused or reset connection,
timeout, another status) is "failed". requests/s is answered requests over the wall time of the burst;
latencies are of answered requests, from the barrier to the end of the response. Loopback only, at most
1024 requests per burst, each bounded by --timeout.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter

import httpx2 as httpx

from aie.offline.server import make_server

CHAT = {"model": "aie-offline", "temperature": 0,
        "messages": [{"role": "user", "content": "Is this review positive or negative? 'The battery died after a day.'"}]}
MAX_CONCURRENCY = 1024


def burst(base_url: str, n: int, endpoint: str, timeout: float) -> dict:
    """Fire ``n`` requests at once; return counts, wall time, latencies and failure kinds."""
    barrier = threading.Barrier(n + 1)
    latencies: list[float] = []
    failures: Counter = Counter()
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    with httpx.Client(base_url=base_url, timeout=timeout, limits=limits) as client:

        def one() -> None:
            barrier.wait()
            start = time.perf_counter()
            try:
                if endpoint == "models":
                    r = client.get("/models")
                else:
                    r = client.post("/chat/completions", json=CHAT)
                kind = None if r.status_code == 200 else f"HTTP {r.status_code}"
            except httpx.HTTPError as e:
                kind = type(e).__name__
            took = time.perf_counter() - start
            with lock:
                if kind is None:
                    latencies.append(took)
                else:
                    failures[kind] += 1

        threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in threads:
            t.join(timeout + 5)
        wall = time.perf_counter() - start
    lost = n - len(latencies) - sum(failures.values())  # threads still stuck after the timeout
    if lost:
        failures["no answer"] += lost
    return {"n": n, "answered": len(latencies), "failed": n - len(latencies), "wall": wall,
            "latencies": sorted(latencies), "failures": failures}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--endpoint", choices=["chat", "models"], default="chat")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = parser.parse_args()
    if any(not 1 <= n <= MAX_CONCURRENCY for n in args.concurrency):
        parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")

    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}/v1"
    try:
        burst(base_url, 4, args.endpoint, args.timeout)  # warm up: load the embedding model once
        print(f"endpoint: {args.endpoint}; listen queue: {server.request_queue_size}; timeout: {args.timeout:.0f} s per request")
        print(f"{'concurrency':>11}  {'answered':>8}  {'failed':>6}  {'requests/s':>10}  {'p50 (s)':>8}  {'p95 (s)':>8}  failures")
        for n in args.concurrency:
            r = burst(base_url, n, args.endpoint, args.timeout)
            rate = r["answered"] / r["wall"] if r["wall"] else float("nan")
            kinds = ", ".join(f"{k} x{v}" for k, v in r["failures"].most_common()) or "-"
            print(f"{n:>11}  {r['answered']:>8}  {r['failed']:>6}  {rate:>10.1f}  {percentile(r['latencies'], 0.5):>8.2f}  "
                  f"{percentile(r['latencies'], 0.95):>8.2f}  {kinds}", flush=True)
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
