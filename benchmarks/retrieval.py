"""Retrieval benchmarks for step 3: indexing throughput, query latency, recall@5.

    python benchmarks/retrieval.py                 (about 5-10 minutes on 2 cores)
    python benchmarks/retrieval.py --sizes 1000    (a quick run)

Prints one table. Targets (issue "Roadmap step 3"): query p50 <= 10 ms at 10k chunks, embedded;
hybrid recall@5 >= the better of dense and BM25.

What is measured, and how:

- Embedding: the course embedding function (``aie.embeddings.CourseEmbedding``, all-MiniLM-L6-v2 int8
  ONNX) on real text, with every cache off, in chunks per second.
- Real text for the scale tests: docstrings of the Python standard library (first 2,000 of 20-200
  word pieces, in a fixed order), embedded once. Larger collections are built from these 2,000 vectors
  by tiling them with small Gaussian noise (sigma 0.02 per dimension, then re-normalised), so that the
  10k and 100k collections have realistic, non-duplicate neighbourhoods without embedding 100,000 texts.
  Their documents repeat the real texts.
- Insert: ``collection.add`` with precomputed vectors, in batches of 5,000, in chunks per second;
  "index" combines embedding and insert time (what indexing new text costs end to end).
- Query: 200 distinct queries (the course's labelled questions and docstring first lines), one at a
  time, ``n_results=5``; "search" passes a precomputed query vector, "embed+search" passes the text and
  lets the collection's embedding function embed it (each query text is new to every cache). The two
  kinds alternate, so that both see the same background load.
- Modes: "embedded" is a ``PersistentClient`` in a temporary folder; "server" is ``chroma run`` on
  127.0.0.1 (started by ``aie.retrieval.ChromaServer``) reached with ``HttpClient``.
- Recall@5: on the course's own pages (``course_pages`` snapshot, ``chunk_pages``) and its labelled
  answerable questions: the share of questions with a chunk of an answering section in the top 5.
"""

from __future__ import annotations

import argparse
import inspect
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

STDLIB = ["abc", "argparse", "array", "asyncio", "base64", "bisect", "calendar", "collections", "contextlib", "copy",
          "csv", "dataclasses", "datetime", "decimal", "difflib", "email", "enum", "fractions", "functools", "gzip",
          "hashlib", "heapq", "hmac", "html", "http.client", "imaplib", "inspect", "io", "ipaddress", "itertools", "json",
          "logging", "mailbox", "math", "mimetypes", "multiprocessing", "numbers", "operator", "os", "pathlib", "pickle",
          "pprint", "queue", "random", "re", "sched", "secrets", "selectors", "shlex", "shutil", "smtplib", "socket",
          "sqlite3", "ssl", "statistics", "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap",
          "threading", "timeit", "tkinter", "tokenize", "traceback", "turtle", "typing", "unittest", "urllib.parse",
          "urllib.request", "uuid", "warnings", "wave", "weakref", "xml.dom.minidom", "xml.etree.ElementTree",
          "zipfile", "zoneinfo"]

ROWS: list[tuple[str, ...]] = []


