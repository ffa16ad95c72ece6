"""``aie.client()``: one factory for every backend, returning a real ``openai.OpenAI``.

Every backend's HTTP traffic passes through :class:`CourseTransport`, which keeps the
usage ledger, enforces the budget cap, records and replays cassettes, and turns
connection and key problems into messages that say how to fix them.
"""

from __future__ import annotations

import json
import os
import re

import httpx2 as httpx
import openai

from aie import cassette, config, ledger

_notice_shown = False
OFFLINE_NOTICE = (
    "aie: offline backend. Answers come from the course's offline model (MiniLM embeddings and rules, "
    "not an LLM) or from recorded real responses. For a real model set OPENAI_API_KEY, OPENAI_BASE_URL, "
    "or AIE_BACKEND=local-llm (see `python -m aie doctor`)."
)


class CourseTransport(httpx.BaseTransport):
    """Wraps the backend's transport: ledger, budget, cassettes, clear errors."""

    def __init__(self, inner: httpx.BaseTransport, backend: str, base_url: str):
        self.inner, self.backend, self.base_url = inner, backend, base_url
        self._cassettes: dict | None = None
        self._recorded: set[str] = set()  # request keys this process has written to its cassette

    def _reuse_table(self) -> dict:
        """Recordings a re-recording may reuse (AIE_CASSETTE_REUSE, set by `make record KEEP=1`)."""
        if getattr(self, "_reuse", None) is None:
            import os
            from pathlib import Path

            paths = [Path(p) for p in os.environ.get("AIE_CASSETTE_REUSE", "").split(os.pathsep) if p and Path(p).exists()]
            self._reuse = cassette.load(paths) if paths else {}
        return self._reuse

    def _replay_table(self) -> dict:
        if self._cassettes is None:
            self._cassettes = cassette.load()
        return self._cassettes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = request.url.path
        endpoint = "/" + path.split("/v1/", 1)[-1].strip("/")
        model_id = (body or {}).get("model", "")
        key = cassette.key(request.method, path, body, _chat_models())
        start = ledger.now()

        if self.backend == "offline" and request.method == "POST" and endpoint in cassette.RECORDED_ENDPOINTS:
            rec = self._replay_table().get(key)
            if rec is not None:
                content_type, text = cassette.response_text(rec)
                response = httpx.Response(rec["status"], headers={"content-type": content_type}, content=text.encode(),
                                          request=request)
                self._account(endpoint, model_id, response, text, start, "cassette", body)
                return response
            if cassette.strict():
                files = ", ".join(str(p) for p in self._replay_table().files) or "none in this folder"
                raise cassette.CassetteError(
                    f"AIE_CASSETTE=strict and no recording matches this request ({cassette.describe(endpoint, body)}); "
                    f"cassettes read: {files}. The notebook's requests changed since they were recorded: re-record it with "
                    "`make record NB=<notebook>`, or unset AIE_CASSETTE to let the offline model answer."
                )
        elif request.method == "POST" and body:
            reused = self._reuse_table().get(key) if endpoint in cassette.RECORDED_ENDPOINTS else None
            if reused is not None:  # `make record KEEP=1`, or a request this recording already sent: not sent again
                content_type, text = cassette.response_text(reused)
                response = httpx.Response(reused["status"], headers={"content-type": content_type}, content=text.encode(),
                                          request=request)
                self._account(endpoint, model_id, response, text, start, "cassette", body)
                if key not in self._recorded:
                    self._maybe_record(key, request.method, endpoint, body, reused["status"], content_type, text)
                return response
            ledger.check_budget(self.backend, model_id, body)

        try:
            response = self.inner.handle_request(request)
        except httpx.ConnectError as e:
            raise openai.APIConnectionError(
                message=f"Could not reach {self.base_url} ({e}). Is the server running and the URL right "
                "(OPENAI_BASE_URL)? Run `python -m aie doctor` to check the set-up, or unset OPENAI_BASE_URL "
                "to use the offline backend.",
                request=request,
            ) from None

        is_stream = response.headers.get("content-type", "").startswith("text/event-stream")
        if is_stream and response.status_code == 200:
            return httpx.Response(response.status_code, headers=response.headers,
                                  stream=_Tee(response, self, endpoint, model_id, key, request.method, body, start),
                                  request=request)
        text = response.read().decode("utf-8", errors="replace")
        if response.status_code == 401:
            text = _hint_auth(text)
        self._account(endpoint, model_id, response, text, start, "offline" if self.backend == "offline" else "live", body)
        self._maybe_record(key, request.method, endpoint, body, response.status_code,
                           response.headers.get("content-type", "application/json"), text)
        return httpx.Response(response.status_code, headers=response.headers, content=text.encode(), request=request)

    def _maybe_record(self, key, method, endpoint, body, status, content_type, text) -> None:
        if (self.backend != "offline" and cassette.recording() and method == "POST" and status < 500
                and endpoint in cassette.RECORDED_ENDPOINTS):
            rec = cassette.append(cassette.record_file(), key, endpoint, body, status, content_type, text)
            # A model may answer the same request differently twice (llama.cpp's reused prompt cache shifts the
            # arithmetic a little). Replay has one answer per request, so the rest of this recording gets the
            # first one too: the run that is recorded is the run that replays.
            self._recorded.add(key)
            self._reuse_table()[key] = rec

    def _account(self, endpoint, model_id, response, text, start, source, body=None) -> None:
        if response.status_code != 200 or endpoint not in {"/chat/completions", "/embeddings"}:
            return
        usage, model_used = _usage_from(text)
        inp = usage.get("prompt_tokens")
        if inp is None:  # a stream without a usage chunk: count the prompt ourselves
            from aie import tokens

            inp = tokens.count_messages(body["messages"]) if body and body.get("messages") else 0
        out = usage.get("completion_tokens", 0) or 0
        backend = "cassette" if source == "cassette" else self.backend
        ledger.LEDGER.add(ledger.Entry(backend, model_used or model_id, endpoint.strip("/"), inp, out,
                                       round(ledger.now() - start, 6), _cost(backend, model_used or model_id, inp, out), source))


