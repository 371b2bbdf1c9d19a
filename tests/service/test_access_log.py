"""The access-log middleware: request ids on log lines and responses, bounded metric series."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client import REGISTRY

from service.logging import REQUEST_ID, add_request_id
from service.middleware import AccessLogMiddleware


def _app(seen: list[str | None]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(REQUEST_ID.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return AccessLogMiddleware(app)


async def test_the_request_id_is_on_the_response_and_in_the_log_context():
    seen: list[str | None] = []
    transport = httpx.ASGITransport(app=_app(seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        first = await c.get("/a")
        second = await c.get("/a")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert seen == ids and ids[0] != ids[1] and len(ids[0]) == 16
    assert REQUEST_ID.get() is None  # not left behind for the next request
    assert add_request_id(None, "info", {"event": "x"}) == {"event": "x"}
    token = REQUEST_ID.set("abc")
    try:
        assert add_request_id(None, "info", {"event": "x"})["request_id"] == "abc"
    finally:
        REQUEST_ID.reset(token)


async def test_unknown_methods_share_one_metric_series():
    def count(method: str) -> float:
        labels = {"method": method, "route": "unmatched", "status": "204"}
        return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0

    before = count("other")
    transport = httpx.ASGITransport(app=_app([]))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for method in ("BREW", "PROPFIND", "GET"):
            await c.request(method, "/x")
    assert count("other") == before + 2
    assert count("BREW") == 0.0


async def test_an_unhandled_error_is_logged_with_its_request_id():
    """Whatever sits outside this middleware (the server) and logs the error after it."""
    import asyncio

    seen: list[str | None] = []

    async def failing(scope: Any, receive: Any, send: Any) -> None:
        seen.append(REQUEST_ID.get())
        raise RuntimeError("boom")

    async def request_task() -> str | None:
        scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
        try:
            await AccessLogMiddleware(failing)(scope, None, None)
        except RuntimeError:
            return REQUEST_ID.get()  # what the outer handler sees when it logs
        return None

    assert await asyncio.create_task(request_task()) == seen[0] is not None


async def test_a_server_error_answer_carries_the_request_id_of_its_log_line(settings):
    """The access log wraps Starlette's server-error handler: the 500 it sends is counted and
    carries x-request-id, the same id as the `request.unhandled` line."""
    from structlog.testing import capture_logs

    from service.logging import configure_logging
    from service.main import create_app

    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    configure_logging("INFO", json=False)
    with capture_logs(processors=[add_request_id]) as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    unhandled = [e for e in logs if e["event"] == "request.unhandled"]
    assert unhandled and unhandled[0]["request_id"] == r.headers["x-request-id"]
    access = [e for e in logs if e["event"] == "http.request"]
    assert access and access[0]["status"] == 500


async def test_the_access_log_says_who_read_which_item(client, settings, make_user):
    """Staff reads are not item events: the access log keeps who and which object (ids, never
    bodies or query strings)."""
    from structlog.testing import capture_logs

    from tests.builders import SETTLEMENT, routed_item

    item_id = await routed_item(client, settings)
    staff = await make_user("responder", SETTLEMENT)
    with capture_logs() as logs:
        r = await client.get(f"/api/v1/items/{item_id}", headers=staff)
    assert r.status_code == 200
    [line] = [entry for entry in logs if entry["event"] == "http.request"]
    assert line["user"] == int(staff["id"]) and line["ids"] == {"item_id": item_id}, line
