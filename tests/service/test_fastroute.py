"""The lean intake handler answers exactly as FastAPI's own handler does, request for request."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.fastroute import _Plan, is_json
from service.ingest.router import router as ingest_router
from service.main import create_app
from service.widget.router import router as widget_router
from tests.builders import LAMP_TEXT, SETTLEMENT_PAGE, comment

WIDGET = "/api/v1/widget/reports"
COMMENTS = "/api/v1/ingest/comments"
PLATFORM = "/api/v1/ingest/platform-messages"
VOLATILE = {"id", "tracking_token", "status_url", "received_at"}


async def _build_handlers(client: httpx.AsyncClient) -> None:
    # FastAPI builds an included route's handler on the first request that walks its router.
    for path in (WIDGET, COMMENTS):
        await client.post(path, json={})


@pytest.fixture
async def generic_client(
    settings: Settings, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose routes all use FastAPI's own handler (no route qualifies as lean)."""
    await _build_handlers(client)  # the shared app's lean handlers, before the patch
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            with monkeypatch.context() as patch:
                patch.setattr(_Plan, "of", classmethod(lambda cls, route: None))
                await _build_handlers(c)
            yield c


async def test_each_client_takes_its_path(client, generic_client, monkeypatch):
    calls: list[str] = []
    lean_arguments = _Plan._arguments

    async def counted(self: _Plan, request: Any) -> Any:
        calls.append(request.url.path)
        return await lean_arguments(self, request)

    monkeypatch.setattr(_Plan, "_arguments", counted)
    body = {"page_id": SETTLEMENT_PAGE, "text": LAMP_TEXT}
    assert (await client.post(WIDGET, json=body)).status_code == 202
    assert calls == [WIDGET]
    assert (await generic_client.post(WIDGET, json=body)).status_code == 202
    assert calls == [WIDGET]


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<v>" if k in VOLATILE else _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


HEADERS = ("content-type", "idempotency-key", "retry-after", "www-authenticate", "vary")


def _answer(response: httpx.Response, tag: str = "") -> tuple[int, list[str | None], Any]:
    try:
        body: Any = _normalise(response.json())
    except ValueError:
        body = response.text
    headers = [response.headers.get(h) for h in HEADERS]
    return (
        response.status_code,
        [h.replace(tag, "<tag>") if h and tag else h for h in headers],
        body,
    )


def _widget_cases(tag: str) -> list[dict[str, Any]]:
    good = {"page_id": SETTLEMENT_PAGE, "text": LAMP_TEXT}
    json_ct = {"Content-Type": "application/json"}
    return [
        {"json": good, "headers": {"Idempotency-Key": f"{tag}-a"}},
        {"json": good, "headers": {"Idempotency-Key": f"{tag}-a"}},  # the same again
        {"json": {**good, "text": "другое"}, "headers": {"Idempotency-Key": f"{tag}-a"}},
        {"json": good},
        {"json": {**good, "contact": {"name": "Иван", "email": "i@example.com"}}},
        {"json": {**good, "contact": {"name": "Иван"}, "consent": True}},
        {"json": {**good, "website": "http://spam.example"}},
        {"json": {**good, "page_id": "vk:no_such_page"}},
        {"json": {**good, "category": "no_such_code"}},
        {"json": {**good, "text": ""}},
        {"json": {**good, "text": "x" * 5001}},
        {"json": {**good, "text": "фонарь\u0000"}},
        {"json": {**good, "extra": 1}},
        {"json": {**good, "location": {"lat": 95, "lon": 10}}},
        {"json": {"text": LAMP_TEXT}},
        {"json": [good]},
        {"json": "just a string"},
        {"json": good, "headers": {"Idempotency-Key": "x" * 256}},
        {"json": good, "headers": {"Idempotency-Key": "with space"}},
        {"json": good, "headers": {"Idempotency-Key": ""}},
        {"content": b"{broken", "headers": json_ct},
        {"content": b"", "headers": json_ct},
        {"content": json.dumps(good).encode(), "headers": {"Content-Type": "text/plain"}},
        {"content": json.dumps(good).encode(), "headers": {}},
        {
            "content": json.dumps({**good, "text": f"{tag} charset"}).encode(),
            "headers": {"Content-Type": "application/json; charset=utf-8"},
        },
        {"content": b'{"page_id": "' + SETTLEMENT_PAGE.encode() + b'", "text": "\xff"}'},
        {"content": b'{"page_id": 1, "text": NaN}', "headers": json_ct},
        {"content": json.dumps(good).encode(), "headers": {"Content-Type": "application/x/+json"}},
    ]


async def _run_widget(client: httpx.AsyncClient, tag: str) -> list[tuple[int, Any, Any]]:
    out = []
    for case in _widget_cases(tag):
        out.append(_answer(await client.post(WIDGET, **case), tag))
    return out


async def test_widget_answers_match_fastapi(client, generic_client):
    lean = await _run_widget(client, f"lean-{uuid.uuid4().hex[:6]}")
    generic = await _run_widget(generic_client, f"gen-{uuid.uuid4().hex[:6]}")
    assert [a[0] for a in lean][:4] == [202, 202, 422, 202]  # the cases mean what they say
    assert lean == generic


