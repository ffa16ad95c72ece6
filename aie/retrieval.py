"""Retrieval plumbing for step 3: the course's pages as a corpus, cached embeddings, chromadb helpers.

The ideas of the retrieval lessons (chunking, similarity, BM25, fusion, metrics, the RAG prompt) are
written out in the notebooks. This module holds what several notebooks, the tests and the benchmark
share, so it is written once and tested once:

- input checks that fail with a clear message instead of a confusing one deep inside a library
  (empty or non-text queries, documents longer than the embedding model reads, bad collection names);
- :func:`embed`, the course's MiniLM embeddings behind an on-disk cache keyed by content hash, so
  re-running a notebook does not re-embed the corpus;
- the course's own pages (book pages and notebooks' markdown) as documents with ids and URLs, a
  section splitter and the section-aware chunker the later lessons index with;
- chromadb helpers: a collection with the course embedding function, idempotent indexing (``upsert``
  with stable ids, stale ids pruned), reopening a persisted collection safely, and a local Chroma
  server that a notebook can start and stop;
- the small search pieces the lessons build by hand and then reuse: BM25 over word tokens and
  reciprocal rank fusion.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from aie import minilm

REPO = Path(__file__).resolve().parent.parent
MAX_TOKENS = minilm.MAX_TOKENS  # word-piece tokens the embedding model reads; the rest would be dropped


# --------------------------------------------------------------------------------------------- errors


class EmptyQueryError(ValueError):
    """The query has no words: there is nothing to search for."""


class DocumentTooLongError(ValueError):
    """A text is longer than the embedding model reads; embedding it would silently drop its end."""


class CollectionNameError(ValueError):
    """chromadb would reject this collection name."""


class EmbeddingFunctionNotRegisteredError(RuntimeError):
    """A persisted collection names an embedding function this process does not know."""


class ServerNotRunningError(ConnectionError):
    """No Chroma server answers at the address given."""


# ---------------------------------------------------------------------------------------- input checks


def check_query(query: Any) -> str:
    """Return the query stripped of surrounding space, or raise a clear error.

    An empty query would still "retrieve" something (the vectors nearest an empty string), which
    looks like an answer but is noise; a non-string would fail deep inside the tokenizer."""
    if not isinstance(query, str):
        raise TypeError(f"a query must be text (str), but got {type(query).__name__}: {query!r:.60}. "
                        "Convert it with str() or pass the question as a string.")
    q = query.strip()
    if not q:
        raise EmptyQueryError("the query is empty (or only whitespace): there is nothing to search for. "
                              "Ask a question with at least one word.")
    return q


def check_texts(texts: Any, what: str = "document") -> list[str]:
    """Validate a list of texts to embed: strings, not empty, within the model's window.

    Raises TypeError for non-text items, ValueError for empty ones and :class:`DocumentTooLongError`
    for texts the model would truncate (chunk them first: :func:`split_to_fit`)."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"pass a list of {what}s, not a single string: wrap it as [text]")
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise TypeError(f"pass a list of {what}s (strings), not {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        _check_item(i, t, what)
    for i, t in enumerate(out):
        if len(t) > MAX_TOKENS and (n := minilm.count_tokens(t)) > MAX_TOKENS:
            raise DocumentTooLongError(
                f"{what} {i} is {n} word-piece tokens long, but the embedding model reads at most {MAX_TOKENS}: "
                f"everything after token {MAX_TOKENS} would be silently ignored. Split it into chunks first, e.g. "
                "aie.retrieval.split_to_fit(text), or index it with aie.retrieval.add_documents(), which does that.")
    return out


def _check_item(i: Any, t: Any, what: str) -> None:
    if not isinstance(t, str):
        raise TypeError(f"{what} {i} is {type(t).__name__}, not text: {t!r:.60}. Convert it to a string "
                        "(for a file, read its text; for a number or a record, decide which words describe it).")
    if not t.strip():
        raise ValueError(f"{what} {i} is empty: an empty text has no meaning to embed. Drop it before indexing.")


_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")
_IPV4_RE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")


def check_collection_name(name: Any) -> str:
    """Apply chromadb's rules for collection names before chromadb does, with a suggestion.

    Rules (chromadb 1.x): 3-512 characters from ``[a-zA-Z0-9._-]``, starting and ending with a letter
    or digit, no ``..``, and not an IPv4 address."""
    if not isinstance(name, str):
        raise CollectionNameError(f"a collection name must be a string, not {type(name).__name__}")
    problem = None
    if not 3 <= len(name) <= 512:
        problem = f"it has {len(name)} character{'' if len(name) == 1 else 's'}; chromadb needs 3 to 512"
    elif not re.fullmatch(r"[a-zA-Z0-9._-]+", name):
        bad = sorted({c for c in name if not re.match(r"[a-zA-Z0-9._-]", c)})
        problem = f"it contains {', '.join(repr(c) for c in bad)}; only letters, digits, '.', '_' and '-' are allowed"
    elif not _NAME_RE.match(name):
        problem = "it must start and end with a letter or a digit"
    elif ".." in name:
        problem = "it contains two consecutive periods '..'"
    elif _IPV4_RE.match(name):
        problem = "it looks like an IP address"
    if problem:
        raise CollectionNameError(f"chromadb would reject the collection name {name!r}: {problem}. "
                                  f"A valid name: {safe_collection_name(name)!r}.")
    return name


def safe_collection_name(text: str) -> str:
    """A valid collection name derived from any text (for names built from titles or user input)."""
    s = re.sub(r"[^a-zA-Z0-9._-]+", "-", str(text)).strip("._-")
    s = re.sub(r"\.{2,}", ".", s)
    if _IPV4_RE.match(s):
        s = "ip-" + s
    s = (s or "collection")[:512].rstrip("._-")
    while len(s) < 3:
        s += "-x" if len(s) < 2 else "x"
    if not s[-1].isalnum():
        s = s.rstrip("._-") + "x"
    return s


# ------------------------------------------------------------------------------- embeddings with a disk cache


def cache_dir() -> Path:
    """Where cached embeddings live: ``$AIE_CACHE_DIR/embeddings``, else ``~/.cache/aie/embeddings``."""
    base = os.environ.get("AIE_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "aie")
    return Path(base).expanduser() / "embeddings"


class EmbeddingCache:
    """Vectors on disk, keyed by the SHA-256 of the text, in one SQLite file per model.

    SQLite makes concurrent readers and writers safe (two notebooks at once, a test run beside a
    notebook) and a write is all-or-nothing. A file that is unreadable or from another model is left
    alone and the cache is switched off for this process, with one warning: the cache can make runs
    faster, never wrong."""

    VERSION = 1

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / f"{minilm.MODEL_ID}-int8-v{self.VERSION}.sqlite3"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.disabled = False

    def _connect(self) -> sqlite3.Connection | None:
        if self.disabled:
            return None
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('model', ?)", (f"{minilm.MODEL_ID}/{minilm.DIMENSIONS}",))
                conn.commit()
                (model,) = conn.execute("SELECT value FROM meta WHERE key='model'").fetchone()
                if model != f"{minilm.MODEL_ID}/{minilm.DIMENSIONS}":
                    raise sqlite3.DatabaseError(f"it holds vectors of another model ({model})")
                self._conn = conn
            except (sqlite3.Error, OSError) as e:
                self._disable(e)
                return None
        return self._conn

    def _disable(self, error: Exception) -> None:
        self.disabled = True
        warnings.warn(f"embedding cache {self.path} is not usable ({error}); embeddings will be computed "
                      "without it (set AIE_CACHE_DIR to use another folder)", RuntimeWarning, stacklevel=3)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        conn = self._connect()
        if conn is None or not keys:
            return {}
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(keys), 900):  # SQLite's limit on bound parameters
                    part = keys[start:start + 900]
                    rows = conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
                    for k, blob in rows:
                        if len(blob) == minilm.DIMENSIONS * 4:  # ignore anything malformed; it is recomputed
                            found[k] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.Error as e:
            self._disable(e)
            return {}
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        conn = self._connect()
        if conn is None or not items:
            return
        try:
            with self._lock:
                conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])
                conn.commit()
        except sqlite3.Error as e:
            self._disable(e)

    def __len__(self) -> int:
        conn = self._connect()
        return 0 if conn is None else conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    def clear(self) -> None:
        conn = self._connect()
        if conn is not None:
            with self._lock:
                conn.execute("DELETE FROM vectors")
                conn.commit()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


