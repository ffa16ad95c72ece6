"""Recorded real responses ("cassettes") so notebooks show real model output with no key.

With a real backend and ``AIE_RECORD=1`` every request/response pair is appended to a
JSON-lines cassette beside the notebook (``<notebook>.cassette.jsonl``; no headers kept
but the content type, keys scrubbed). On the offline backend a request found in a
cassette in the working folder is answered from it; anything else goes to the offline
model, or is an error with ``AIE_CASSETTE=strict``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import openai

from aie import config

SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9_\-\.]{8,})")
IGNORED_FIELDS = {"user", "metadata", "store"}  # do not change the answer


class CassetteError(openai.OpenAIError):
    """A cassette file is unreadable, or strict replay found no recording for a request."""


def scrub(text: str) -> str:
    return SECRET.sub("[REDACTED]", text)


def key(method: str, path: str, body: dict | None) -> str:
    """What identifies a request: method, endpoint and the JSON body (canonical form)."""
    body = {k: v for k, v in (body or {}).items() if k not in IGNORED_FIELDS}
    path = "/" + path.split("/v1/", 1)[-1].strip("/")
    canon = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def describe(path: str, body: dict | None) -> str:
    body = body or {}
    what = f"{path} model={body.get('model')!r}"
    msgs = body.get("messages") or []
    last_user = next((m.get("content") for m in reversed(msgs) if m.get("role") == "user"), None)
    if isinstance(last_user, str):
        what += f" last user message={last_user[:80]!r}"
    elif "input" in body:
        what += f" input={str(body['input'])[:80]!r}"
    return what


def record_file() -> Path:
    """Where new recordings go: AIE_CASSETTE_FILE, else beside the running notebook."""
    explicit = os.environ.get("AIE_CASSETTE_FILE")
    if explicit:
        return Path(explicit)
    session = os.environ.get("JPY_SESSION_NAME")  # set by Jupyter to the notebook's path
    if session and session.endswith(".ipynb"):
        return Path(Path(session).name[: -len(".ipynb")] + ".cassette.jsonl")
    return Path("session.cassette.jsonl")


def load(paths: list[Path] | None = None) -> dict[str, dict]:
    """All recordings in the given cassettes (default: every *.cassette.jsonl in the working folder)."""
    if paths is None:
        paths = sorted(Path.cwd().glob("*.cassette.jsonl"))
        extra = os.environ.get("AIE_CASSETTE_FILE")
        if extra and Path(extra).exists() and Path(extra).resolve() not in [p.resolve() for p in paths]:
            paths.append(Path(extra))
    found: dict[str, dict] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    found[rec["key"]] = rec["response"]
                    rec["response"]["status"], rec["response"]["body"]
                except (ValueError, KeyError, TypeError) as e:
                    raise CassetteError(
                        f"Cassette {path} line {lineno} is corrupt ({type(e).__name__}: {e}). Each line must be one JSON "
                        "object with 'key' and 'response' {status, content_type, body}. Re-record it with `make record` "
                        "or delete that line; nothing else in the file was changed."
                    ) from None
    return found


def append(path: Path, req_key: str, method: str, url_path: str, body: dict | None, status: int, content_type: str, text: str) -> None:
    rec = {
        "key": req_key,
        "request": {"method": method, "path": url_path, "body": body},
        "response": {"status": status, "content_type": content_type, "body": text},
    }
    line = scrub(json.dumps(rec, ensure_ascii=False, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def strict() -> bool:
    return config.cassette_strict()


def recording() -> bool:
    return config.recording()