def _comment_cases(tag: str) -> list[dict[str, Any]]:
    one = comment(comment_id=f"{tag}-1")
    return [
        {"json": one},
        {"json": one},  # a duplicate: 200 with duplicate true
        {"json": [comment(comment_id=f"{tag}-2"), comment(comment_id=f"{tag}-3")]},
        {"json": [one]},
        {"json": []},
        {"json": [comment(comment_id=f"{tag}-b{i}") for i in range(501)]},
        {"json": {**comment(comment_id=f"{tag}-4"), "network": "ok"}},
        {"json": {**comment(comment_id=f"{tag}-5"), "created_at": "вчера"}},
        {"json": {**comment(comment_id=f"{tag}-6"), "author": None}},
        {"json": {"network": "vk"}},
        {"content": b"[", "headers": {"Content-Type": "application/json"}},
    ]


async def _run_comments(
    client: httpx.AsyncClient, auth: dict[str, str], tag: str
) -> list[tuple[int, Any, Any]]:
    out = []
    for case in _comment_cases(tag):
        headers = {**auth, **case.pop("headers", {})}
        out.append(_answer(await client.post(COMMENTS, headers=headers, **case), tag))
    return out


async def test_comment_answers_match_fastapi(client, generic_client, make_user):
    service = await make_user("service", "op_tsur")
    auth = {"Authorization": service["Authorization"]}
    lean = await _run_comments(client, auth, f"lean-{uuid.uuid4().hex[:6]}")
    generic = await _run_comments(generic_client, auth, f"gen-{uuid.uuid4().hex[:6]}")
    assert [a[0] for a in lean][:3] == [202, 200, 202]
    assert lean == generic


@pytest.mark.parametrize(
    "auth",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, "responder"],
)
async def test_callers_are_checked_alike(client, generic_client, make_user, auth):
    if auth == "responder":
        auth = {"Authorization": (await make_user("responder", "d_aleysky"))["Authorization"]}
    for path, body in ((COMMENTS, comment()), (PLATFORM, {"external_id": "x", "text": "t"})):
        lean = _answer(await client.post(path, json=body, headers=auth))
        generic = _answer(await generic_client.post(path, json=body, headers=auth))
        assert lean[0] in (401, 403)
        assert lean == generic


def test_the_intake_routes_take_the_lean_path():
    routes = {r.path: r for r in [*widget_router.routes, *ingest_router.routes]}
    for path in (WIDGET, COMMENTS, PLATFORM):
        assert _Plan.of(routes[path]) is not None, path
    # A route with path or query parameters, or a transaction dependency, keeps FastAPI's.
    assert _Plan.of(routes[WIDGET + "/{item_id}"]) is None


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/plain", False),
        ("text/json", False),
        ("application/x/+json", False),
        ("application/a, application/b+json", False),
        (None, False),
        ("", False),
    ],
)
def test_json_content_types(content_type, expected):
    assert is_json(content_type) is expected


async def _raw_post(
    app: Any, messages: list[dict[str, Any]], headers: list[Any], *, client_waits: bool = False
) -> int:
    """Drive the ASGI app directly, with exactly these body messages, then a disconnect, or,
    `client_waits`, nothing more: like a server whose client sent its whole body and waits."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": WIDGET, "raw_path": WIDGET.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), *headers],
    }  # fmt: skip
    queue = [*messages, {"type": "http.disconnect"}]
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        if client_waits and len(queue) == 1:
            await asyncio.Event().wait()
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def test_a_client_that_hangs_up_mid_body_gets_the_same_answer(app, generic_client):
    generic_app = generic_client._transport.app  # type: ignore[attr-defined]
    json_ct = [(b"content-type", b"application/json")]
    cut = [{"type": "http.request", "body": b'{"page_id": "vk:', "more_body": True}]
    # FastAPI's "error parsing the body", a 422 like any body we cannot read (nobody hears it).
    assert await _raw_post(app, cut, json_ct) == await _raw_post(generic_app, cut, json_ct) == 422
    # Streamed past the widget's body limit, without a Content-Length: 413 on both paths.
    chunk = b'{"page_id": "' + b"x" * 40_000
    big = [{"type": "http.request", "body": chunk, "more_body": True}] * 3
    assert await _raw_post(app, big, json_ct) == await _raw_post(generic_app, big, json_ct) == 413


async def test_a_whole_body_past_the_limit_is_answered_at_once(app):
    """Sent chunked (no Content-Length), the limit hit on the last chunk: 413 without waiting
    for the client (the lean handler once handed such a request on to FastAPI's, which read a
    drained stream and waited until the client gave up)."""
    json_ct = [(b"content-type", b"application/json")]
    chunk = b'{"page_id": "' + b"x" * 40_000
    body = [{"type": "http.request", "body": chunk, "more_body": True}]
    body.append({"type": "http.request", "body": chunk, "more_body": False})
    async with asyncio.timeout(5):
        assert await _raw_post(app, body, json_ct, client_waits=True) == 413


async def test_dependency_overrides_are_honoured(app, client, make_user):
    from service.deps import _service_caller
    from service.errors import Forbidden

    async def nobody() -> None:
        raise Forbidden("overridden")

    auth = {"Authorization": (await make_user("service", "op_tsur"))["Authorization"]}
    app.dependency_overrides[_service_caller] = nobody
    try:
        answer = await client.post(COMMENTS, json=comment(), headers=auth)
    finally:
        app.dependency_overrides.clear()
    assert answer.status_code == 403
    assert (await client.post(COMMENTS, json=comment(), headers=auth)).status_code == 202