_CACHE: EmbeddingCache | None = None


def embedding_cache() -> EmbeddingCache:
    """The process-wide cache (recreated if ``AIE_CACHE_DIR`` changed)."""
    global _CACHE
    wanted = cache_dir() / f"{minilm.MODEL_ID}-int8-v{EmbeddingCache.VERSION}.sqlite3"
    if _CACHE is None or _CACHE.path != wanted:
        if _CACHE is not None:
            _CACHE.close()
        _CACHE = EmbeddingCache(wanted)
    return _CACHE


def embed(texts: Sequence[str], *, progress: bool | str = False, batch_size: int = 64,
          cache: bool = True) -> np.ndarray:
    """Unit-length MiniLM embeddings (one row per text), the same vectors ``CourseEmbedding`` gives.

    Texts already embedded (on any earlier run) come from the disk cache; the rest are computed in
    batches, with a progress bar when ``progress`` is true (or a label). Texts are checked first:
    non-text, empty and too-long texts raise instead of being embedded wrongly."""
    texts = check_texts(texts)
    keys = [EmbeddingCache.key(t) for t in texts]
    store = embedding_cache() if cache else None
    found = store.get_many(sorted(set(keys))) if store is not None else {}
    todo = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items(), key=lambda kv: len(kv[1]))
    bar = None
    if progress:
        # A plain-text bar over *all* texts (cached ones count as done), so a notebook's stored output
        # is the same whether the cache was cold or warm.
        from tqdm.std import tqdm

        unique = len(set(keys))
        bar = tqdm(total=unique, desc=progress if isinstance(progress, str) else "embedding", unit="text",
                   file=sys.stderr, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} texts")
        bar.update(unique - len(todo))
    for start in range(0, len(todo), batch_size):
        part = todo[start:start + batch_size]
        vecs = minilm.embed([t for _, t in part])
        new = {k: v for (k, _), v in zip(part, vecs)}
        found.update(new)
        if store is not None:
            store.put_many(new)
        if bar is not None:
            bar.update(len(part))
    if bar is not None:
        bar.close()
    out = np.zeros((len(texts), minilm.DIMENSIONS), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = found[k]
    return out


# ------------------------------------------------------------------------------------ the course's pages


@dataclass(frozen=True)
class Page:
    """One page of the book: a markdown page or a notebook's markdown cells."""

    id: str  # the source path without its extension, e.g. "book/kb/glossary"
    kind: str  # "page" or "notebook"
    title: str
    path: str  # the source file, relative to the repository
    url: str  # the page on the site, relative to the book's root, e.g. "book/kb/glossary.html"
    text: str  # markdown, with MyST-only syntax reduced to plain text


@dataclass(frozen=True)
class Section:
    """A page's text under one heading (level 1-3), with the anchor the site gives that heading."""

    page_id: str
    page_title: str
    heading: str
    level: int
    anchor: str  # "" for the text before the first subheading (the page itself)
    url: str
    text: str
    start: int = 0  # where the section's text starts and ends in ``Page.text`` (heading line excluded)
    end: int = 0


@dataclass(frozen=True)
class Chunk:
    """A piece of text small enough to embed, with a stable id and metadata for filters and citations."""

    id: str
    text: str
    metadata: dict = field(default_factory=dict)


def _toc_files(root: Path) -> list[str]:
    """Files listed in ``_toc.yml``, in order (a plain scan: the toc format is simple and stable)."""
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*(?:-\s*)?(?:root|file):\s*([^\s#]+)", toc, flags=re.M)
    return list(dict.fromkeys(files))


_ROLE = re.compile(r"\{[a-zA-Z0-9:_-]+\}`([^`]*?)`")
_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_DIRECTIVE_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*(\{([a-zA-Z0-9_-]+)\}\s*(\S.*)?)?\s*$")


def clean_markdown(text: str) -> str:
    """Markdown as a reader sees it: MyST roles and directive fences, link targets, HTML comments and
    diagrams removed, headings, paragraphs, lists and code kept. Used for retrieval, not rendering."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    out: list[str] = []
    skip_until: str | None = None  # a fence whose contents are dropped (diagrams)
    fences: list[str] = []
    for line in text.split("\n"):
        m = _DIRECTIVE_FENCE.match(line)
        if skip_until is not None:
            if m and m.group(1) == skip_until and not m.group(2):
                skip_until = None
            continue
        if m and m.group(2):  # opening a directive: ```{glossary} or :::{exercise}
            name = m.group(3)
            if name in {"mermaid", "raw", "image", "figure", "code-cell", "toctree", "tableofcontents"}:
                skip_until = m.group(1)
                continue
            fences.append(m.group(1))
            if m.group(4) and name not in {"solution-start", "solution-end"}:  # a directive argument is text (a title)
                out.append(m.group(4))
            continue
        if m and not m.group(2) and fences and m.group(1) == fences[-1]:
            fences.pop()
            continue
        if fences and re.match(r"^\s*:[a-zA-Z_-]+:(\s|$)", line):  # a directive option (:label: x)
            continue
        if re.match(r"^\s*\([a-zA-Z0-9_:-]+\)=\s*$", line):  # a MyST target label
            continue
        out.append(line)
    text = "\n".join(out)
    text = _ROLE.sub(lambda m: re.sub(r"\s*<[^>]*>\s*$", "", m.group(1)), text)
    text = _LINK.sub(_link_text, text)
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)  # autolinks keep their address
    text = re.sub(r"</?(?:div|span|br|img|p|a|sup|sub|details|summary|iframe|figure|figcaption)\b[^>]*>", "", text, flags=re.I)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def _link_text(m: re.Match) -> str:
    """A link becomes its text; an external address is kept after it (it can be the answer)."""
    whole, label = m.group(0), m.group(1)
    target = whole[whole.index("](") + 2:-1]
    if whole.startswith("!"):
        return label
    if target.startswith(("http://", "https://")) and target not in label:
        return f"{label} ({target})" if label else target
    return label


def _title(text: str, fallback: str) -> str:
    m = re.search(r"^#\s+(.+?)\s*$", text, flags=re.M)
    return m.group(1).strip() if m else fallback


def read_page(path: Path, root: Path = REPO) -> Page:
    """One book page or notebook as a :class:`Page` (notebooks: their markdown cells only)."""
    rel = path.relative_to(root).as_posix()
    stem = rel.rsplit(".", 1)[0]
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                 for c in nb.get("cells", []) if c.get("cell_type") == "markdown"]
        raw, kind = "\n\n".join(cells), "notebook"
    else:
        raw, kind = path.read_text(encoding="utf-8"), "page"
    text = clean_markdown(raw)
    return Page(id=stem, kind=kind, title=_title(text, Path(stem).name), path=rel, url=stem + ".html", text=text)


def read_live_pages(root: Path = REPO) -> list[Page]:
    """The pages listed in the book's table of contents, read from the working tree now."""
    pages = []
    for entry in _toc_files(root):
        for suffix in (".md", ".ipynb"):
            p = root / (entry + suffix if not entry.endswith(suffix) else entry)
            if p.is_file():
                pages.append(read_page(p, root))
                break
    return pages


SNAPSHOT = "course_pages"  # the table in datasets/ that freezes the corpus the lessons index


# The retrieval lessons quote their own evaluation questions ("What does AIE_RECORD=1 do?"), so indexing
# them would put the test questions into the corpus: they are left out of the snapshot.
SNAPSHOT_EXCLUDE = ("notebooks/03-retrieval/",)


def write_snapshot(path: Path | None = None, root: Path = REPO, exclude: Sequence[str] = SNAPSHOT_EXCLUDE) -> Path:
    """Freeze the book's pages (except ``exclude`` prefixes) into ``datasets/course_pages.csv``.

    The lessons index this snapshot, not the live files: otherwise every edit to any page would change
    the retrieval lessons' stored outputs and labelled questions could point at sections that moved.
    Refresh it on purpose, then re-check the question set and re-execute the step-3 notebooks."""
    import pandas as pd

    from aie import data

    path = Path(path) if path else data.datasets_dir() / f"{SNAPSHOT}.csv"
    pages = [p for p in read_live_pages(root) if not p.path.startswith(tuple(exclude))]
    df = pd.DataFrame([{"id": p.id, "kind": p.kind, "title": p.title, "path": p.path, "url": p.url, "text": p.text}
                       for p in pages])
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def load_pages(source: str = "snapshot") -> list[Page]:
    """The course's pages: ``"snapshot"`` (the frozen table the lessons use) or ``"live"`` (the files now)."""
    if source == "live":
        return read_live_pages()
    if source != "snapshot":
        raise ValueError(f"source must be 'snapshot' or 'live', not {source!r}")
    from aie import data

    df = data.load(SNAPSHOT)
    return [Page(**{k: str(r[k]) for k in ("id", "kind", "title", "path", "url", "text")}) for _, r in df.iterrows()]


def anchor(heading: str) -> str:
    """The HTML id Sphinx gives a section heading (docutils' ``make_id``), for links to a section."""
    from docutils.nodes import make_id

    return make_id(re.sub(r"[`*]", "", heading))


def sections(page: Page, max_level: int = 3) -> list[Section]:
    """Split a page at its headings (levels 1 to ``max_level``), ignoring '#' lines inside code blocks."""
    parts: list[list] = [[page.title, 1, 0, 0]]  # heading, level, start, end (offsets in page.text)
    in_code = False
    offset = 0
    for line in page.text.split("\n"):
        line_end = offset + len(line) + 1
        if re.match(r"^\s*(```|~~~)", line):
            in_code = not in_code
        m = None if in_code else re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if m and len(m.group(1)) <= max_level:
            level, heading = len(m.group(1)), m.group(2).strip()
            if level == 1 and len(parts) == 1 and not page.text[parts[0][2]:offset].strip():
                parts[0] = [heading, 1, line_end, line_end]
            else:
                parts.append([heading, level, line_end, line_end])
        else:
            parts[-1][3] = min(line_end, len(page.text))
        offset = line_end
    seen: dict[str, int] = {}
    out = []
    for i, (heading, level, start, end) in enumerate(parts):
        raw = page.text[start:end]
        body = raw.strip()
        a = "" if i == 0 else anchor(heading)
        if a:
            seen[a] = seen.get(a, 0) + 1
            if seen[a] > 1:  # Sphinx numbers repeated ids; link to the page instead of guessing
                a = ""
        if body:
            lead = len(raw) - len(raw.lstrip())
            out.append(Section(page.id, page.title, heading, level, a, page.url + (f"#{a}" if a else ""), body,
                               start + lead, start + lead + len(body)))
    return out


_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items, by punctuation and line structure (good enough for chunking)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)]|\|)\s)", text):
        block = " ".join(block.split())
        if block:
            out.extend(s for s in _SENTENCE.split(block) if s.strip())
    return out


