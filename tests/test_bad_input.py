"""Bad input, refused clearly: one row per mistake a learner can make through a public surface.

Each row says what is tried, what must happen (an exception type, an HTTP status or an exit status)
and words the message must contain, so a regression shows as one failing row. The surfaces: the SDK
talking to the offline backend, ``aie.client()`` under a bad environment, ``python -m aie`` (through
``aie.__main__.main``) and the HTTP server of ``python -m aie serve``.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable
from urllib.parse import urlparse

import nbformat
import openai
import pytest
from conftest import throwaway_key
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import aie
from aie.__main__ import main
from aie.config import ConfigError
from aie.ledger import BudgetExceededError


@dataclass(frozen=True)
class HTTP:
    status: int


@dataclass(frozen=True)
class Exit:
    status: int


OK = HTTP(200)
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
CALL = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
ASKED = [USER[0], {"role": "assistant", "content": None, "tool_calls": [CALL]}]
ANSWERED = ASKED + [{"role": "tool", "tool_call_id": "c1", "content": "{\"temp_c\": 18}"}]


# ---------------------------------------------------------------- how each surface is tried

def chat(**request):
    """A chat completion through the SDK and the offline backend (``model`` and ``messages`` filled in)."""
    def attempt(ctx):
        aie.client(quiet=True).chat.completions.create(**{"model": aie.model("chat"), "messages": USER, **request})
        return OK, ""
    return attempt


def embed(**request):
    def attempt(ctx):
        aie.client(quiet=True).embeddings.create(**{"model": aie.model("embedding"), **request})
        return OK, ""
    return attempt


def client_with(**env):
    """Make a client under these environment variables."""
    def attempt(ctx):
        for k, v in env.items():
            ctx.monkeypatch.setenv(k, v)
        aie.client(quiet=True)
        return OK, ""
    return attempt


def paid_call(**env):
    """A chat call on the OpenAI backend (a fake key): refused before anything is sent, or nothing to see."""
    def attempt(ctx):
        for k, v in {"OPENAI_API_KEY": throwaway_key(), **env}.items():
            ctx.monkeypatch.setenv(k, v)
        aie.client(max_retries=0).chat.completions.create(model="gpt-4.1-mini", messages=USER, max_tokens=1000)
        return OK, ""
    return attempt


def cli(*argv, **env):
    """``python -m aie ...`` in a folder holding the files made by :func:`files`."""
    def attempt(ctx):
        for k, v in env.items():
            ctx.monkeypatch.setenv(k, v)
        ctx.monkeypatch.chdir(ctx.tmp_path)
        status = main([a.format(busy_port=ctx.busy_port) for a in argv])
        return Exit(status), ctx.capsys.readouterr().err
    return attempt


def raw(request: bytes):
    """Bytes sent to the HTTP server as they are; the answer's status and error message."""
    def attempt(ctx):
        status, body = send(ctx.server, request)
        error = json.loads(body)["error"]
        assert set(error) == {"message", "type", "param", "code"}  # OpenAI's error body
        return HTTP(status), error["message"]
    return attempt


def post(path: str, body: bytes, **headers):
    head = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in {"content_type": "application/json", **headers}.items())
    if "content_length" not in headers:
        head += f"content-length: {len(body)}\r\n"
    return raw(f"POST {path} HTTP/1.1\r\nhost: localhost\r\n{head}\r\n".encode() + body)


def send(address: tuple[str, int], request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(address, timeout=30) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), len(body))
    return int(head.split()[1]), body[:length]


# ---------------------------------------------------------------- the catalogue

@dataclass
class Row:
    name: str
    attempt: Callable
    expected: object  # HTTP(status), Exit(status) or an exception class
    words: tuple[str, ...] = ()


def row(name, attempt, expected, *words):
    return pytest.param(Row(name, attempt, expected, words), id=name)


BIG = "word " * 20_000

