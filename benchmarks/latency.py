"""Time to first token and decoding speed of the local LLM, streamed token by token.

    python benchmarks/latency.py [--repeats 3] [--max-tokens 64]

Needs the local LLM (`make local-llm`). Prints one table (markdown) with the date, the CPU, the load
average at the start, and for a short and a long (retrieval-sized) prompt: prompt tokens, time to first
token, total time, streamed chunks (one per token, plus a last one that closes the stream) and decoding
speed. The lesson notebooks/06-mindset/02-latency.ipynb
quotes these figures.

How: the model is loaded in this process with llama.cpp (as the course's server loads it) and each
request is decoded with ``stream=True``, so the first token is timed when llama.cpp yields it. The course
server (``python -m aie serve``) computes a whole answer before sending its stream, so timing it over
HTTP would report a time to first token equal to the total; this script times the model itself.
Decoding speed = (chunks - 1) / (total - time to first token). The cache is reset before each
request, so no prompt is reused. Figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHORT = [{"role": "user", "content": "In two sentences, why does streaming make a chatbot feel faster?"}]
CONTEXT = " ".join(f"Passage {i}: the support team closed ticket {1000 + i} after the customer confirmed the fix, "
                   "and recorded the cause in the knowledge base." for i in range(24))
LONG = [{"role": "system", "content": "Answer from the passages only."},
        {"role": "user", "content": CONTEXT + "\n\nQuestion: what did the team do after each fix was confirmed?"}]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure(llm, prompt_ids: list[int], max_tokens: int) -> tuple[float, float, int]:
    """(seconds to first chunk, total seconds, chunks) for one streamed, greedy completion."""
    llm.reset()
    start = time.perf_counter()
    first, n = None, 0
    for _ in llm.create_completion(prompt_ids, max_tokens=max_tokens, temperature=0, stream=True,
                                   stop=["<|im_end|>", "<|endoftext|>"]):
        n += 1
        if first is None:
            first = time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="requests per prompt (median reported)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: the course's, AIE_LOCAL_THREADS or up to 4)")
    args = parser.parse_args()
    if not 1 <= args.repeats <= 20 or not 2 <= args.max_tokens <= 512:
        parser.error("--repeats must be 1-20 and --max-tokens 2-512")

    if args.threads is not None:
        if not 1 <= args.threads <= 64:
            parser.error("--threads must be 1-64")
        os.environ["AIE_LOCAL_THREADS"] = str(args.threads)
    from aie import localllm

    load = os.getloadavg()[0]
    llm = localllm._load()
    spec = localllm.selected()
    print(f"{spec.title}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {cpu_name()}, {os.cpu_count()} cores; "
          f"llama.cpp threads: {llm.n_threads}; load average at start {load:.1f}")
    print("| prompt | prompt tokens | time to first token (s) | total (s) | streamed chunks | decoding (tokens/s) |")
    print("|---|---|---|---|---|---|")
    for name, messages in [("short question", SHORT), ("retrieval-sized", LONG)]:  # noqa: B007
        prompt, _, _ = localllm.render({"messages": messages})
        ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        runs = [measure(llm, ids, args.max_tokens) for _ in range(args.repeats)]
        ttft = statistics.median(r[0] for r in runs)
        total = statistics.median(r[1] for r in runs)
        n = int(statistics.median(r[2] for r in runs))
        speed = statistics.median((r[2] - 1) / (r[1] - r[0]) for r in runs if r[2] > 1 and r[1] > r[0])
        print(f"| {name} | {len(ids)} | {ttft:.2f} | {total:.2f} | {n} | {speed:.1f} |", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
