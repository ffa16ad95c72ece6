"""``python -m aie serve``: the in-process backend as a real OpenAI-compatible HTTP server on 127.0.0.1.

Why hand-written on the standard library: it needs no dependency, and a learner can read all of it.
What keeps it standing under load and bad input:

- a listen queue of :data:`QUEUE` connections, so a burst waits to be accepted instead of being
  refused (socketserver's default queue is 5);
- one thread per connection, and a :data:`TIMEOUT` so a client that stops sending frees its thread;
- a request body of at most :data:`MAX_BODY_BYTES` (8 MiB); a larger one gets 413;
- every error, including malformed HTTP, answered with OpenAI's error body; a bug in the backend
  answers 500 and is logged, and the server keeps serving.
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aie import config
from aie.offline import api
from aie.offline.errors import APIError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_BODY_BYTES = 8 * 1024 * 1024  # far above a full context window of text (16k tokens is ~64 KB)
QUEUE = 1024  # connections waiting to be accepted (the kernel may cap it at net.core.somaxconn)
TIMEOUT = 30  # seconds a connection may sit idle or half-sent
DRAIN_LIMIT = 64 * 1024 * 1024  # read and drop a refused body up to this size so the client sees the 413


class Server(ThreadingHTTPServer):
    request_queue_size = QUEUE
    daemon_threads = True

    def __init__(self, address, generator=None, backend_name: str = "offline"):
        self.generator, self.backend_name = generator, backend_name
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):  # a dropped connection is not worth a traceback
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aie-offline"
    timeout = TIMEOUT
    server: Server

    def do_GET(self):  # noqa: N802
        self._answer("GET")

    def do_POST(self):  # noqa: N802
        self._answer("POST")

    def _answer(self, method: str) -> None:
        try:
            body = self._read_body()
        except APIError as e:
            self.close_connection = True
            self._send(api.error_response(e))
            return
        try:
            res = api.handle(method, self.path, body, self.server.generator, self.server.backend_name)
        except Exception:  # a bug in the backend: log it, answer 500, keep serving
            traceback.print_exc(file=sys.stderr)
            res = api.error_response(APIError(500, "The server had an error while processing your request. "
                                                   "The traceback is in the server's log; please report it.",
                                              type_="server_error", code="server_error"))
        self._send(res)

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            raise APIError(411, "Chunked request bodies are not supported: send a Content-Length header.", code="length_required")
        raw = self.headers.get("content-length") or "0"
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            raise APIError(400, f"Invalid Content-Length header: {raw!r}. Expected the body's size in bytes.") from None
        if length > MAX_BODY_BYTES:
            self._drain(length)
            raise too_large(length)
        return self.rfile.read(length) if length else b""

    def _drain(self, length: int) -> None:
        """Read and drop a refused body (up to a limit), so the client, still sending, can read the 413."""
        left = min(length, DRAIN_LIMIT)
        self.connection.settimeout(1)  # a client that declared a body but stopped sending is not waited for
        try:
            while left > 0:
                chunk = self.rfile.read1(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def handle_expect_100(self) -> bool:  # curl asks first for large bodies: refuse before it sends
        try:
            too_big = int(self.headers.get("content-length") or 0) > MAX_BODY_BYTES
        except ValueError:
            too_big = False
        if too_big:
            self.close_connection = True
            self._send(api.error_response(too_large(int(self.headers["content-length"]))))
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed HTTP (a bad request line, headers too long, an unsupported method): OpenAI's error body."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # the request line was unreadable: answer with a status line anyway
            self.request_version = "HTTP/1.0"
        text = message or self.responses.get(code, ("Error",))[0]
        if explain:
            text += f": {explain}"
        if code == 501:
            text += ". This server answers GET and POST."
        self._send(api.error_response(APIError(code, text, code="bad_request" if code == 400 else None)))

    def _send(self, res: api.Response) -> None:
        self.send_response(res.status)
        for k, v in res.headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("connection", "close")
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
            if self.command != "HEAD":
                self.wfile.write(res.body)

    def log_message(self, fmt, *args):  # quiet: a classroom server should not flood the terminal
        pass


def too_large(length: int) -> APIError:
    return APIError(413, f"Request body too large: {length} bytes; this server accepts at most {MAX_BODY_BYTES} bytes "
                    f"({MAX_BODY_BYTES // (1024 * 1024)} MiB). Send fewer or shorter texts per request.", code="request_too_large")


def make_server(host: str = "127.0.0.1", port: int = 8765, generator=None, backend_name: str = "offline") -> Server:
    """A server for ``backend_name`` whose chat answers come from ``generator`` (the offline model when None)."""
    if host not in LOOPBACK:
        raise ValueError(f"the course server binds to loopback only ({', '.join(sorted(LOOPBACK))}): it has no authentication")
    return Server((host, port), generator, backend_name)


def active_backend() -> tuple[str, object]:
    """The active backend's name and chat generator; only in-process backends can be served."""
    name = config.check()
    if name == "offline":
        return name, None
    if name == "local-llm":
        from aie import localllm

        return name, _one_at_a_time(localllm.generator())
    raise config.ConfigError(f"`python -m aie serve` serves only the in-process backends (offline, local-llm), and the active "
                             f"backend is {name!r}. Unset OPENAI_API_KEY and OPENAI_BASE_URL, or set AIE_BACKEND=offline "
                             "(or local-llm).")


def _one_at_a_time(generator):
    """The local LLM holds one model state: concurrent requests take turns."""
    lock = threading.Lock()

    def locked(request, rng):
        with lock:
            return generator(request, rng)

    return locked


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    name, generator = active_backend()
    server = make_server(host, port, generator, name)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{server.server_port}/v1"
    print(f"aie {name} backend as an OpenAI-compatible server on {url}  (Ctrl-C to stop)", flush=True)
    print(f"  try: OPENAI_BASE_URL={url} OPENAI_API_KEY=unused python -m aie doctor", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
