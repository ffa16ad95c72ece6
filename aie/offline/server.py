"""``python -m aie serve``: the offline backend as a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aie.offline import api


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aie-offline"

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        res = api.handle(method, self.path, body, self.server.generator, self.server.backend_name)
        self.send_response(res.status)
        for k, v in res.headers.items():
            self.send_header(k, v)
        if res.stream is not None:
            self.send_header("cache-control", "no-cache")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for piece in res.stream:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("content-length", str(len(res.body)))
            self.end_headers()
            self.wfile.write(res.body)

    def do_GET(self):  # noqa: N802
        self._answer("GET")

    def do_POST(self):  # noqa: N802
        self._answer("POST")

    def log_message(self, fmt, *args):  # quiet by default; one line per request
        pass


def make_server(host: str = "127.0.0.1", port: int = 8765, generator=None, backend_name: str = "offline") -> ThreadingHTTPServer:
    """The server; ``generator`` writes chat answers (the offline model by default, or the local LLM's)."""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("the offline server binds to loopback only (127.0.0.1)")
    server = ThreadingHTTPServer((host, port), Handler)
    server.generator, server.backend_name = generator, backend_name
    return server


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    from aie import config

    name = config.backend()
    generator = None
    if name == "local-llm":
        from aie import localllm

        generator = localllm.generator()
    elif name != "offline":
        raise config.ConfigError(f"`python -m aie serve` serves the in-process backends (offline, local-llm), not {name!r}: "
                                 "unset OPENAI_API_KEY / OPENAI_BASE_URL, or set AIE_BACKEND=local-llm.")
    server = make_server(host, port, generator, name)
    what = "Offline" if name == "offline" else f"Local LLM ({config.model('chat')})"
    print(f"{what} OpenAI-compatible server on http://{host}:{server.server_port}/v1  (Ctrl-C to stop)", flush=True)
    print(f"  try: OPENAI_BASE_URL=http://{host}:{server.server_port}/v1 OPENAI_API_KEY=unused python -m aie doctor", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