def split_to_fit(text: str, max_tokens: int = MAX_TOKENS, prefix: str = "") -> list[str]:
    """Split ``text`` into pieces of at most ``max_tokens`` tokens (``prefix`` included in each),
    at paragraph, then sentence, then word boundaries. Nothing is dropped.

    The model's tokenizer splits at whitespace first, so the tokens of pieces joined by whitespace
    add up: each unit is counted once, which keeps this fast on long pages."""
    def inner(t: str) -> int:  # word pieces without [CLS] and [SEP]
        return minilm.count_tokens(t) - 2

    budget = max_tokens - 2 - (inner(prefix) if prefix.strip() else 0)
    if budget < 16:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for text after the prefix")

    def by_words(t: str) -> list[tuple[str, int]]:
        pieces, cur, n = [], [], 0
        for w in t.split():
            k = inner(w)
            if cur and n + k > budget:
                pieces.append((" ".join(cur), n))
                cur, n = [], 0
            cur.append(w)
            n += k
        return pieces + ([(" ".join(cur), n)] if cur else [])

    units: list[tuple[str, int]] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        para = para.strip()
        if not para:
            continue
        n = inner(para)
        if n <= budget:
            units.append((para, n))
            continue
        for sent in split_sentences(para):
            k = inner(sent)
            units.extend([(sent, k)] if k <= budget else by_words(sent))
    pieces: list[str] = []
    cur, n = "", 0
    for unit, k in units:
        if cur and n + k > budget:
            pieces.append(cur)
            cur, n = "", 0
        cur, n = (f"{cur}\n\n{unit}" if cur else unit), n + k
    if cur:
        pieces.append(cur)
    return [prefix + p for p in pieces]


