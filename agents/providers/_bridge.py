"""Let an `httpx.AsyncClient` serve an SDK that only accepts `httpx2` clients.

The installed `anthropic` SDK requires an `httpx2.AsyncClient`; the OpenAI and Google SDKs
accept `httpx.AsyncClient`. So that every adapter takes the same `http_client` (tests
inject an `httpx.MockTransport` or use respx), `httpx2_client(client)` wraps an httpx
client in an httpx2 client whose transport forwards each request to it.
"""
from __future__ import annotations

from typing import Any

import httpx
import httpx2

_HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


class HttpxBridge(httpx2.AsyncBaseTransport):
    """An httpx2 transport that sends every request through an `httpx.AsyncClient`."""

    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        legacy = self._client.build_request(request.method, str(request.url),
                                            headers=list(request.headers.multi_items()), content=body)
        try:
            resp = await self._client.send(legacy)
            content = await resp.aread()  # decoded: drop the encoding headers below
        except httpx.TimeoutException as e:
            raise httpx2.ReadTimeout(str(e), request=request) from e
        except httpx.TransportError as e:
            raise httpx2.ConnectError(str(e), request=request) from e
        headers = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in _HOP_HEADERS]
        return httpx2.Response(resp.status_code, headers=headers, content=content, request=request)


def httpx2_client(client: Any) -> Any:
    """`client` itself when it is already an httpx2 client (or None), else a bridged one."""
    if client is None or isinstance(client, httpx2.AsyncClient):
        return client
    if isinstance(client, httpx.AsyncClient):
        return httpx2.AsyncClient(transport=HttpxBridge(client), timeout=None)
    raise TypeError(f"http_client must be an httpx.AsyncClient or httpx2.AsyncClient, not {type(client).__name__}")