def log(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def docstrings(n: int) -> list[str]:
    """Up to n distinct standard-library docstrings of 20-200 word pieces, in a fixed order."""
    from aie import minilm

    seen, out = set(), []
    for name in STDLIB:
        try:
            mod = importlib.import_module(name)
        except Exception:  # e.g. tkinter without Tk
            continue
        objs = [(f"{name}.{k}", v) for k, v in sorted(vars(mod).items()) if not k.startswith("_")]
        for qual, obj in objs:
            members = [(qual, obj)]
            if inspect.isclass(obj):
                members += [(f"{qual}.{k}", v) for k, v in sorted(vars(obj).items()) if not k.startswith("_")]
            for _, o in members:
                doc = inspect.getdoc(o) if (inspect.isroutine(o) or inspect.isclass(o) or inspect.ismodule(o)) else None
                if not doc:
                    continue
                doc = " ".join(doc.split())
                if doc in seen:
                    continue
                seen.add(doc)
                if 20 <= minilm.count_tokens(doc) <= 200:
                    out.append(doc)
                if len(out) >= n:
                    return out
    return out


def embed_throughput(texts: list[str]) -> tuple[np.ndarray, float]:
    """Embed with the course embedding function, caches off; returns vectors and chunks/s."""
    from aie import minilm
    from aie.embeddings import CourseEmbedding

    minilm._cache.clear()
    ef = CourseEmbedding()
    ef(["warm up the session"])
    minilm._cache.clear()
    start = time.perf_counter()
    vectors = np.array(ef(texts), dtype=np.float32)
    took = time.perf_counter() - start
    minilm._cache.clear()
    return vectors, len(texts) / took


def tiled(vectors: np.ndarray, n: int, sigma: float = 0.02, seed: int = 0) -> np.ndarray:
    """n unit vectors: the real ones first, then noisy copies of them."""
    rng = np.random.default_rng(seed)
    reps = -(-n // len(vectors))
    out = np.concatenate([vectors] + [vectors + rng.normal(0, sigma, vectors.shape).astype(np.float32)
                                      for _ in range(reps - 1)])[:n]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def bench_collection(client, mode: str, size: int, base_vectors: np.ndarray, texts: list[str], embed_rate: float,
                     query_texts: list[str], query_vectors: np.ndarray) -> None:
    from aie import minilm
    from aie.embeddings import CourseEmbedding

    name = f"bench-{size}"
    try:
        client.delete_collection(name)
    except Exception:
        pass
    col = client.create_collection(name, embedding_function=CourseEmbedding())
    vectors = tiled(base_vectors, size)
    ids = [f"c{i}" for i in range(size)]
    docs = [texts[i % len(texts)] for i in range(size)]
    start = time.perf_counter()
    for s in range(0, size, 5000):
        col.add(ids=ids[s:s + 5000], embeddings=vectors[s:s + 5000], documents=docs[s:s + 5000])
    insert_rate = size / (time.perf_counter() - start)
    index_rate = 1 / (1 / embed_rate + 1 / insert_rate)
    col.query(query_embeddings=query_vectors[:1], n_results=5)  # warm
    minilm._cache.clear()
    search, full = [], []
    for v, q in zip(query_vectors, query_texts):  # alternate, so both see the same background load
        t = time.perf_counter()
        col.query(query_embeddings=v[None, :], n_results=5)
        search.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        col.query(query_texts=[q], n_results=5)
        full.append((time.perf_counter() - t) * 1000)
    minilm._cache.clear()
    target = "<= 10 ms" if (mode == "embedded" and size == 10_000) else ""
    ROWS.append((f"{size:,}", mode, f"{insert_rate:,.0f}", f"{index_rate:,.1f}",
                 f"{statistics.median(search):.1f} / {pct(search, 99):.1f}",
                 f"{statistics.median(full):.1f} / {pct(full, 99):.1f}", target))
    log(f"{mode} {size:,}: insert {insert_rate:,.0f}/s, search p50 {statistics.median(search):.1f} ms, "
        f"embed+search p50 {statistics.median(full):.1f} ms")
    client.delete_collection(name)


def recall_at_5() -> list[tuple[str, float]]:
    from aie import data, retrieval

    pages = retrieval.load_pages()
    chunks = retrieval.chunk_pages(pages)
    col = retrieval.course_collection(retrieval.ephemeral_client(), "bench-recall")
    retrieval.upsert_chunks(col, chunks)
    search = retrieval.HybridRetriever(col, chunks)
    section = {c.id: (c.metadata["page"], c.metadata["section"]) for c in chunks}
    q = data.load("retrieval_questions")
    q = q[q.kind != "unanswerable"]
    out = []
    for name, fn in [("dense", search.dense), ("BM25", search.keyword), ("hybrid (RRF, 10 candidates each)", search.hybrid)]:
        hits = []
        for row in q.itertuples():
            wanted = {(row.page, row.section)}
            if isinstance(row.also, str):
                wanted |= {tuple(x.strip().split("#", 1)) for x in row.also.split(";")}
            hits.append(any(section[h.id] in wanted for h in fn(row.question, 5)))
        out.append((name, float(np.mean(hits))))
    return out, len(q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="collection sizes, comma-separated")
    parser.add_argument("--modes", default="embedded,server", help="embedded and/or server")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")

    from aie import data, retrieval

    log("collecting real text (standard-library docstrings)")
    texts = docstrings(2000)
    questions = list(data.load("retrieval_questions").question)
    query_texts = (questions + [t.split(". ")[0] + "?" for t in texts[::7]])[:200]
    query_texts = list(dict.fromkeys(query_texts))[:200]
    log(f"embedding {len(texts)} texts with the course embedding function (no cache)")
    base, embed_rate = embed_throughput(texts)
    from aie import minilm

    query_vectors = minilm.embed(query_texts)
    minilm._cache.clear()

    with tempfile.TemporaryDirectory(prefix="aie-bench-") as tmp:
        if "embedded" in modes:
            client = retrieval.persistent_client(Path(tmp) / "embedded")
            for size in sizes:
                bench_collection(client, "embedded", size, base, texts, embed_rate, query_texts, query_vectors)
        if "server" in modes:
            with retrieval.ChromaServer(Path(tmp) / "server") as server:
                client = server.client()
                for size in sizes:
                    bench_collection(client, "server", size, base, texts, embed_rate, query_texts, query_vectors)

    log("recall@5 on the course's labelled questions")
    recalls, n_questions = recall_at_5()

    import platform

    print(f"\nRetrieval benchmark: chromadb {__import__('chromadb').__version__}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"Embedding with the course embedding function (CourseEmbedding, all-MiniLM-L6-v2 int8, caches off): "
          f"{embed_rate:,.1f} chunks/s on {len(texts):,} real chunks (standard-library docstrings, 20-200 word pieces)")
    print("Collections beyond 2,000 chunks tile those real vectors with Gaussian noise (sigma 0.02, re-normalised).\n")
    header = ("chunks", "mode", "insert (chunks/s)", "index = embed + insert (chunks/s)",
              "query p50 / p99, search only (ms)", "query p50 / p99, embed + search (ms)", "target (p50)")
    widths = [max(len(h), *(len(r[i]) for r in ROWS)) for i, h in enumerate(header)] if ROWS else [len(h) for h in header]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-|-".join("-" * w for w in widths))
    for r in ROWS:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    best_single = max(r for name, r in recalls if not name.startswith("hybrid"))
    print(f"\nrecall@5 on the course's pages ({n_questions} answerable labelled questions; a chunk of an answering "
          "section in the top 5):")
    for name, r in recalls:
        note = ""
        if name.startswith("hybrid"):
            note = f"   target >= {best_single:.3f} (the better of dense and BM25): {'met' if r >= best_single else 'NOT met'}"
        print(f"  {name:<34} {r:.3f}{note}")
    ten_k = [r for r in ROWS if r[0] == "10,000" and r[1] == "embedded"]
    if ten_k:
        p50 = float(ten_k[0][5].split(" / ")[0])
        print(f"\nquery p50 at 10k chunks, embedded, embed + search: {p50:.1f} ms; target <= 10 ms: "
              f"{'met' if p50 <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