CATALOGUE = [
    # requests OpenAI refuses: the offline backend refuses them the same way
    row("unknown model", chat(model="gpt-0"), HTTP(404), "`gpt-0` does not exist", "aie.model('chat')"),
    row("prompt longer than the window", chat(messages=[{"role": "user", "content": BIG}]), HTTP(400), "maximum context length", "reduce"),
    row("temperature above 2", chat(temperature=7), HTTP(400), "'temperature'", "between 0 and 2"),
    row("temperature as text", chat(temperature="hot"), HTTP(400), "'temperature'", "expected a number", "string"),
    row("n of 0", chat(n=0), HTTP(400), "'n'", "between 1 and 8"),
    row("n as a boolean", chat(n=True), HTTP(400), "'n'", "expected an integer", "boolean"),
    row("seed as text", chat(seed="abc"), HTTP(400), "'seed'", "expected an integer", "string"),
    row("seed with a fraction", chat(seed=1.5), HTTP(400), "'seed'", "expected an integer", "number"),
    row("max_tokens of 0", chat(max_tokens=0), HTTP(400), "'max_tokens'", ">= 1"),
    row("max_tokens as text", chat(max_tokens="10"), HTTP(400), "'max_tokens'", "expected an integer"),
    row("user content null", chat(messages=[{"role": "user", "content": None}]), HTTP(400), "'messages[0].content'", "null"),
    row("user content a number", chat(messages=[{"role": "user", "content": 42}]), HTTP(400), "'messages[0].content'", "expected a string"),
    row("assistant content null without tool calls", chat(messages=USER + [{"role": "assistant", "content": None}, USER[0]]),
        HTTP(400), "'messages[1].content'", "tool_calls"),
    row("assistant content null with tool calls is valid", chat(messages=ANSWERED, tools=[WEATHER]), OK),
    row("content part of an unknown type", chat(messages=[{"role": "user", "content": [{"type": "txt", "text": "hi"}]}]),
        HTTP(400), "'messages[0].content[0].type'", "'text'"),
    row("no messages", chat(messages=[]), HTTP(400), "'messages'", "non-empty"),
    row("unknown role", chat(messages=[{"role": "customer", "content": "Hi"}]), HTTP(400), "'messages[0].role'", "'user'"),
    row("message name not a string", chat(messages=[{"role": "user", "content": "hi", "name": 7}]), HTTP(400),
        "'messages[0].name'", "expected a string"),
    row("tool message without tool_call_id", chat(messages=ASKED + [{"role": "tool", "content": "18"}], tools=[WEATHER]),
        HTTP(400), "tool_call_id"),
    row("tool message with no tool call before it", chat(messages=USER + [{"role": "tool", "tool_call_id": "c1", "content": "18"}]),
        HTTP(400), "role 'tool'", "tool_calls"),
    row("tool message answering another call", chat(messages=ASKED + [{"role": "tool", "tool_call_id": "c9", "content": "18"}],
                                                    tools=[WEATHER]), HTTP(400), "'c9'", "c1", "call.id"),
    row("tool call left unanswered", chat(messages=ASKED + [USER[0]], tools=[WEATHER]), HTTP(400), "no tool message", "c1"),
    row("tool_choice naming a tool not in tools", chat(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "get_time"}}),
        HTTP(400), "'get_time'", "get_weather"),
    row("tool_choice without tools", chat(tool_choice="required"), HTTP(400), "'tool_choice'", "tools"),
    row("tool name with a space", chat(tools=[{"type": "function", "function": {"name": "get weather"}}]), HTTP(400),
        "'tools[0].function.name'", "letters, digits"),
    row("tool without a name", chat(tools=[{"type": "function", "function": {"description": "x"}}]), HTTP(400),
        "Missing required parameter", "'tools[0].function.name'"),
    row("tool parameters not a JSON schema", chat(tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "objekt"}}}]),
        HTTP(400), "Invalid schema", "function 'f'"),
    row("misspelt parameter", chat(extra_body={"max_token": 5}), HTTP(400), "'max_token'", "did you mean 'max_tokens'"),
    row("five stop sequences", chat(stop=["a", "b", "c", "d", "e"]), HTTP(400), "'stop'", "at most 4"),
    row("top_p above 1", chat(top_p=1.5), HTTP(400), "'top_p'", "between 0 and 1"),
    row("top_logprobs without logprobs", chat(top_logprobs=3), HTTP(400), "'top_logprobs'", "logprobs=True"),
    row("stream_options without stream", chat(stream_options={"include_usage": True}), HTTP(400), "stream_options", "stream=True"),
    row("response_format of an unknown type", chat(response_format={"type": "xml"}), HTTP(400), "'response_format.type'", "'json_schema'"),
    row("response_format schema that is not a schema",
        chat(response_format={"type": "json_schema", "json_schema": {"name": "Ticket", "schema": {"type": "objekt"}}}),
        HTTP(400), "Invalid schema", "Ticket"),
    row("embedding an empty string", embed(input=["fine", " "]), HTTP(400), "empty string"),
    row("embedding with a chat model", embed(model="aie-offline", input="hi"), HTTP(400), "chat model", "aie.model('embedding')"),
    row("embedding encoding_format unknown", embed(input="hi", encoding_format="hex"), HTTP(400), "'encoding_format'", "base64"),
    row("embedding dimensions offline", embed(input="hi", dimensions=8), HTTP(400), "'dimensions'", "384"),

    # configuration: checked when the client is made, whichever backend is active
    row("AIE_BACKEND not a backend", client_with(AIE_BACKEND="gemini"), ConfigError, "openai, compatible, local-llm, offline"),
    row("AIE_BACKEND=openai without a key", client_with(AIE_BACKEND="openai"), ConfigError, "OPENAI_API_KEY", "offline"),
    row("AIE_BACKEND=compatible without a URL", client_with(AIE_BACKEND="compatible"), ConfigError, "OPENAI_BASE_URL"),
    row("budget not a number, offline", client_with(AIE_BUDGET_USD="lots"), ConfigError, "AIE_BUDGET_USD='lots'", "0.50"),
    row("budget negative, offline", client_with(AIE_BUDGET_USD="-1"), ConfigError, "AIE_BUDGET_USD='-1'", ">= 0"),
    row("budget not a number, OpenAI", client_with(AIE_BUDGET_USD="$5", OPENAI_API_KEY=throwaway_key()), ConfigError,
        "AIE_BUDGET_USD='$5'", "number"),
    row("budget nan", client_with(AIE_BUDGET_USD="nan"), ConfigError, "AIE_BUDGET_USD", "finite"),
    row("AIE_CASSETTE misspelt", client_with(AIE_CASSETTE="strcit"), ConfigError, "AIE_CASSETTE='strcit'", "AIE_CASSETTE=strict"),
    row("AIE_RECORD neither on nor off", client_with(AIE_RECORD="maybe"), ConfigError, "AIE_RECORD='maybe'", "AIE_RECORD=1"),
    row("a call that could pass the budget", paid_call(AIE_BUDGET_USD="0.0001"), BudgetExceededError, "not sent", "AIE_BUDGET_USD"),

    # the command line: one line on stderr, a non-zero exit, no traceback
    row("execute a missing path", cli("execute", "nope.ipynb"), Exit(2), "nope.ipynb", "no such file"),
    row("execute a file that is not a notebook", cli("execute", "notes.txt"), Exit(2), "notes.txt", "not a notebook"),
    row("execute a broken notebook", cli("execute", "broken.ipynb"), Exit(2), "broken.ipynb", "not a valid notebook"),
    row("execute a folder with no notebooks", cli("execute", "empty"), Exit(2), "no notebooks", "empty"),
    row("execute a notebook whose cell raises", cli("execute", "fails.ipynb"), Exit(1), "fails.ipynb", "ZeroDivisionError"),
    row("student copy of an unclosed solution", cli("student", "--out", "out", "unclosed.ipynb"), Exit(2),
        "unclosed.ipynb", "solution-end"),
    row("student --out is a file", cli("student", "--out", "notes.txt", "lesson.ipynb"), Exit(2), "notes.txt", "folder"),
    row("serve on a port that is not a number", cli("serve", "--port", "abc"), Exit(2), "'abc' is not a port", "--help"),
    row("serve on a port out of range", cli("serve", "--port", "70000"), Exit(2), "70000", "65535"),
    row("serve on a non-loopback host", cli("serve", "--host", "0.0.0.0"), Exit(2), "'0.0.0.0'", "loopback", "127.0.0.1"),
    row("serve on a port in use", cli("serve", "--port", "{busy_port}"), Exit(2), "cannot listen", "--port 0"),
    row("serve with the OpenAI backend active", cli("serve", "--port", "0", OPENAI_API_KEY=throwaway_key()), Exit(2),
        "in-process", "AIE_BACKEND=offline"),
    row("serve with a bad budget", cli("serve", "--port", "0", AIE_BUDGET_USD="lots"), Exit(2), "AIE_BUDGET_USD"),
    row("unknown command", cli("srve"), Exit(2), "invalid choice: 'srve'", "serve"),
    row("no command", cli(), Exit(2), "required", "command"),

    # the HTTP server of `python -m aie serve`
    row("body above the size limit", post("/v1/chat/completions", b"", content_length=100_000_000), HTTP(413),
        "too large", "8388608"),
    row("body that is not JSON", post("/v1/chat/completions", b"{'model': 'aie-offline'"), HTTP(400), "could not parse the JSON"),
    row("body that is a JSON array", post("/v1/chat/completions", b"[1, 2]"), HTTP(400), "JSON object"),
    row("Content-Length not a number", post("/v1/chat/completions", b"{}", content_length="ten"), HTTP(400), "Content-Length", "'ten'"),
    row("chunked body", post("/v1/chat/completions", b"0\r\n\r\n", transfer_encoding="chunked", content_length=0), HTTP(411),
        "Content-Length"),
    row("unreadable request line", raw(b"HELLO\r\n\r\n"), HTTP(400), "Bad request"),
    row("unknown path", post("/v1/completions", b"{}"), HTTP(404), "Invalid URL", "/v1/chat/completions"),
    row("unsupported method", raw(b"DELETE /v1/models HTTP/1.1\r\nhost: localhost\r\n\r\n"), HTTP(501), "Unsupported method"),
    row("unknown model over HTTP", post("/v1/chat/completions", json.dumps({"model": "gpt-0", "messages": USER}).encode()), HTTP(404),
        "does not exist"),
]


