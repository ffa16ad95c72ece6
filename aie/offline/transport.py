"""Plug the offline API into the openai SDK: an httpx transport that answers in process (no socket)."""

from __future__ import annotations

import httpx2 as httpx

from aie.offline import api


class OfflineTransport(httpx.BaseTransport):
    """Answers OpenAI API requests with :func:`aie.offline.api.handle`."""

    def __init__(self, generator=None, backend_name: str = "offline"):
        self.generator = generator
        self.backend_name = backend_name

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        res = api.handle(request.method, request.url.path, body, self.generator, self.backend_name)
        headers = dict(res.headers, **{"x-request-id": "req_offline"})
        if res.stream is not None:
            return httpx.Response(res.status, headers=headers, stream=_Stream(res.stream), request=request)
        return httpx.Response(res.status, headers=headers, content=res.body, request=request)


class _Stream(httpx.SyncByteStream):
    def __init__(self, it):
        self._it = it

    def __iter__(self):
        yield from self._it
