"""OpenAI's HTTP API, answered in process by the offline model.

Requests are validated the way OpenAI validates them, and failures come back with
OpenAI's status codes and error body, so the SDK raises its usual exceptions
(``NotFoundError`` for an unknown model, ``BadRequestError`` for a bad request or a
prompt longer than the context window).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Iterator

from aie import config, tokens
from aie.offline import validation
from aie.offline.errors import APIError

CREATED = 1767225600  # 2026-01-01T00:00:00Z: a fixed timestamp keeps stored outputs stable
FINGERPRINT = "fp_aie_offline_v1"  # the local LLM answers with "fp_aie_llamacpp"
OWNER = "aie-course"
MAX_N = validation.MAX_N


@dataclass
class Response:
    status: int
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    headers: dict = field(default_factory=lambda: {"content-type": "application/json"})

    def json(self):
        return json.loads(self.body)


def error_response(e: APIError) -> Response:
    return Response(e.status, e.body())


def _ok(obj: dict) -> Response:
    return Response(200, json.dumps(obj, ensure_ascii=False).encode())


def chat_models(backend_name: str = "offline") -> list[str]:
    roles = config.models_for(backend_name)
    return sorted({roles["chat"], roles["small"]})


def embedding_models() -> list[str]:
    return [config.MODELS["offline"]["embedding"]]


def handle(method: str, path: str, body: bytes | None, generator=None, backend_name: str = "offline") -> Response:
    """Answer one HTTP request. ``generator`` writes chat answers (the offline model by default)."""
    path = "/" + path.split("?", 1)[0].strip("/")
    if path.startswith("/v1/"):
        path = path[3:]
    try:
        if method == "GET" and path == "/models":
            return _ok({"object": "list", "data": [_model_obj(m) for m in chat_models(backend_name) + embedding_models()]})
        if method == "GET" and path.startswith("/models/"):
            mid = path[len("/models/"):]
            if mid not in chat_models(backend_name) + embedding_models():
                raise _unknown_model(mid, backend_name)
            return _ok(_model_obj(mid))
        if method != "POST":
            raise APIError(404, f"Invalid URL ({method} {path}): this backend serves POST /v1/chat/completions, POST /v1/responses, POST /v1/embeddings and GET /v1/models.", code="unknown_url")
        req = _parse_json(body)
        if path == "/chat/completions":
            return chat_completions(req, generator, backend_name)
        if path == "/embeddings":
            return embeddings(req)
        if path == "/responses":
            return responses(req, generator, backend_name)
        raise APIError(404, f"Invalid URL (POST {path}): this backend serves /v1/chat/completions, /v1/responses and "
                       "/v1/embeddings (other endpoints need a real provider; see `python -m aie doctor`).", code="unknown_url")
    except APIError as e:
        return error_response(e)


def _model_obj(mid: str) -> dict:
    return {"id": mid, "object": "model", "created": CREATED, "owned_by": OWNER}


def _unknown_model(mid: str, backend_name: str = "offline") -> APIError:
    known = ", ".join(chat_models(backend_name) + embedding_models())
    return APIError(404, f"The model `{mid}` does not exist or you do not have access to it. This backend serves: {known} "
                    "(use aie.model('chat') rather than a hard-coded id).", code="model_not_found", param="model")


def _parse_json(body: bytes | None) -> dict:
    try:
        req = json.loads(body or b"")
    except ValueError as e:
        raise APIError(400, f"We could not parse the JSON body of your request ({e}).")
    if not isinstance(req, dict):
        raise APIError(400, "The request body must be a JSON object.")
    return req


# ---------------------------------------------------------------- chat completions

VALID_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def validate_chat(req: dict, backend_name: str = "offline") -> None:
    """Refuse what OpenAI refuses: the model, then the messages, field types, ranges, references, the window."""
    mid = req.get("model")
    if not mid:
        raise APIError(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    if not isinstance(mid, str):
        raise validation.type_error("model", "a string", mid)
    if mid not in chat_models(backend_name):
        raise _unknown_model(mid, backend_name)
    msgs = req.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise APIError(400, "'messages' must be a non-empty array of {role, content} objects.", param="messages")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in VALID_ROLES:
            raise APIError(400, f"Invalid value for 'messages[{i}].role': expected one of {sorted(VALID_ROLES)}.", param=f"messages[{i}].role")
        if m["role"] == "tool" and not m.get("tool_call_id"):
            raise APIError(400, f"'messages[{i}]' has role 'tool' but no 'tool_call_id'.", param=f"messages[{i}].tool_call_id")
    validation.check_types(req, "chat")
    validation.check_ranges(req)
    validation.check_references(req)
    rf = req.get("response_format")
    if rf is not None:
        _validate_response_format(rf)
    for i, tool in enumerate(req.get("tools") or []):
        if tool.get("type") == "function" and tool["function"].get("parameters") is not None:
            _check_schema(tool["function"]["parameters"], f"tools[{i}].function.parameters", f"function '{tool['function']['name']}'")
    window = config.context_window(mid) or 16_384
    prompt = tokens.count_messages(msgs)
    wanted = req.get("max_completion_tokens") or req.get("max_tokens") or 0
    if prompt + wanted > window:
        raise APIError(400, f"This model's maximum context length is {window} tokens. However, you requested {prompt + wanted} tokens "
                       f"({prompt} in the messages, {wanted} in the completion). Please reduce the length of the messages or completion.",
                       param="messages", code="context_length_exceeded")


def _validate_response_format(rf: dict) -> None:
    if rf["type"] == "json_schema":
        js = rf["json_schema"]
        if not js.get("name") or not isinstance(js.get("schema"), dict):
            raise APIError(400, "Invalid 'response_format.json_schema': expected {'name': ..., 'schema': {...}}.", param="response_format.json_schema")
        _check_schema(js["schema"], "response_format", f"response_format '{js['name']}'")


def _check_schema(schema: dict, param: str, what: str) -> None:
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        where = "/".join(str(p) for p in e.path) or "(root)"
        raise APIError(400, f"Invalid schema for {what}: at {where}: {e.message}.", param=param)


def request_id(req: dict) -> str:
    return hashlib.sha256(json.dumps(req, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def _rng(req: dict, index: int) -> random.Random:
    seed = req.get("seed")
    basis = json.dumps([req.get("messages"), seed, index], sort_keys=True, ensure_ascii=False)
    return random.Random(int(hashlib.sha256(basis.encode()).hexdigest()[:16], 16))


def _apply_limits(content: str | None, req: dict) -> tuple[str | None, bool]:
    """Cut at a stop sequence, then at max tokens. Returns (content, truncated)."""
    if content is None:
        return None, False
    stop = req.get("stop")
    for s in [stop] if isinstance(stop, str) else (stop or []):
        if s and s in content:
            content = content[: content.index(s)]
    limit = req.get("max_completion_tokens") or req.get("max_tokens")
    if limit:
        enc = tokens.encoding()
        ids = enc.encode(content, disallowed_special=())
        if len(ids) > limit:
            return enc.decode(ids[:limit]), True
    return content, False


def chat_completions(req: dict, generator=None, backend_name: str = "offline") -> Response:
    validate_chat(req, backend_name)
    if generator is None:
        from aie.offline import model as generator_module

        generator = generator_module.complete
    rid = "chatcmpl-" + request_id(req)
    choices, completion_tokens = [], 0
    for i in range(req.get("n") or 1):
        reply = generator(req, _rng(req, i))
        if reply.get("limited"):  # a real model already stopped at `stop` and `max_tokens`
            content, truncated = reply.get("content"), reply.get("finish_reason") == "length"
        else:
            content, truncated = _apply_limits(reply.get("content"), req)
        tool_calls = reply.get("tool_calls") or None
        if tool_calls:
            tool_calls = [
                {"id": f"call_{request_id(req)[:12]}_{i}_{j}", "type": "function",
                 "function": {"name": tc["name"], "arguments": tc["arguments"] if isinstance(tc["arguments"], str) else json.dumps(tc["arguments"])}}
                for j, tc in enumerate(tool_calls)
            ]
        finish = "tool_calls" if tool_calls else ("length" if truncated else reply.get("finish_reason", "stop"))
        message = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
        if tool_calls:
            message["tool_calls"] = tool_calls
        choices.append({"index": i, "message": message, "logprobs": reply.get("logprobs"), "finish_reason": finish})
        if "completion_tokens" in reply:  # a real model counts its own tokens
            completion_tokens += reply["completion_tokens"]
        else:
            completion_tokens += tokens.count(content or "") + sum(tokens.count(tc["function"]["name"] + tc["function"]["arguments"]) for tc in tool_calls or [])
    prompt_tokens = reply.get("prompt_tokens") or tokens.count_messages(req["messages"])
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
    fingerprint = FINGERPRINT if backend_name == "offline" else "fp_aie_llamacpp"
    result = {"id": rid, "object": "chat.completion", "created": CREATED, "model": req["model"], "choices": choices,
              "usage": usage, "system_fingerprint": fingerprint, "service_tier": "default"}
    if req.get("stream"):
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        return Response(200, stream=_sse(result, include_usage), headers={"content-type": "text/event-stream"})
    return _ok(result)


def _pieces(text: str) -> list[str]:
    """Split text into stream deltas at token boundaries (joined, they give the text back exactly)."""
    enc = tokens.encoding()
    ids = enc.encode(text, disallowed_special=())
    out, buf = [], []
    for tid in ids:  # group ids so that multi-byte characters are never split
        buf.append(tid)
        piece = enc.decode(buf)
        if "\ufffd" not in piece:
            out.append(piece)
            buf = []
    if buf:
        out.append(enc.decode(buf))
    return out


def _sse(result: dict, include_usage: bool, created: int | None = None) -> Iterator[bytes]:
    base = {"id": result["id"], "object": "chat.completion.chunk", "created": created or CREATED, "model": result["model"],
            "system_fingerprint": result.get("system_fingerprint") or FINGERPRINT}

    def event(choices, usage=None):
        chunk = dict(base, choices=choices)
        if include_usage:
            chunk["usage"] = usage
        return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"

    for ch in result["choices"]:
        i, msg = ch["index"], ch["message"]
        yield event([{"index": i, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}])
        for piece in _pieces(msg["content"] or ""):
            yield event([{"index": i, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}])
        for j, tc in enumerate(msg.get("tool_calls") or []):
            yield event([{"index": i, "delta": {"tool_calls": [{"index": j, "id": tc["id"], "type": "function",
                         "function": {"name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}}]},
                          "logprobs": None, "finish_reason": None}])
        yield event([{"index": i, "delta": {}, "logprobs": None, "finish_reason": ch["finish_reason"]}])
    if include_usage:
        yield event([], result["usage"])
    yield b"data: [DONE]\n\n"


# ---------------------------------------------------------------- embeddings

def embeddings(req: dict) -> Response:
    mid = req.get("model")
    if mid not in embedding_models():
        if mid in chat_models():
            raise APIError(400, f"`{mid}` is a chat model; embeddings need {embedding_models()[0]!r} (aie.model('embedding')).", param="model")
        raise _unknown_model(mid or "")
    inp = req.get("input")
    if isinstance(inp, str):
        inp = [inp]
    if not isinstance(inp, list) or not inp or not all(isinstance(t, str) for t in inp):
        raise APIError(400, "'input' must be a non-empty string or array of strings (token arrays are not supported offline).", param="input")
    if any(not t.strip() for t in inp):
        raise APIError(400, "'input' cannot contain an empty string.", param="input")
    validation.check_types(req, "embeddings")
    from aie import minilm

    counts = [minilm.count_tokens(t) for t in inp]
    too_long = [i for i, c in enumerate(counts) if c > minilm.MAX_TOKENS]
    if too_long:
        raise APIError(400, f"input[{too_long[0]}] is {counts[too_long[0]]} tokens; this embedding model reads at most "
                       f"{minilm.MAX_TOKENS}. Split long text into chunks first.", param="input", code="context_length_exceeded")
    vecs = minilm.embed(inp)
    dims = req.get("dimensions")
    fmt = req.get("encoding_format", "float")
    data = []
    for i, v in enumerate(vecs):
        if dims:
            raise APIError(400, "'dimensions' is not supported by the offline embedding model (it always returns 384).", param="dimensions")
        if fmt == "base64":
            import base64

            emb = base64.b64encode(v.astype("<f4").tobytes()).decode()
        else:
            emb = [round(float(x), 7) for x in v]
        data.append({"object": "embedding", "index": i, "embedding": emb})
    total = sum(counts)
    return _ok({"object": "list", "data": data, "model": mid, "usage": {"prompt_tokens": total, "total_tokens": total}})


# ---------------------------------------------------------------- the Responses API (text in, text out)

RESPONSES_UNSUPPORTED = ("tools", "stream", "previous_response_id", "conversation", "background", "reasoning", "prompt")


def responses(req: dict, generator=None, backend_name: str = "offline") -> Response:
    """``POST /v1/responses`` for text input and output, answered by the same model as chat completions.

    Why: OpenAI's newer examples use the Responses API; a learner can try it here with no key. Tools,
    streaming and stored conversations stay with chat completions (or a real provider)."""
    used = [k for k in RESPONSES_UNSUPPORTED if req.get(k)]
    if used:
        raise APIError(400, f"This backend serves the Responses API for text in and text out only; '{used[0]}' needs a real "
                       "provider. Use chat completions for tools and streaming (they work on every backend).", param=used[0])
    messages = []
    if req.get("instructions"):
        messages.append({"role": "developer", "content": req["instructions"]})
    inp = req.get("input")
    if isinstance(inp, str):
        messages.append({"role": "user", "content": inp})
    elif isinstance(inp, list):
        for i, item in enumerate(inp):
            if not isinstance(item, dict) or item.get("role") not in {"user", "assistant", "system", "developer"}:
                raise APIError(400, f"Invalid 'input[{i}]': expected a message {{'role': 'user', 'content': ...}}.", param=f"input[{i}]")
            content = item.get("content")
            if isinstance(content, list):  # input_text / output_text parts
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            messages.append({"role": item["role"], "content": content})
    else:
        raise APIError(400, "Missing required parameter: 'input' (a string, or a list of messages).", param="input")
    chat = {"model": req.get("model"), "messages": messages}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p"), ("max_output_tokens", "max_tokens")):
        if req.get(ours) is not None:
            chat[theirs] = req[ours]
    fmt = ((req.get("text") or {}).get("format") or {})
    if fmt.get("type") == "json_schema":
        chat["response_format"] = {"type": "json_schema", "json_schema": {k: fmt[k] for k in ("name", "schema", "strict") if k in fmt}}
    answer = chat_completions(chat, generator, backend_name)
    if answer.status != 200:
        return answer
    done = answer.json()
    choice, usage = done["choices"][0], done["usage"]
    text = choice["message"]["content"] or ""
    rid = done["id"].replace("chatcmpl-", "")
    return _ok({
        "id": "resp_" + rid, "object": "response", "created_at": CREATED, "model": done["model"],
        "status": "incomplete" if choice["finish_reason"] == "length" else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if choice["finish_reason"] == "length" else None,
        "error": None, "instructions": req.get("instructions"), "metadata": req.get("metadata") or {},
        "output": [{"type": "message", "id": "msg_" + rid, "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "parallel_tool_calls": True, "temperature": req.get("temperature"), "top_p": req.get("top_p"),
        "tool_choice": "auto", "tools": [], "text": {"format": fmt or {"type": "text"}},
        "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
                  "total_tokens": usage["total_tokens"], "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}},
    })