# ---------------------------------------------------------------- the test

def files(folder) -> None:
    """What the command-line rows point at."""
    (folder / "notes.txt").write_text("not a notebook\n")
    (folder / "broken.ipynb").write_text("{not json\n")
    (folder / "empty").mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), folder / "fails.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Lesson")]), folder / "lesson.ipynb")
    nbformat.write(new_notebook(cells=[new_markdown_cell(":::{solution-start} ex-1\n:::"), new_code_cell("answer = 42")]),
                   folder / "unclosed.ipynb")


@pytest.fixture
def ctx(monkeypatch, capsys, tmp_path, offline_server):
    files(tmp_path)
    url = urlparse(offline_server)
    # A command-line row must never start serving for real: the test would hang instead of failing.
    monkeypatch.setattr("aie.offline.server.Server.serve_forever", lambda self, *a: (_ for _ in ()).throw(AssertionError("serve started")))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield SimpleNamespace(monkeypatch=monkeypatch, capsys=capsys, tmp_path=tmp_path, server=(url.hostname, url.port),
                              busy_port=busy.getsockname()[1])


def outcome(attempt, ctx) -> tuple[object, str]:
    try:
        return attempt(ctx)
    except openai.APIStatusError as e:
        assert {"message", "type", "param", "code"} <= set(e.body)  # OpenAI's error body, as the SDK reads it
        return HTTP(e.status_code), e.message
    except Exception as e:  # noqa: BLE001 - the row says which exception it expects
        return type(e), str(e)


@pytest.mark.parametrize("case", CATALOGUE)
def test_bad_input_is_refused_clearly(case: Row, ctx):
    got, message = outcome(case.attempt, ctx)
    assert got == case.expected, message
    for word in case.words:
        assert word.lower() in message.lower(), f"{word!r} not in: {message}"
    if isinstance(case.expected, Exit):
        assert "Traceback" not in message and len(message.strip().splitlines()) == 1, message


def test_the_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 40
