"""Run an async agent framework (pydantic-ai) through the course client.

Why: frameworks such as pydantic-ai talk to ``openai.AsyncOpenAI``, while ``aie.client()`` returns the
synchronous ``openai.OpenAI`` whose transport keeps the usage ledger, the budget and the cassettes.
:func:`async_client` builds an ``AsyncOpenAI`` that sends every request through that same transport,
so a framework's calls are counted, recorded and replayed exactly like the lesson's own.
"""

from __future__ import annotations

import httpx2 as httpx
import openai


class SyncTransportBridge(httpx.AsyncBaseTransport):
    """An async transport that hands each request to a synchronous one (the course's)."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.requests: list[dict] = []  # every request body sent, for a lesson to show what a framework sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if body:
            import json

            try:
                self.requests.append(json.loads(body))
            except ValueError:
                pass
        sync_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = self.inner.handle_request(sync_request)
        content = response.read()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in {"content-encoding", "content-length", "transfer-encoding"}]
        return httpx.Response(response.status_code, headers=headers, content=content)


def async_client(client: openai.OpenAI | None = None) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` that shares ``client``'s transport (default: a new ``aie.client()``).

    Its ``_course_bridge`` attribute (a :class:`SyncTransportBridge`) lists the request bodies sent.
    """
    if client is None:
        from aie.clients import make_client

        client = make_client(quiet=True)
    from aie.clients import CourseTransport
    from aie.offline.transport import OfflineTransport

    transport = getattr(getattr(client, "_client", None), "_transport", None)
    if not isinstance(transport, (CourseTransport, OfflineTransport)):
        raise TypeError(
            "async_client() needs a client made by aie.client(): it reuses that client's transport, which keeps "
            f"the ledger and the cassettes; got {type(client).__name__}"
        )
    bridge = SyncTransportBridge(transport)
    async_openai = openai.AsyncOpenAI(api_key=client.api_key, base_url=str(client.base_url), max_retries=0,
                                      http_client=httpx.AsyncClient(transport=bridge, timeout=client.timeout))
    async_openai._course_bridge = bridge  # type: ignore[attr-defined]
    return async_openai
