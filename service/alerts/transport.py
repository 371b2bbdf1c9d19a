"""An httpx transport that connects only to addresses it has just checked (send-time SSRF guard).

Re-checking a name and then letting httpx resolve it again leaves a window for DNS rebinding
(first answer public, second 127.0.0.1). This transport resolves once, checks every address and
connects to the first checked one; the Host header and TLS SNI/certificate check keep the name.
"""

from __future__ import annotations

import asyncio

import httpx

from service.alerts.ssrf import (
    Resolver,
    TargetUnresolvable,
    addresses_of,
    check_addresses,
    resolve_host,
)

# reliability.md §4/§5: connect 3 s, read 10 s, at most 15 s per attempt.
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=5.0)
USER_AGENT = "feedback-router-alerts/1"


class GuardedTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        allow_private: bool,
        resolver: Resolver = resolve_host,
    ) -> None:
        # trust_env=False: an environment proxy would connect on our behalf, unchecked.
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport(trust_env=False)
        self._allow_private = allow_private
        self._resolver = resolver

    async def _resolve(self, request: httpx.Request, host: str) -> list[str]:
        try:
            return list(await asyncio.to_thread(addresses_of, host, self._resolver))
        except TargetUnresolvable as exc:
            # A resolver failure is transient (the sender retries), unlike a rejected address.
            raise httpx.ConnectError(str(exc), request=request) from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The ASCII (punycode) form: what DNS, the Host header and SNI all use.
        host = request.url.raw_host.decode("ascii")
        addresses = await self._resolve(request, host)
        check_addresses(host, addresses, allow_private=self._allow_private)
        if addresses[0] == host:
            return await self._inner.handle_async_request(request)
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=addresses[0]),
            headers=request.headers,  # keeps Host: <name>
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


def make_alert_client(
    *,
    allow_private: bool,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    resolver: Resolver = resolve_host,
    max_connections: int = 20,
) -> httpx.AsyncClient:
    """The shared outbound client for alert delivery: guarded, no redirects, explicit timeouts."""
    # No keep-alive: pinned connections are pooled by IP, so a TLS session verified for one name
    # could otherwise carry a request for another name on the same IP. Alert volume is low.
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=0)
    inner = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    return httpx.AsyncClient(
        transport=GuardedTransport(inner, allow_private=allow_private, resolver=resolver),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )
