"""Recorded real responses ("cassettes"): how every page shows a real model with no key.

With a real backend and ``AIE_RECORD=1``, each chat request's response is appended to a JSON-lines
cassette beside the notebook (``<notebook>.cassette.jsonl``). A cassette stores, per request, a hash
of the request, a short description and the response (a stream is stored as the completion it adds
up to); never the request body, a header or a key. Its first line says which model made the
recordings and when.

On the offline backend a request whose hash is in a cassette of the working folder is answered from
it, with the recorded model's id; anything else goes to the offline model, or is an error naming the
request when ``AIE_CASSETTE=strict`` (what CI uses, so a notebook that drifts from its recording fails).

The hash ignores which model id the request named when that id is the backend's chat or small model:
a notebook asks for ``aie.model("chat")``, which is a different id on every backend.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from pathlib import Path

import openai

from aie import config

FORMAT = 2
SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9_\-\.]{8,})")
IGNORED_FIELDS = {"user", "metadata", "store"}  # do not change the answer
RECORDED_ENDPOINTS = {"/chat/completions", "/responses"}  # embeddings are computed locally, never recorded
ROLE_TAG = "@chat-model"

# What a recorded model id means, for the notice a learner sees.
SOURCES = {
    "qwen2.5-coder-1.5b-instruct": "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) run on a 2-core CPU with llama.cpp",
    "qwen2.5-coder-0.5b-instruct": "Qwen2.5-Coder-0.5B-Instruct run on a 2-core CPU with llama.cpp",
}


class CassetteError(openai.OpenAIError):
    """A cassette file is unreadable, or strict replay found no recording for a request."""


def scrub(text: str) -> str:
    return SECRET.sub("[REDACTED]", text)


def key(method: str, path: str, body: dict | None, chat_models: set[str] | frozenset = frozenset()) -> str:
    """What identifies a request: method, endpoint and the JSON body (canonical form).

    A model id in ``chat_models`` (the active backend's chat and small models) is replaced by a tag,
    so a recording made with one backend's model answers the same request made with another's.
    """
    body = {k: v for k, v in (body or {}).items() if k not in IGNORED_FIELDS}
    if body.get("model") in chat_models:
        body["model"] = ROLE_TAG
    path = "/" + path.split("/v1/", 1)[-1].strip("/")
    canon = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def describe(path: str, body: dict | None) -> str:
    """A short, key-free description of a request (kept in the cassette and in error messages)."""
    body = body or {}
    what = path.strip("/")
    msgs = body.get("messages") or []
    last_user = next((m.get("content") for m in reversed(msgs) if isinstance(m, dict) and m.get("role") == "user"), None)
    if isinstance(last_user, str):
        what += f", {len(msgs)} messages, last user message {' '.join(last_user.split())[:70]!r}"
    elif "input" in body:
        what += f", input {' '.join(str(body['input']).split())[:70]!r}"
    return scrub(what)


def record_file() -> Path:
    """Where new recordings go: AIE_CASSETTE_FILE, else beside the running notebook."""
    explicit = os.environ.get("AIE_CASSETTE_FILE")
    if explicit:
        return Path(explicit)
    session = os.environ.get("JPY_SESSION_NAME")  # set by Jupyter to the notebook's path
    if session and session.endswith(".ipynb"):
        return Path(Path(session).name[: -len(".ipynb")] + ".cassette.jsonl")
    return Path("session.cassette.jsonl")


def default_paths() -> list[Path]:
    """The cassettes a process replays: every *.cassette.jsonl in the working folder, plus AIE_CASSETTE_FILE."""
    paths = sorted(Path.cwd().glob("*.cassette.jsonl"))
    extra = os.environ.get("AIE_CASSETTE_FILE")
    if extra and Path(extra).exists() and Path(extra).resolve() not in [p.resolve() for p in paths]:
        paths.append(Path(extra))
    return paths


class Table(dict):
    """Recordings by request key, with the models that made them (from each cassette's first line)."""

    def __init__(self):
        super().__init__()
        self.models: dict[str, set[str]] = {}  # model id -> the dates its cassettes were recorded
        self.files: list[Path] = []


def load(paths: list[Path] | None = None) -> Table:
    """All recordings in the given cassettes (default: :func:`default_paths`)."""
    table = Table()
    for path in default_paths() if paths is None else paths:
        table.files.append(path)
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    if "cassette" in rec:
                        if rec["cassette"] != FORMAT:
                            raise ValueError(f"cassette format {rec['cassette']}, this course reads format {FORMAT}")
                        table.models.setdefault(rec["model"], set()).add(rec.get("recorded", ""))
                        continue
                    rec["status"], rec["body"], rec["key"]  # noqa: B018  (all three must be there)
                    table[rec["key"]] = rec
                except (ValueError, KeyError, TypeError) as e:
                    raise CassetteError(
                        f"Cassette {path} line {lineno} is unreadable ({type(e).__name__}: {e}). The first line names the "
                        "model; every other line is one JSON object with 'key', 'about', 'status' and 'body'. Re-record it "
                        "with `make record NB=<notebook>` or delete that line; nothing in the file was changed."
                    ) from None
    return table


def response_text(rec: dict) -> tuple[str, str]:
    """(content type, body text) to replay for a recording; a stream is re-sent as server-sent events."""
    if rec.get("stream"):
        from aie.offline.api import _sse

        events = _sse(rec["body"], bool(rec["stream"].get("include_usage")), created=rec["body"].get("created"))
        return "text/event-stream", b"".join(events).decode()
    return "application/json", json.dumps(rec["body"], ensure_ascii=False)


def completion_from_stream(text: str) -> dict | None:
    """The chat completion a stream of server-sent events adds up to (content, tool calls, usage)."""
    result: dict | None = None
    for line in text.splitlines():
        if not line.startswith("data: ") or line[6:].strip() == "[DONE]":
            continue
        try:
            chunk = json.loads(line[6:])
        except ValueError:
            continue
        if result is None:
            result = {k: chunk.get(k) for k in ("id", "created", "model", "system_fingerprint")}
            result.update(object="chat.completion", choices=[], usage=None)
        if chunk.get("usage"):
            result["usage"] = chunk["usage"]
        for ch in chunk.get("choices") or []:
            while len(result["choices"]) <= ch["index"]:
                result["choices"].append({"index": len(result["choices"]), "logprobs": None, "finish_reason": None,
                                          "message": {"role": "assistant", "content": None, "refusal": None, "annotations": []}})
            msg, delta = result["choices"][ch["index"]]["message"], ch.get("delta") or {}
            if delta.get("content"):
                msg["content"] = (msg["content"] or "") + delta["content"]
            for tc in delta.get("tool_calls") or []:
                calls = msg.setdefault("tool_calls", [])
                while len(calls) <= tc["index"]:
                    calls.append({"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                call = calls[tc["index"]]
                call["id"] = tc.get("id") or call["id"]
                call["function"]["name"] += (tc.get("function") or {}).get("name") or ""
                call["function"]["arguments"] += (tc.get("function") or {}).get("arguments") or ""
            if ch.get("finish_reason"):
                result["choices"][ch["index"]]["finish_reason"] = ch["finish_reason"]
    return result


def append(path: Path, req_key: str, endpoint: str, body: dict | None, status: int, content_type: str, text: str) -> dict:
    """Add one recording (writing the model line first if the cassette is new); return it as replay will read it."""
    stream = None
    if content_type.startswith("text/event-stream"):
        obj = completion_from_stream(text)
        stream = {"include_usage": bool(((body or {}).get("stream_options") or {}).get("include_usage"))}
    else:
        obj = json.loads(text)
    rec = {"key": req_key, "about": describe(endpoint, body), "status": status, "body": obj}
    if stream:
        rec["stream"] = stream
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    if not path.exists() or path.stat().st_size == 0:  # the model line: the backend's chat model, not whatever this request named
        lines.append({"cassette": FORMAT, "model": config.model("chat"), "recorded": datetime.date.today().isoformat()})
    lines.append(rec)
    written = [scrub(json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":"))) for line in lines]
    with open(path, "a", encoding="utf-8") as f:
        for line in written:
            f.write(line + "\n")
    return json.loads(written[-1])


def _dates(dates: set[str]) -> str:
    """One date, or the first and last when a folder's cassettes were recorded on different days."""
    known = sorted(d for d in dates if d)
    if not known:
        return "on an unrecorded date"
    return known[0] if known[0] == known[-1] else f"from {known[0]} to {known[-1]}"


def notice(table: Table) -> str:
    """One line for the learner: which real model's recordings this notebook replays."""
    models = "; ".join(f"{m} ({SOURCES.get(m, 'a real model')}, recorded {_dates(d)})" for m, d in sorted(table.models.items()))
    return (f"aie: offline backend. Recorded responses from {models} answer the model calls recorded for this folder's "
            "notebooks (each reply names its model); any other request goes to the course's offline model (MiniLM "
            "embeddings and rules, not an LLM). For a live model see `python -m aie doctor`.")


def strict() -> bool:
    return config.cassette_strict()


def recording() -> bool:
    return config.recording()