def _chat_models() -> set[str]:
    """The active backend's chat and small model ids (what a cassette key treats as 'the chat model')."""
    try:
        return {config.model("chat"), config.model("small")}
    except config.ConfigError:
        return set()


def _cost(backend, model_id, inp, out):
    from aie import prices

    return prices.cost(backend, model_id, inp, out)


def _usage_from(text: str) -> tuple[dict, str]:
    """Usage and model from a JSON body or an SSE stream (the last chunk that carries usage)."""
    text = text.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
            return obj.get("usage") or {}, obj.get("model", "")
        except ValueError:
            return {}, ""
    usage, model_id, content_chars = {}, "", []
    for line in text.splitlines():
        if line.startswith("data: ") and line[6:].strip() != "[DONE]":
            try:
                chunk = json.loads(line[6:])
            except ValueError:
                continue
            model_id = chunk.get("model", model_id)
            if chunk.get("usage"):
                usage = chunk["usage"]
            for ch in chunk.get("choices") or []:
                content_chars.append((ch.get("delta") or {}).get("content") or "")
    if not usage and content_chars:  # no usage chunk requested: count the streamed text ourselves
        from aie import tokens

        usage = {"completion_tokens": tokens.count("".join(content_chars))}
    return usage, model_id


class _Tee(httpx.SyncByteStream):
    """Pass a streamed response through while keeping a copy for the ledger and the cassette."""

    def __init__(self, response, owner: CourseTransport, endpoint, model_id, key, method, body, start):
        self.response, self.owner = response, owner
        self.args = (endpoint, model_id, key, method, body, start)

    def __iter__(self):
        self.parts, self.done = [], False
        for piece in self.response.iter_raw():
            self.parts.append(piece)
            yield piece
        self._finish()

    def _finish(self) -> None:
        # The SDK may stop reading at "data: [DONE]", so this also runs from close().
        if getattr(self, "done", True):
            return
        self.done = True
        endpoint, model_id, key, method, body, start = self.args
        text = b"".join(self.parts).decode("utf-8", errors="replace")
        source = "offline" if self.owner.backend == "offline" else "live"
        self.owner._account(endpoint, model_id, self.response, text, start, source, body)
        self.owner._maybe_record(key, method, endpoint, body, 200, "text/event-stream", text)

    def close(self):
        self._finish()
        self.response.close()