def chunk_pages(pages: Iterable[Page], max_tokens: int = 160, with_headings: bool = True) -> list[Chunk]:
    """The chunker the later lessons index with: by section, then paragraphs packed up to
    ``max_tokens`` (see the chunking lesson for why). With ``with_headings`` each chunk starts with
    its page title and section heading, so a chunk that says "it" still says what it is about.

    Ids are ``<page id>#<anchor>/<n>``: stable while a section's text is unchanged, so re-indexing
    with ``upsert`` replaces instead of duplicating."""
    chunks: list[Chunk] = []
    for page in pages:
        position = 0
        for sec in sections(page):
            head = page.title if sec.heading == page.title else f"{page.title} > {sec.heading}"
            prefix = f"{head}\n" if with_headings else ""
            for n, piece in enumerate(split_to_fit(sec.text, max_tokens, prefix)):
                meta = {"page": page.id, "title": page.title, "section": sec.heading, "url": sec.url,
                        "kind": page.kind, "position": position}
                chunks.append(Chunk(f"{page.id}#{sec.anchor or 'top'}/{n}", piece, meta))
                position += 1
    return chunks


# ------------------------------------------------------------------------------------------------ chromadb


def _settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def ephemeral_client():
    """An in-memory chromadb client (gone when the process ends)."""
    import chromadb

    return chromadb.EphemeralClient(settings=_settings())


