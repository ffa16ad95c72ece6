"""Plumbing for the memory lesson (notebooks/04-orchestration/06-memory.ipynb).

The ideas (the sliding window, the summary prompt, the extraction prompt, the retrieval query, the
recency rule) are written out in the notebook. This module holds the small pieces around them that the
tests need to check once:

- :func:`check_fact`, so that a store refuses an empty or oversized fact with a message that says what to
  do, before anything is written (a batch with one bad fact stores nothing, and loses nothing);
- :func:`files_containing` and :func:`compact`, to check what a "delete" leaves on disk: chromadb's
  persistent store is an SQLite file, and SQLite keeps deleted rows' bytes in free pages until VACUUM;
- :func:`read_in_new_process`, to read a persistent store from a separate Python process, which is what a
  kernel restart amounts to (a second client in the same process may share the first one's cache).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from aie import tokens

MAX_FACT_TOKENS = 60  # a fact is one sentence; longer text is a document and belongs in a retrieval index


class FactError(ValueError):
    """A fact that should not be stored (empty, not text, or too long)."""


def check_fact(fact: Any, max_tokens: int = MAX_FACT_TOKENS) -> str:
    """The fact, stripped, if it can be stored; otherwise :class:`FactError` saying what is wrong."""
    if not isinstance(fact, str):
        raise FactError(f"a fact must be a string, got {type(fact).__name__} ({fact!r:.60}); "
                        "pass one sentence of text, such as 'Mina lives in Seoul.'")
    text = fact.strip()
    if not text:
        raise FactError("the fact is empty: there is nothing to remember. Skip empty strings returned by the "
                        "extraction step instead of storing them.")
    n = tokens.count(text)
    if n > max_tokens:
        raise FactError(f"the fact has {n} tokens, more than the limit of {max_tokens}: a memory should be one "
                        f"short sentence (it starts {text[:50]!r}). Split it into separate facts, or store long "
                        "text as a document in a retrieval index instead.")
    return text


def check_facts(facts: Any, max_tokens: int = MAX_FACT_TOKENS) -> list[str]:
    """Check a whole batch first, so that one bad fact stops the batch before anything is written."""
    if isinstance(facts, str):
        raise FactError("pass a list of facts, not a single string: wrap it as [fact]")
    checked = []
    for i, fact in enumerate(facts):
        try:
            checked.append(check_fact(fact, max_tokens))
        except FactError as e:
            raise FactError(f"fact {i}: {e} Nothing in this batch was stored.") from None
    return checked


def files_containing(folder: str | Path, text: str) -> list[str]:
    """Files under ``folder`` (relative paths, sorted) whose bytes contain ``text`` (UTF-8)."""
    needle = text.encode()
    root = Path(folder)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


def compact(folder: str | Path) -> int:
    """VACUUM chromadb's SQLite file: rewrite it without the free pages that still hold deleted rows.

    Returns the file's size in bytes afterwards."""
    db = Path(folder) / "chroma.sqlite3"
    if not db.exists():
        raise FileNotFoundError(f"no chroma.sqlite3 in {folder}: pass the folder given to chromadb.PersistentClient")
    con = sqlite3.connect(db)
    try:
        con.execute("VACUUM")
    finally:
        con.close()
    return db.stat().st_size


_READER = """
import json, sys
import chromadb
from chromadb.config import Settings
import aie.embeddings  # registers the course embedding function the collection was made with
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
got = client.get_collection(sys.argv[2]).get(where=json.loads(sys.argv[3]), include=["documents", "metadatas"])
print(json.dumps([{"id": i, "document": d, **(m or {})} for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]))
"""


def read_in_new_process(folder: str | Path, collection: str, where: dict) -> list[dict]:
    """Read records from a persistent chromadb folder in a fresh Python process (nothing shared with
    this one), sorted by id: what a restarted kernel would find."""
    repo = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [repo, os.environ.get("PYTHONPATH", "")] if p))
    done = subprocess.run([sys.executable, "-c", _READER, str(folder), collection, json.dumps(where)],
                          capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"the reader process failed: {done.stderr.strip()[-400:]}")
    return sorted(json.loads(done.stdout.strip().splitlines()[-1]), key=lambda r: r["id"])
