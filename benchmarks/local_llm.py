"""The local LLM and its recordings: size, load time, speed, memory, and what the cassettes cost.

    python benchmarks/local_llm.py [--record-log FILE]

Needs the local LLM (`make local-llm`). Prints one table. ``--record-log`` reads the output of
`python -m aie record` ("recorded <notebook>: N responses in S s" lines) to report recording time.
Run it on an otherwise idle machine: the speed figures are what two cores give.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def row(what: str, value: str, note: str = "") -> None:
    print(f"| {what} | {value} | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record-log", help="output of `python -m aie record`")
    args = parser.parse_args()

    from aie import localllm

    spec = localllm.selected()
    print(f"| measure | value | note |\n|---|---|---|")

    with tempfile.TemporaryDirectory() as tmp:  # assemble from the wheels into a fresh cache, timed
        os.environ["AIE_CACHE_DIR"] = tmp
        start = time.perf_counter()
        path = localllm.model_path()
        row("join 22 parts + sha256 + GGUF header check", f"{time.perf_counter() - start:.1f} s", "once per machine")
        size = path.stat().st_size
        del os.environ["AIE_CACHE_DIR"]
    row("assembled model size", f"{size / 2**20:.0f} MiB", spec.title)

    path = localllm.model_path()
    from llama_cpp import Llama

    start = time.perf_counter()
    llm = Llama(model_path=str(path), n_ctx=localllm.N_CTX, n_threads=2, n_batch=512, seed=0, verbose=False)
    row("load time (file in page cache)", f"{time.perf_counter() - start:.1f} s", "2 threads")

    prompt = "Summarise the following notes in one sentence.\n" + " ".join(
        f"Note {i}: the team reviewed ticket {1000 + i} and closed it." for i in range(60))
    ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    prompt_rates, gen_rates = [], []
    for _ in range(3):
        llm.reset()
        start = time.perf_counter()
        llm.eval(ids)
        prompt_rates.append(len(ids) / (time.perf_counter() - start))
        llm.reset()
        start = time.perf_counter()
        out = llm.create_completion("Write a long story about a lighthouse keeper.", max_tokens=128, temperature=0)
        gen_rates.append(out["usage"]["completion_tokens"] / (time.perf_counter() - start))
    row("prompt processing", f"{statistics.median(prompt_rates):.0f} tokens/s", f"median of 3, {len(ids)}-token prompt")
    row("generation", f"{statistics.median(gen_rates):.1f} tokens/s", "median of 3, 128 tokens, temperature 0")
    row("peak memory of this process", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB",
        f"n_ctx {localllm.N_CTX}")

    tapes = sorted(REPO.glob("notebooks/*/*.cassette.jsonl"))
    lines = sum(max(0, len(t.read_text().splitlines()) - 1) for t in tapes)
    row("cassettes committed", f"{len(tapes)} files, {lines} recordings", "")
    row("total cassette size", f"{sum(t.stat().st_size for t in tapes) / 2**20:.2f} MiB", "target: well under 10 MB")
    if args.record_log:
        found = re.findall(r"recorded (\S+): (\d+) responses in (\d+) s", Path(args.record_log).read_text())
        total = sum(int(s) for _, _, s in found)
        row("time to record", f"{total / 60:.0f} min for {len(found)} notebooks", f"from {args.record_log}")
        for nb, n, s in sorted(found, key=lambda x: -int(x[2]))[:5]:
            row(f"  slowest: {Path(nb).name}", f"{int(s) / 60:.1f} min", f"{n} responses")


if __name__ == "__main__":
    main()