def persistent_client(path: str | Path):
    """A chromadb client that keeps its data in ``path`` (a folder)."""
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_settings())


# chromadb's HNSW index is approximate, and by default it inserts with every core: under load the threads
# interleave differently, the graph differs, and a search now and then misses one of its true top ten
# (measured: 2 of 8 cold runs of the 56 course questions on a busy 2-core machine). One insertion thread
# builds the same graph every run, and a wide search list makes the search over a few thousand chunks
# practically exact, so a lesson's retrieved sources are the same on every machine.
HNSW = {"space": "cosine", "num_threads": 1, "ef_search": 500}


def course_collection(client, name: str, metadata: dict | None = None):
    """Get or create a collection that embeds with the course's MiniLM function (cosine distance),
    with an index that gives the same results on every run (see ``HNSW``)."""
    from aie.embeddings import CourseEmbedding

    check_collection_name(name)
    return client.get_or_create_collection(name, embedding_function=CourseEmbedding(), metadata=metadata,
                                           configuration={"hnsw": dict(HNSW)})


def open_collection(client, name: str):
    """Reopen an existing collection with the embedding function it was created with.

    chromadb rebuilds the embedding function from the name stored with the collection, but only if
    a class with that name is registered in this process; otherwise ``get_collection`` succeeds and
    the first query fails. This checks first and says what to import."""
    import aie.embeddings  # noqa: F401  (registers "aie-minilm" with chromadb)
    from chromadb.utils.embedding_functions import known_embedding_functions

    check_collection_name(name)
    existing = sorted(c.name if hasattr(c, "name") else str(c) for c in client.list_collections())
    if name not in existing:
        raise KeyError(f"no collection named {name!r} here; existing collections: {', '.join(existing) or 'none'}")
    col = client.get_collection(name)
    config = getattr(col, "configuration_json", None) or {}
    ef = (config or {}).get("embedding_function") or {}
    ef_name = ef.get("name") if ef.get("type") == "known" else None
    if ef_name and ef_name not in known_embedding_functions:
        raise EmbeddingFunctionNotRegisteredError(
            f"collection {name!r} was created with the embedding function {ef_name!r}, which is not registered "
            "in this process, so chromadb cannot embed queries for it. Import the module that defines it "
            "(decorated with @register_embedding_function) before reopening the collection "
            "(for the course's function: import aie.embeddings).")
    return col


