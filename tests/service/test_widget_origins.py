"""The per-page CORS allow-list of the widget: who may post reports for which page."""

from __future__ import annotations

import pytest

from tests.builders import SETTLEMENT_PAGE, widget_report

SITE_PAGE = "site:d-pervomaysky.altai.example"
SITE_ORIGIN = "https://d-pervomaysky.altai.example"


async def _post(client, page_id: str, origin: str | None):
    headers = {"Origin": origin} if origin else {}
    body = {"page_id": page_id, "text": "не горит фонарь на Новой"}
    return await client.post("/api/v1/widget/reports", json=body, headers=headers)


async def test_site_page_admits_its_own_site_only(client):
    ok = await _post(client, SITE_PAGE, SITE_ORIGIN)
    assert ok.status_code == 202, ok.text
    assert ok.headers["access-control-allow-origin"] == SITE_ORIGIN
    # Another district's site matches the global pattern, but this page has its own list.
    other = await _post(client, SITE_PAGE, "https://d-shipunovsky.altai.example")
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "may not post reports" in other.json()["detail"]
    assert (await _post(client, SITE_PAGE, "https://evil.example")).status_code == 403


async def test_social_page_falls_back_to_the_global_list(client):
    allowed = await _post(client, SETTLEMENT_PAGE, "https://anything.altai.example")
    assert allowed.status_code == 202
    assert (await _post(client, SETTLEMENT_PAGE, "https://evil.example")).status_code == 403


async def test_no_origin_is_not_a_browser_and_not_subject_to_cors(client):
    assert (await _post(client, SITE_PAGE, None)).status_code == 202


async def test_admin_sets_a_pages_origins_and_preflight_follows(client, make_user):
    admin = {"Authorization": (await make_user("admin", "op_tsur"))["Authorization"]}
    news = "https://news.pervomaysky.example"
    preflight = {"Origin": news, "Access-Control-Request-Method": "POST"}
    before = await client.options("/api/v1/widget/reports", headers=preflight)
    assert "access-control-allow-origin" not in before.headers
    assert (await _post(client, SITE_PAGE, news)).status_code == 403

    r = await client.patch(
        f"/api/v1/admin/pages/{SITE_PAGE}", json={"allowed_origins": [news]}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["effective_origins"] == sorted([news, SITE_ORIGIN])
    assert (await _post(client, SITE_PAGE, news)).status_code == 202
    after = await client.options("/api/v1/widget/reports", headers=preflight)
    assert after.status_code == 200
    assert after.headers["access-control-allow-origin"] == news

    listed = await client.get("/api/v1/admin/pages", headers=admin)
    page = next(p for p in listed.json() if p["page_id"] == SITE_PAGE)
    assert page["allowed_origins"] == [news]
    # The catalog outlives a test: put the page back as it was.
    reset = await client.patch(
        f"/api/v1/admin/pages/{SITE_PAGE}", json={"allowed_origins": []}, headers=admin
    )
    assert reset.status_code == 200
    assert (await _post(client, SITE_PAGE, news)).status_code == 403


async def test_admin_refuses_what_is_not_an_origin(client, make_user):
    admin = {"Authorization": (await make_user("admin", "op_tsur"))["Authorization"]}
    for bad in (["https://x.example/path"], ["x.example"], ["javascript:alert(1)"]):
        r = await client.patch(
            f"/api/v1/admin/pages/{SITE_PAGE}", json={"allowed_origins": bad}, headers=admin
        )
        assert r.status_code == 422, bad
    missing = await client.patch(
        "/api/v1/admin/pages/site:nowhere.example", json={"allowed_origins": []}, headers=admin
    )
    assert missing.status_code == 404


async def test_widget_report_builder_still_works(client):
    assert (await widget_report(client)).status_code == 202


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"content-type", b"application/json")],
        [(b"vary", b"Accept-Encoding"), (b"content-type", b"text/plain")],
        [(b"vary", b"Accept"), (b"x-a", b"1"), (b"vary", b"Cookie"), (b"Vary", b"Odd")],
    ],
)
async def test_requests_without_origin_get_starlettes_vary_header(headers):
    """Requests without `Origin` skip Starlette's CORS machinery; the answer must be the one it
    gives: "Origin" appended to `Vary` (the response's own values joined into the first)."""
    from starlette.middleware.cors import CORSMiddleware

    from service.middleware import PageCORSMiddleware

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    def scope():
        return {"type": "http", "method": "POST", "path": "/", "headers": [(b"host", b"x")]}

    async def run(middleware):
        sent: list = []

        async def send(message):
            sent.append(message)

        await middleware(scope(), None, send)
        return sent

    options = {"allow_origins": ["https://a.example"], "allow_origin_regex": None}
    options |= {"allow_methods": ["GET", "POST"], "allow_headers": ["Content-Type"]}
    ours = await run(PageCORSMiddleware(app, references=lambda: None, **options))
    starlette = await run(CORSMiddleware(app, allow_credentials=False, **options))
    assert ours == starlette
    assert any(name == b"vary" and value.endswith(b"Origin") for name, value in ours[0]["headers"])


async def test_staff_endpoints_answer_no_browser_of_another_origin(client, make_user):
    """The allow-lists are for citizens' pages: a page's script gets no CORS grant on the
    officials' endpoints, though the same origin may post the widget."""
    staff = await make_user("responder", "s_aleysky_kashinsky")
    origin = {"Origin": "https://www.altai.example"}
    queue = await client.get("/api/v1/queue", headers={**staff, **origin})
    assert queue.status_code == 200 and "access-control-allow-origin" not in queue.headers
    preflight = {**origin, "Access-Control-Request-Method": "GET"}
    r = await client.options("/api/v1/queue", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    widget = await client.options(
        "/api/v1/widget/reports", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert widget.headers.get("access-control-allow-origin") == "https://www.altai.example"