def _hint_auth(text: str) -> str:
    """Scrub any key from a 401 body and say what to do."""
    try:
        obj = json.loads(text)
        msg = re.sub(r"sk-[A-Za-z0-9_\-\*]+", "sk-***", obj["error"]["message"])
        obj["error"]["message"] = (msg + " Hint: the key in OPENAI_API_KEY was rejected. Create a new key, set it again, "
                                   "and run `python -m aie doctor`; or unset it to use the offline backend.")
        return json.dumps(obj)
    except (ValueError, KeyError, TypeError):
        return text


def offline_client() -> openai.OpenAI:
    """A client answered in process by the offline model, whatever the environment says.

    Why: an exercise checker must grade the same way on every machine, with or without a key, and must
    not add its calls to the learner's usage ledger, budget or cassettes. Lessons use :func:`make_client`.
    """
    from aie.offline.transport import OfflineTransport

    return openai.OpenAI(api_key="no-key-needed", base_url="http://offline.aie.invalid/v1", max_retries=0,
                         http_client=httpx.Client(transport=OfflineTransport()))


def make_client(timeout: float | None = None, max_retries: int | None = None, quiet: bool = False) -> openai.OpenAI:
    """An ``openai.OpenAI`` client for the active backend (see :mod:`aie.config`).

    ``timeout`` defaults to AIE_TIMEOUT seconds, else 60 (a model on a CPU may need more)."""
    global _notice_shown
    name = config.check()  # every setting, so a typo in AIE_BUDGET_USD fails here, not at the first paid call
    timeout = timeout if timeout is not None else config.timeout()
    if name == "offline" or name == "local-llm":
        from aie.offline.transport import OfflineTransport

        generator = None
        if name == "local-llm":
            from aie import localllm

            generator = localllm.generator()  # raises ConfigError with the install command if missing
        base_url = "http://offline.aie.invalid/v1" if name == "offline" else "http://local-llm.aie.invalid/v1"
        transport = CourseTransport(OfflineTransport(generator, name), name, base_url)
        if name == "offline" and not _notice_shown and not quiet:
            table = transport._replay_table()
            print(cassette.notice(table) if table else OFFLINE_NOTICE)
            _notice_shown = True
        return openai.OpenAI(api_key="no-key-needed", base_url=base_url, max_retries=0 if max_retries is None else max_retries,
                             http_client=httpx.Client(transport=transport, timeout=timeout))
    if name == "openai":
        key = os.environ.get("OPENAI_API_KEY", "").strip()
        if not key:
            raise config.ConfigError(
                "AIE_BACKEND=openai needs an API key: set OPENAI_API_KEY (https://platform.openai.com/api-keys). "
                "Or unset AIE_BACKEND to use the offline backend, which needs no key."
            )
        base_url = "https://api.openai.com/v1"
        transport = CourseTransport(httpx.HTTPTransport(), name, base_url)
        return openai.OpenAI(api_key=key, base_url=base_url, max_retries=2 if max_retries is None else max_retries,
                             http_client=httpx.Client(transport=transport, timeout=timeout))
    # compatible
    base_url = os.environ.get("OPENAI_BASE_URL", "").strip()
    if not base_url:
        raise config.ConfigError(
            "AIE_BACKEND=compatible needs OPENAI_BASE_URL, the server's address, e.g. http://localhost:11434/v1 for Ollama. "
            "Or unset AIE_BACKEND to use the offline backend."
        )
    key = os.environ.get("OPENAI_API_KEY", "").strip() or "not-needed"
    transport = CourseTransport(httpx.HTTPTransport(), name, base_url)
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=2 if max_retries is None else max_retries,
                         http_client=httpx.Client(transport=transport, timeout=timeout))