def add_documents(collection, ids: Sequence[str], documents: Sequence[str],
                  metadatas: Sequence[dict] | None = None, max_tokens: int = MAX_TOKENS) -> list[str]:
    """Upsert documents, splitting any that are longer than the model reads into parts.

    A part gets the id ``<id>:<n>`` and a ``parent`` metadata field; a document that fits keeps its
    id. Returns the ids stored. The course embedding function would silently truncate a long text;
    here nothing is lost."""
    if len(set(ids)) != len(ids):
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        raise ValueError(f"ids must be unique; repeated: {', '.join(dupes[:5])}")
    if isinstance(documents, str):
        raise TypeError("pass a list of documents, not a single string: wrap it as [text]")
    metadatas = list(metadatas) if metadatas is not None else [{} for _ in ids]
    if not (len(ids) == len(documents) == len(metadatas)):
        raise ValueError(f"ids, documents and metadatas must have the same length ({len(ids)}, {len(documents)}, {len(metadatas)})")
    chunks: list[Chunk] = []
    for i, (doc_id, doc, meta) in enumerate(zip(ids, documents, metadatas)):
        _check_item(repr(doc_id), doc, "document")
        parts = [doc] if minilm.count_tokens(doc) <= max_tokens else split_to_fit(doc, max_tokens)
        if len(parts) == 1:
            chunks.append(Chunk(doc_id, doc, dict(meta or {})))
        else:
            chunks.extend(Chunk(f"{doc_id}:{n}", p, {**(meta or {}), "parent": doc_id, "part": n})
                          for n, p in enumerate(parts))
    upsert_chunks(collection, chunks)
    return [c.id for c in chunks]


def upsert_chunks(collection, chunks: Sequence[Chunk], batch_size: int = 256, progress: bool | str = False,
                  prune: bool = False) -> dict:
    """Index chunks idempotently: ``upsert`` by id (re-running never duplicates), embeddings from
    the disk cache. With ``prune``, ids in the collection that are no longer among ``chunks`` are
    deleted (a section that shrank leaves no stale chunk behind). Returns counts."""
    ids = [c.id for c in chunks]
    if len(set(ids)) != len(ids):
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        raise ValueError(f"chunk ids must be unique; repeated: {', '.join(dupes[:5])}")
    vectors = embed([c.text for c in chunks], progress=progress)
    for start in range(0, len(chunks), batch_size):
        part = chunks[start:start + batch_size]
        collection.upsert(ids=[c.id for c in part], documents=[c.text for c in part],
                          metadatas=[c.metadata or None for c in part],
                          embeddings=[vectors[start + j] for j in range(len(part))])
    removed = 0
    if prune:
        stale = sorted(set(collection.get(include=[])["ids"]) - set(ids))
        for start in range(0, len(stale), 1000):
            collection.delete(ids=stale[start:start + 1000])
        removed = len(stale)
    return {"upserted": len(chunks), "deleted": removed}


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # cosine similarity for dense search, BM25 score, or fused score
    text: str = ""
    metadata: dict = field(default_factory=dict)


