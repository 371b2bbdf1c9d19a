"""ASGI middleware: a body size cap, request metrics and access logs with a request id, and
CORS that knows each page's widget origins."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import TooLarge, problem
from service.items.references import References
from service.logging import REQUEST_ID

log = structlog.get_logger()

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["method", "route"])


class BodyTooLarge(TooLarge, StarletteHTTPException):  # type: ignore[misc]  # headers: dict vs Mapping
    """Raised while a handler reads a body past the limit. An HTTPException, because FastAPI's
    body parser lets those through (any other error there becomes a 400), and a `TooLarge`, so
    it renders as the same 413 problem as a body refused by its declared length."""

    def __init__(self, limit: int) -> None:
        detail = f"the request body exceeds {limit} bytes"
        Exception.__init__(self, detail)
        self.detail, self.headers, self.extra = detail, None, {}


class BodyLimitMiddleware:
    """Refuse oversize bodies before they are read into memory (Starlette has no cap)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, widget_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.widget_max_bytes = widget_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.widget_max_bytes if path.startswith("/api/v1/widget") else self.max_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await self._reject(scope, receive, send, limit)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(413, "Content too large", f"the request body exceeds {limit} bytes")
        await response(scope, receive, send)


# Methods outside this set share one label value: a client must not mint metric series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Labelled children by (method, route, status): `labels()` costs ~10 µs a request.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = os.urandom(8).hex()
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self._observe(scope, status["code"], time.perf_counter() - start)
        # Reset only after a normal return: on an error the server (uvicorn) logs it after this
        # middleware, with the id. The request's task ends with the request.
        REQUEST_ID.reset(token)

    def _observe(self, scope: Scope, code: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        method = scope.get("method", "")
        if method not in _METHODS:
            method = "other"
        series = self._series.get((method, template, code))
        if series is None:
            series = (
                REQUESTS.labels(method, template, str(code)),
                LATENCY.labels(method, template),
            )
            self._series[(method, template, code)] = series
        series[0].inc()
        series[1].observe(elapsed)
        # No bodies or query strings in logs: they may carry personal data. Who (a user id) and
        # which object (the path's ids) are kept: they answer "who read item X".
        log.info(
            "http.request",
            method=method,
            route=template,
            status=code,
            ms=round(elapsed * 1000, 1),
            user=scope.get("state", {}).get("user_id"),
            ids=scope.get("path_params") or None,
        )


WIDGET_PATHS = "/api/v1/widget/"


class PageCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, plus every page's own widget origins (service/widget/origins.py), so a
    preflight from a page's site succeeds; the catalog is re-read as the intake cache is."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        references: Callable[[], References | None],
        allow_origins: list[str],
        allow_origin_regex: str | None,
        allow_methods: list[str],
        allow_headers: list[str],
    ) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_origin_regex=allow_origin_regex,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=False,
        )
        self._references = references

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            not _has_origin(scope) or not scope["path"].startswith(WIDGET_PATHS)
        ):
            # Not a cross-origin request (connectors, officials' tools, load): all Starlette
            # would do is add "Vary: Origin", through three header objects a request. Nor a
            # widget's: the allow-lists are for citizens' pages, and staff endpoints answer no
            # browser of another origin (a page's script has no business there).
            await self.app(scope, receive, _vary_origin(send))
            return
        refs = self._references()
        if refs is not None and scope["type"] == "http":
            try:
                await refs.fresh()
            except Exception as exc:  # a preflight must not fail because the DB blinked
                log.warning("cors.origins_unavailable", error=str(exc)[:200])
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette refuses in plain text; every error of this API is problem+json."""
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = bytes(response.body).decode()
        kept = {
            k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")
        }
        detail += ": the page's widget origins (allowed_origins) or the allowed methods and "
        detail += "headers do not include this request"
        return problem(response.status_code, "CORS preflight refused", detail, headers=kept)

    def is_allowed_origin(self, origin: str) -> bool:
        if super().is_allowed_origin(origin):
            return True
        refs = self._references()
        return refs is not None and origin.rstrip("/").lower() in refs.page_origins


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])


def _vary_origin(send: Send) -> Send:
    """Starlette's answer to a request without `Origin`: `Vary` gets "Origin" appended, the
    response's own `Vary` values joined into the first of them (as `MutableHeaders` sets it)."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
            message["headers"] = headers  # a list, as Starlette's MutableHeaders makes it
            at = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
            if not at:
                headers.append((b"vary", b"Origin"))
            else:
                joined = b", ".join([*(headers[i][1] for i in at), b"Origin"])
                headers[at[0]] = (b"vary", joined)
                for i in reversed(at[1:]):
                    del headers[i]
        await send(message)

    return sender
