"""Refuse what the OpenAI API refuses, with a 400 that says what is wrong.

Why: a request the offline backend answers but OpenAI rejects teaches the wrong habit, and the
learner meets the error only after switching to a real model. Field types come from the openai
SDK's own request types (its TypedDicts, checked with pydantic), so they follow the pinned SDK;
ranges and references between fields follow the API reference, written out below.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterator
from functools import cache

from pydantic import TypeAdapter, ValidationError

from aie.offline.errors import APIError

MAX_N = 8  # OpenAI allows up to 128; the offline model writes at most 8 choices

# (lowest, highest) allowed value per numeric field, from the API reference (chat.completions.create).
RANGES: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
    "top_logprobs": (0, 20),
    "n": (1, MAX_N),
    "max_tokens": (1, None),
    "max_completion_tokens": (1, None),
    "seed": (-(2**63), 2**63 - 1),
}
MAX_STOP = 4
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@cache
def _request_type(kind: str):
    """The SDK's TypedDict for a request body: "chat", "chat-stream" or "embeddings"."""
    if kind == "embeddings":
        from openai.types.embedding_create_params import EmbeddingCreateParams

        return EmbeddingCreateParams
    from openai.types.chat import completion_create_params as p

    return p.CompletionCreateParamsStreaming if kind == "chat-stream" else p.CompletionCreateParamsNonStreaming


@cache
def _adapter(kind: str) -> TypeAdapter:
    return TypeAdapter(_request_type(kind))


def known_fields(kind: str) -> list[str]:
    return list(typing.get_type_hints(_request_type(kind)))


def check_types(req: dict, kind: str) -> None:
    """Every field has the type the SDK declares, and no field is unknown (as OpenAI checks)."""
    if kind == "chat" and req.get("stream") is True:
        kind = "chat-stream"
    elif kind == "chat" and req.get("stream") not in (None, False):
        raise type_error("stream", "a boolean", req["stream"])
    fields = known_fields(kind)
    for key in req:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else " Remove it (the API reference lists the accepted parameters)."
            raise APIError(400, f"Unrecognized request argument supplied: '{key}'.{hint}", param=key, code="unknown_parameter")
    try:
        validated = _adapter(kind).validate_python(req, strict=True)
    except ValidationError as e:
        raise _problem(e) from None
    _drain(validated, ())


def _drain(value, loc: tuple) -> None:
    """Pydantic checks ``Iterable[...]`` fields (messages, tools, content parts) lazily: read them to check them."""
    if isinstance(value, Iterator):
        try:
            items = list(value)
        except ValidationError as e:
            raise _problem(e, loc) from None
        for i, item in enumerate(items):
            _drain(item, loc + (i,))
    elif isinstance(value, dict):
        for k, v in value.items():
            _drain(v, loc + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _drain(v, loc + (i,))


# ---------------------------------------------------------------- pydantic errors as OpenAI's

EXPECTED = {
    "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "a boolean", "bool_parsing": "a boolean",
    "dict_type": "an object", "typed_dict_type": "an object", "model_type": "an object", "list_type": "an array",
    "iterable_type": "an array", "is_instance_of": "an array", "tuple_type": "an array", "none_required": "null",
}


def _is_branch_tag(part) -> bool:
    """Pydantic names the member of a Union it tried ('str', 'ChatCompletionUserMessageParam', 'list[str]')."""
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in {"str", "int", "float", "bool", "none"})


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _is_branch_tag(part):
            out += ("." if out else "") + part
    return out


def _problem(err: ValidationError, prefix: tuple = ()) -> APIError:
    """The first thing wrong, as OpenAI words it. Union members whose 'type'/'role' did not match are skipped."""
    errors = [(prefix + tuple(e["loc"]), e) for e in err.errors()]
    mismatched = {loc[:-1] for loc, e in errors
                  if e["type"] == "literal_error" and loc[-1] in ("type", "role") and len(loc) > 1 and _is_branch_tag(loc[-2])}
    relevant = [(loc, e) for loc, e in errors if not any(loc[:len(m)] == m for m in mismatched)] or errors
    path = _path(relevant[0][0])
    here = [e for loc, e in errors if _path(loc) == path]
    first = here[0]
    if first["type"] == "missing":
        return APIError(400, f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter")
    if first["type"] == "literal_error":
        allowed = ", ".join(sorted({e["ctx"]["expected"] for e in here if e["type"] == "literal_error"}))
        return APIError(400, f"Invalid value for '{path}': {first['input']!r}. Supported values are: {allowed}.",
                        param=path, code="invalid_value")
    expected = " or ".join(dict.fromkeys(EXPECTED.get(e["type"], e["msg"].lower()) for e in here))
    return type_error(path, expected, first["input"])


def type_error(path: str, expected: str, got) -> APIError:
    return APIError(400, f"Invalid type for '{path}': expected {expected}, but got {_kind(got)} instead.",
                    param=path, code="invalid_type")


def _kind(value) -> str:
    if value is None:
        return "null"
    for t, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
                    (list, "an array"), (dict, "an object")):
        if isinstance(value, t):
            return name
    return type(value).__name__


# ---------------------------------------------------------------- ranges and references

def check_ranges(req: dict) -> None:
    """Numbers inside the ranges the API reference gives (the types are already checked)."""
    t = req.get("temperature")
    if t is not None and not 0 <= t <= 2:  # worded as lessons show it
        code = "decimal_above_max_value" if t > 2 else "decimal_below_min_value"
        raise APIError(400, f"Invalid 'temperature': {t!r}. Expected a number between 0 and 2.", param="temperature", code=code)
    n = req.get("n", 1)
    if n is not None and not 1 <= n <= MAX_N:
        raise APIError(400, f"Invalid 'n': {n!r}. Expected an integer between 1 and {MAX_N}.", param="n",
                       code="integer_above_max_value" if n > MAX_N else "integer_below_min_value")
    for key, (low, high) in RANGES.items():
        v = req.get(key)
        if v is None:
            continue
        what = "integer" if isinstance(v, int) else "decimal"
        if low is not None and v < low:
            bounds = f"between {low} and {high}" if high is not None else f">= {low}"
            raise APIError(400, f"Invalid '{key}': {v!r}. Expected a value {bounds}.", param=key, code=f"{what}_below_min_value")
        if high is not None and v > high:
            raise APIError(400, f"Invalid '{key}': {v!r}. Expected a value between {low} and {high}.", param=key,
                           code=f"{what}_above_max_value")
    stop = req.get("stop")
    if isinstance(stop, list) and len(stop) > MAX_STOP:
        raise APIError(400, f"Invalid 'stop': {len(stop)} sequences. Expected a string or an array of at most {MAX_STOP} strings.",
                       param="stop", code="array_above_max_length")
    for token, bias in (req.get("logit_bias") or {}).items():
        if not -100 <= bias <= 100:
            raise APIError(400, f"Invalid 'logit_bias[{token}]': {bias!r}. Expected a value between -100 and 100.",
                           param="logit_bias", code="integer_above_max_value" if bias > 100 else "integer_below_min_value")


def check_references(req: dict) -> None:
    """Fields that must agree with each other: tools and tool_choice, tool results and tool calls, and so on."""
    tools = req.get("tools")
    names = [t["function"]["name"] for t in tools or [] if t.get("type") == "function"]
    for i, name in enumerate(names):
        if not TOOL_NAME.match(name):
            raise APIError(400, f"Invalid 'tools[{i}].function.name': {name!r}. Expected 1 to 64 letters, digits, '_' or '-' "
                           "(no spaces or dots).", param=f"tools[{i}].function.name", code="invalid_value")
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise APIError(400, f"Invalid 'tools': the function name {dup!r} appears twice. Give every tool a different name.",
                       param="tools", code="invalid_value")
    choice = req.get("tool_choice")
    if choice is not None and choice != "none" and not tools:
        raise APIError(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified. "
                       "Pass tools=[...] or drop tool_choice.", param="tool_choice")
    for chosen in _chosen_tools(choice):
        if chosen not in names:
            raise APIError(400, f"Invalid value for 'tool_choice': no function named {chosen!r} in 'tools' "
                           f"(the tools are: {', '.join(names) or 'none'}). Name one of them, or use 'auto'.",
                           param="tool_choice", code="invalid_value")
    if req.get("parallel_tool_calls") is not None and not tools:
        raise APIError(400, "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
                       param="parallel_tool_calls")
    if req.get("top_logprobs") is not None and req.get("logprobs") is not True:
        raise APIError(400, "Invalid value for 'top_logprobs': it needs 'logprobs' set to true. Add logprobs=True.",
                       param="top_logprobs")
    if req.get("stream_options") is not None and req.get("stream") is not True:
        raise APIError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled. Add stream=True or drop stream_options.",
                       param="stream_options")
    check_tool_messages(req["messages"])


def _chosen_tools(choice) -> list[str]:
    if not isinstance(choice, dict):
        return []
    if choice.get("type") == "function":
        return [choice["function"]["name"]]
    if choice.get("type") == "allowed_tools":
        return [t["function"]["name"] for t in choice["allowed_tools"].get("tools", []) if t.get("type") == "function"]
    return []


def check_tool_messages(messages: list[dict]) -> None:
    """A tool message answers a call of the assistant message just before it; every call gets its answer."""
    open_calls: dict[str, int] = {}  # call id -> index of the assistant message that made it
    in_tool_turn = False
    for i, m in enumerate(messages):
        role = m["role"]
        if role == "tool":
            if not in_tool_turn:
                raise APIError(400, f"Invalid parameter: messages[{i}] has role 'tool' but does not follow an assistant message "
                               "with 'tool_calls'. Append the assistant message that made the call before its result.",
                               param=f"messages[{i}].role")
            if m["tool_call_id"] not in open_calls:
                raise APIError(400, f"Invalid parameter: 'tool_call_id' {m['tool_call_id']!r} of messages[{i}] answers no tool call "
                               f"of the assistant message before it (its calls: {', '.join(open_calls) or 'none left'}). "
                               "Use the id of the call it answers (call.id).", param=f"messages[{i}].tool_call_id")
            del open_calls[m["tool_call_id"]]
            continue
        if open_calls:
            raise _unanswered(open_calls)
        in_tool_turn = False
        if role == "assistant":
            calls = m.get("tool_calls") or []
            if m.get("content") is None and not calls and m.get("function_call") is None and m.get("audio") is None:
                raise APIError(400, f"Invalid value for 'messages[{i}].content': expected a string, got null. "
                               "An assistant message needs 'content' unless it has 'tool_calls'.",
                               param=f"messages[{i}].content")
            open_calls = {c["id"]: i for c in calls}
            in_tool_turn = bool(calls)
    if open_calls:
        raise _unanswered(open_calls)


def _unanswered(open_calls: dict[str, int]) -> APIError:
    return APIError(400, "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. These calls have no tool message: {', '.join(open_calls)}. "
                    "Append one {'role': 'tool', 'tool_call_id': call.id, 'content': ...} per call.",
                    param=f"messages[{next(iter(open_calls.values()))}].tool_calls")