def dense_search(collection, query: str, k: int = 5, where: dict | None = None) -> list[Hit]:
    """The ``k`` chunks nearest the query in ``collection`` (cosine similarity = 1 - distance).

    Ties are broken by id so the order is the same on every run."""
    q = check_query(query)
    res = collection.query(query_embeddings=embed([q]), n_results=k, where=where,
                           include=["documents", "metadatas", "distances"])
    rows = zip(res["ids"][0], res["distances"][0], res["documents"][0], res["metadatas"][0])
    hits = [Hit(i, round(1.0 - float(d), 6), doc or "", dict(m or {})) for i, d, doc, m in rows]
    return sorted(hits, key=lambda h: (-h.score, h.id))


# -------------------------------------------------------------------------------------------------- BM25


def words(text: str) -> list[str]:
    """Lower-case word tokens for BM25; identifiers such as AIE_BUDGET_USD or gpt-4.1 stay whole."""
    return re.findall(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", text.lower())


class BM25Index:
    """BM25 (via ``bm25s``) over word tokens, English stop words removed, stable tie order."""

    def __init__(self, texts: Sequence[str], ids: Sequence[str] | None = None) -> None:
        import bm25s

        self.stopwords = set(bm25s.stopwords.STOPWORDS_EN)
        self.ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
        self.retriever = bm25s.BM25()
        corpus = [self._tokens(t) or ["<empty>"] for t in texts]
        vocab: dict[str, int] = {}
        ids_ = [[vocab.setdefault(w, len(vocab)) for w in doc] for doc in corpus]
        self.vocab = vocab
        self.retriever.index(bm25s.tokenization.Tokenized(ids=ids_, vocab=vocab), show_progress=False)

    def _tokens(self, text: str) -> list[str]:
        return [w for w in words(text) if w not in self.stopwords]

    def scores(self, query: str) -> np.ndarray:
        q = [w for w in self._tokens(check_query(query)) if w in self.vocab]
        if not q:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.retriever.get_scores([self.vocab[w] for w in q]), dtype=np.float32)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        s = self.scores(query)
        order = sorted((i for i in range(len(s)) if s[i] > 0), key=lambda i: (-round(float(s[i]), 6), self.ids[i]))
        return [Hit(self.ids[i], round(float(s[i]), 6)) for i in order[:k]]


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion: each ranking gives an id ``1 / (k + rank)``; ids are sorted by the sum
    (ties by id, so the order is the same on every run).

    Only ranks matter, so scores on different scales (cosine, BM25) fuse without tuning."""
    total: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            total[doc_id] = total.get(doc_id, 0.0) + 1.0 / (k + rank)
    order = sorted(total, key=lambda d: (-round(total[d], 12), d))
    return [Hit(d, round(total[d], 6)) for d in order]


class HybridRetriever:
    """Dense search in a chromadb collection plus BM25 over the same chunks, fused with RRF.

    The better-retrieval lesson builds these steps by hand; this class packages them for the
    evaluation lesson, the "Ask the book" assistant and the benchmark."""

    def __init__(self, collection, chunks: Sequence[Chunk], candidates: int = 10) -> None:
        self.collection = collection
        self.chunks = {c.id: c for c in chunks}
        self.bm25 = BM25Index([c.text for c in chunks], [c.id for c in chunks])
        self.candidates = candidates

    def dense(self, query: str, k: int = 5, where: dict | None = None) -> list[Hit]:
        return dense_search(self.collection, query, k, where)

    def keyword(self, query: str, k: int = 5) -> list[Hit]:
        return [self._full(h) for h in self.bm25.search(query, k)]

    def hybrid(self, query: str, k: int = 5) -> list[Hit]:
        """Each retriever proposes its top ``candidates``; RRF orders their union."""
        dense = [h.id for h in self.dense(query, self.candidates)]
        keyword = [h.id for h in self.bm25.search(query, self.candidates)]
        return [self._full(h) for h in rrf([dense, keyword])[:k]]

    def _full(self, hit: Hit) -> Hit:
        c = self.chunks.get(hit.id)
        return Hit(hit.id, hit.score, c.text, dict(c.metadata)) if c else hit


# ------------------------------------------------------------------------------------------ Chroma server


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def heartbeat(host: str = "127.0.0.1", port: int = 8000, timeout: float = 2.0) -> bool:
    """True when a Chroma server answers ``/api/v2/heartbeat`` at host:port (no proxy involved)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{host}:{port}/api/v2/heartbeat", timeout=timeout) as r:
            return r.status == 200 and b"heartbeat" in r.read()
    except (urllib.error.URLError, OSError, ValueError):
        return False


