"""Response caches for chat calls: an exact-match cache and a semantic (embedding) cache.

Why a module: the lesson on cost (notebooks/06-mindset/03-cost) shows *what* a cache decides (the key,
the similarity threshold); this module keeps the storage plumbing out of the notebook. Both caches live
in a directory with a ``meta.json`` that names the format and its version. A directory that is corrupt,
half-written or written by another version is rebuilt empty with a printed message: a cache may only
ever cost a miss, never serve a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

FORMAT_VERSION = 2  # bump when the layout changes: older directories are then rebuilt, not misread


class CacheError(ValueError):
    """A request or entry the cache cannot store (not JSON-serialisable, empty, wrong type)."""


def _say(message: str) -> None:
    print(message)


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the request as canonical JSON: the same model, messages and parameters give the same key.

    Any difference (a space in a message, another temperature, another model) is another key: an exact
    cache never mixes answers of different requests."""
    if not isinstance(request, dict) or not request:
        raise CacheError(f"a request must be a non-empty dict of chat parameters, got {type(request).__name__}")
    try:
        canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except TypeError as e:
        raise CacheError(f"the request must be JSON-serialisable to be cached: {e}") from e
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Directory:
    """A cache directory with a meta.json; rebuilt empty when the meta is missing, corrupt or another version."""

    kind = "base"

    def __init__(self, directory: str | Path, extra_meta: dict[str, Any] | None = None,
                 say: Callable[[str], None] = _say) -> None:
        self.directory = Path(directory)
        self.say = say
        self.meta = {"format": f"aie-{self.kind}-cache", "version": FORMAT_VERSION, **(extra_meta or {})}
        self.rebuilt: str | None = None  # why the directory was rebuilt on opening, if it was
        self.hits = 0
        self.misses = 0
        problem = self._meta_problem()
        if problem is not None:
            self._rebuild(problem)

    def _meta_problem(self) -> str | None:
        meta_path = self.directory / "meta.json"
        if not self.directory.exists():
            return "new"
        if not meta_path.exists():
            return "no meta.json (not a cache directory, or a half-written one)"
        try:
            found = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return f"meta.json is corrupt ({type(e).__name__})"
        if not isinstance(found, dict):
            return "meta.json is corrupt (not an object)"
        for field, expected in self.meta.items():
            if found.get(field) != expected:
                return f"written with {field}={found.get(field)!r}, this code expects {expected!r}"
        return None

    def _rebuild(self, reason: str) -> None:
        if reason != "new":
            self.rebuilt = reason
            self.say(f"{self.kind} cache '{self.directory.name}': {reason}; rebuilt empty (answers will be recomputed).")
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        self._reset()
        (self.directory / "meta.json").write_text(json.dumps(self.meta), encoding="utf-8")

    def _reset(self) -> None:
        """Create the empty storage of this kind of cache."""

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class ExactCache(_Directory):
    """Exact-match response cache: one JSON file per request key, holding the request and the response.

    A lookup re-checks the stored request against the asked one, so a damaged or mismatched entry is a
    miss (and is removed), never a wrong answer."""

    kind = "exact"

    def _entry(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, request: dict[str, Any]) -> str | None:
        key = request_key(request)
        path = self._entry(key)
        if not path.exists():
            self.misses += 1
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            ok = isinstance(entry, dict) and entry.get("key") == key and entry.get("request") == json.loads(
                json.dumps(request)) and isinstance(entry.get("response"), str)
        except (json.JSONDecodeError, UnicodeDecodeError):
            ok = False
        if not ok:
            self.say(f"exact cache '{self.directory.name}': entry {key[:12]} is damaged; removed, recomputing.")
            path.unlink()
            self.misses += 1
            return None
        self.hits += 1
        return entry["response"]

    def put(self, request: dict[str, Any], response: str) -> None:
        if not isinstance(response, str):
            raise CacheError(f"only text responses are cached, got {type(response).__name__}")
        key = request_key(request)
        tmp = self._entry(key).with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "request": request, "response": response}), encoding="utf-8")
        tmp.replace(self._entry(key))  # atomic: a crash leaves the old entry or none, never half of one

    def __len__(self) -> int:
        return sum(1 for p in self.directory.glob("*.json") if p.name != "meta.json")


class SemanticCache(_Directory):
    """Semantic response cache: a question whose embedding is close enough to a stored one reuses its answer.

    ``threshold`` is the minimum cosine similarity for a hit: the one number that trades hit rate against
    wrong answers (the cost lesson measures it). Vectors must be unit length (``aie.retrieval.embed``).
    The embedding model's name is part of the meta: vectors from another model are never compared."""

    kind = "semantic"

    def __init__(self, directory: str | Path, embed: Callable[[Sequence[str]], np.ndarray], threshold: float,
                 model: str = "all-MiniLM-L6-v2", say: Callable[[str], None] = _say) -> None:
        if not 0.0 < float(threshold) <= 1.0:
            raise CacheError(f"threshold is a cosine similarity in (0, 1], got {threshold!r}")
        self.embed = embed
        self.threshold = float(threshold)
        super().__init__(directory, {"embedding_model": model}, say)
        self.questions, self.responses, self.vectors = self._load()

    def _reset(self) -> None:
        (self.directory / "entries.json").write_text("[]", encoding="utf-8")
        np.save(self.directory / "vectors.npy", np.zeros((0, 0), dtype=np.float32))

    def _load(self) -> tuple[list[str], list[str], np.ndarray]:
        try:
            entries = json.loads((self.directory / "entries.json").read_text(encoding="utf-8"))
            vectors = np.load(self.directory / "vectors.npy", allow_pickle=False)
            if not isinstance(entries, list) or not all(
                    isinstance(e, dict) and isinstance(e.get("question"), str) and isinstance(e.get("response"), str)
                    for e in entries):
                raise ValueError("entries.json is not a list of {question, response}")
            if len(entries) and vectors.shape[0] != len(entries):
                raise ValueError(f"{vectors.shape[0]} vectors for {len(entries)} entries")
        except (OSError, ValueError, json.JSONDecodeError, UnicodeDecodeError) as e:
            self._rebuild(f"storage is damaged ({e})")
            return [], [], np.zeros((0, 0), dtype=np.float32)
        return [e["question"] for e in entries], [e["response"] for e in entries], vectors

    def nearest(self, question: str) -> tuple[int, float]:
        """Index and cosine similarity of the closest stored question (-1, 0.0 when the cache is empty)."""
        if not self.questions:
            return -1, 0.0
        sims = self.vectors @ self.embed([question])[0]
        i = int(np.argmax(sims))
        return i, float(sims[i])

    def get(self, question: str) -> str | None:
        i, sim = self.nearest(question)
        if i >= 0 and sim >= self.threshold:
            self.hits += 1
            return self.responses[i]
        self.misses += 1
        return None

    def put(self, question: str, response: str) -> None:
        if not isinstance(response, str) or not isinstance(question, str):
            raise CacheError("a semantic cache stores a text question and a text response")
        vec = self.embed([question])
        self.vectors = vec if not self.questions else np.vstack([self.vectors, vec])
        self.questions.append(question)
        self.responses.append(response)
        entries = [{"question": q, "response": r} for q, r in zip(self.questions, self.responses)]
        np.save(self.directory / "vectors.npy", self.vectors)
        (self.directory / "entries.json").write_text(json.dumps(entries), encoding="utf-8")

    def __len__(self) -> int:
        return len(self.questions)
