"""``python -m aie serve``: holds a burst, survives bad requests, and serves the active in-process backend."""

from __future__ import annotations

import json
import socket
import threading
from urllib.parse import urlparse

import httpx2 as httpx
import pytest
from conftest import throwaway_key

from aie.config import ConfigError
from aie.offline import server as srv

QUESTION = [{"role": "user", "content": "Context:\n[a] The course runs offline.\n\nQuestion: Does the course need a key?"}]


def address(url: str) -> tuple[str, int]:
    u = urlparse(url)
    return u.hostname, u.port


def test_a_burst_of_256_connections_is_queued_not_refused(offline_server):
    assert srv.Server.request_queue_size >= 256
    host, port = address(offline_server)
    barrier, statuses, lock = threading.Barrier(256), [], threading.Lock()

    def one():
        barrier.wait()
        with socket.create_connection((host, port), timeout=60) as s:
            s.sendall(b"GET /v1/models HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        with lock:
            statuses.append(int(data.split()[1]) if data else None)

    threads = [threading.Thread(target=one) for _ in range(256)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 256


def test_keeps_answering_after_malformed_and_oversized_requests(offline_server):
    host, port = address(offline_server)
    bad = [b"\x00\x01garbage\r\n\r\n", b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: -5\r\n\r\n",
           b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 999999999\r\n\r\n",
           b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 10\r\n\r\n{\"model\":",
           b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n"]
    for request in bad:
        with socket.create_connection((host, port), timeout=30) as s:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(12).startswith(b"HTTP/1."), request[:40]
    r = httpx.post(offline_server + "/chat/completions", json={"model": "aie-offline", "messages": QUESTION}, timeout=30)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]


def test_a_body_above_the_limit_gets_413_with_an_openai_error(offline_server):
    big = json.dumps({"model": "aie-offline-minilm", "input": ["x" * 1000] * (srv.MAX_BODY_BYTES // 1000)}).encode()
    r = httpx.post(offline_server + "/embeddings", content=big, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 413
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and str(srv.MAX_BODY_BYTES) in error["message"]


def test_a_bug_in_the_backend_answers_500_and_the_server_keeps_serving(capsys):
    def broken(request, rng):
        raise RuntimeError("a bug")

    server = srv.make_server("127.0.0.1", 0, generator=broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        r = httpx.post(url + "/chat/completions", json={"model": "aie-offline", "messages": QUESTION}, timeout=30)
        assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
        assert "RuntimeError: a bug" in capsys.readouterr().err  # the traceback goes to the server's log
        assert httpx.get(url + "/models", timeout=30).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_make_server_serves_the_generator_and_backend_it_is_given():
    def local(request, rng):
        return {"content": "from the local model"}

    server = srv.make_server("127.0.0.1", 0, generator=local, backend_name="local-llm")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        local_chat = srv.config.MODELS["local-llm"]["chat"]
        assert local_chat in {m["id"] for m in httpx.get(url + "/models", timeout=30).json()["data"]}
        r = httpx.post(url + "/chat/completions", json={"model": local_chat, "messages": QUESTION}, timeout=30)
        assert r.json()["choices"][0]["message"]["content"] == "from the local model"
    finally:
        server.shutdown()
        server.server_close()


def test_serve_names_the_backend_it_serves(monkeypatch, capsys):
    monkeypatch.setattr(srv.Server, "serve_forever", lambda self, *a: (_ for _ in ()).throw(KeyboardInterrupt))
    srv.serve("127.0.0.1", 0)
    assert "aie offline backend as an OpenAI-compatible server on http://127.0.0.1:" in capsys.readouterr().out


def test_serve_uses_the_local_llm_when_it_is_the_backend(monkeypatch):
    monkeypatch.setenv("AIE_BACKEND", "local-llm")
    monkeypatch.setattr("aie.localllm.generator", lambda: lambda request, rng: {"content": "local"})
    name, generator = srv.active_backend()
    assert name == "local-llm" and generator({}, None) == {"content": "local"}


@pytest.mark.parametrize("env", [{"OPENAI_API_KEY": throwaway_key()}, {"OPENAI_BASE_URL": "http://localhost:11434/v1"}])
def test_serve_refuses_backends_that_are_not_in_process(monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match="only the in-process backends"):
        srv.active_backend()