def connect(host: str = "127.0.0.1", port: int = 8000):
    """A ``chromadb.HttpClient`` for a running server, or :class:`ServerNotRunningError` saying how to start one."""
    if not heartbeat(host, port):
        raise ServerNotRunningError(
            f"no Chroma server answers at http://{host}:{port}. Start one in a terminal with "
            f"`chroma run --path .chroma --host {host} --port {port}`, or from Python with "
            "aie.retrieval.ChromaServer('.chroma').start(), then connect again.")
    import chromadb

    return chromadb.HttpClient(host=host, port=port, settings=_settings())


_RUNNING: set["ChromaServer"] = set()


class ChromaServer:
    """A local Chroma server (``chroma run``) owned by this process: started on a free port of
    127.0.0.1, waited for until its heartbeat answers, and stopped on :meth:`stop`, at the end of a
    ``with`` block, or when the Python process exits.

        with ChromaServer(path) as server:
            client = server.client()
    """

    def __init__(self, path: str | Path, host: str = "127.0.0.1", port: int | None = None,
                 startup_timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "ChromaServer":
        if self.running:
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port(self.host)
        elif heartbeat(self.host, self.port, timeout=0.5):
            raise RuntimeError(f"something already answers at {self.url}; choose another port or leave port=None")
        self._log = tempfile.NamedTemporaryFile(prefix="chroma-server-", suffix=".log", delete=False)
        code = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        _RUNNING.add(self)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, log = self.process.returncode, self._tail()
                self.stop()
                raise RuntimeError(f"the Chroma server exited at start (code {code}). Its log ends:\n{log}")
            if heartbeat(self.host, self.port, timeout=1.0):
                return self
            time.sleep(0.1)
        log = self._tail()
        self.stop()
        raise TimeoutError(f"the Chroma server did not answer within {self.startup_timeout:.0f} s. Its log ends:\n{log}")

    def _tail(self, lines: int = 15) -> str:
        if not self._log:
            return ""
        try:
            text = Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
        return "\n".join(text.strip().splitlines()[-lines:])

    def client(self):
        """A ``chromadb.HttpClient`` connected to this server."""
        if not self.running:
            raise ServerNotRunningError(f"this ChromaServer is not running (start it with .start()); "
                                        f"nothing is listening at {self.url}")
        return connect(self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` seconds) and remove its log."""
        proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        if self._log:
            self._log.close()
            try:
                os.unlink(self._log.name)
            except OSError:
                pass
            self._log = None
        _RUNNING.discard(self)

    def __enter__(self) -> "ChromaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ChromaServer(path={str(self.path)!r}, {'running at ' + self.url if self.running else 'stopped'})"


@atexit.register
def _stop_servers() -> None:
    for server in list(_RUNNING):
        server.stop(timeout=5)


# ---------------------------------------------------------------- ranking metrics
# The formulas of notebooks/03-retrieval/06-evaluating-retrieval.ipynb, kept here so that later lessons
# (05-evals/05-rag-and-agents) score a RAG system's retrieval with the same definitions.


def _check_ranking(relevant: Sequence[bool], k: int | None = None) -> list[bool]:
    if isinstance(relevant, (str, bytes)) or not hasattr(relevant, "__iter__"):
        raise TypeError(f"expected a list of booleans (is the hit at each rank relevant?), got {type(relevant).__name__}")
    if k is not None and (not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a whole number of at least 1 (the cut-off rank), got {k!r}")
    return [bool(r) for r in relevant]


def hit_at(relevant: Sequence[bool], k: int) -> float:
    """1.0 when a relevant hit is among the first ``k``, else 0.0: did the answer reach the model at all?"""
    return float(any(_check_ranking(relevant, k)[:k]))


def recall_at(relevant: Sequence[bool], k: int, n_relevant: int) -> float:
    """Share of the ``n_relevant`` relevant chunks found in the first ``k`` hits (for answers that need several)."""
    flags = _check_ranking(relevant, k)
    if n_relevant < 1:
        raise ValueError(f"n_relevant is {n_relevant}: recall needs at least one relevant chunk "
                         "(leave unanswerable questions out of recall)")
    return sum(flags[:k]) / n_relevant


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    """1 / rank of the first relevant hit, 0.0 when none is relevant; its mean over questions is MRR."""
    return next((1 / rank for rank, r in enumerate(_check_ranking(relevant), start=1) if r), 0.0)


def ndcg_at(relevant: Sequence[bool], k: int, n_relevant: int) -> float:
    """nDCG@k with binary relevance: DCG of the ranking over DCG of an ideal one with ``n_relevant`` relevant hits."""
    flags = _check_ranking(relevant, k)
    dcg = sum(1 / np.log2(rank + 1) for rank, r in enumerate(flags[:k], start=1) if r)
    ideal = sum(1 / np.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return float(dcg / ideal) if ideal else 0.0
