"""Operations endpoints."""

from __future__ import annotations


async def test_healthz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_checks_database_and_redis(client):
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_metrics(client):
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "http_requests_total" in r.text


async def test_openapi_lists_the_contract(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for p in (
        "/api/v1/widget/reports",
        "/api/v1/queue",
        "/api/v1/items/{item_id}/reply",
        "/api/v1/ingest/comments",
        "/api/v1/ingest/platform-messages",
    ):
        assert p in paths


async def test_openapi_documents_every_error_as_problem_json(client):
    """Errors on the wire are problem+json; the document says so (for generated clients)."""
    doc = (await client.get("/openapi.json")).json()
    errors = [
        (path, code, response.get("content"))
        for path, operations in doc["paths"].items()
        for operation in operations.values()
        for code, response in operation["responses"].items()
        if code[0] in "45"
    ]
    want = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert len(errors) > 100 and all(content == want for _, _, content in errors), errors
    assert doc["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
    r = await client.post("/api/v1/widget/reports", json={"page_id": "nope", "text": "x"})
    assert r.headers["content-type"] == "application/problem+json"
    assert set(doc["components"]["schemas"]["Problem"]["required"]) <= set(r.json())


async def test_readyz_says_when_the_database_is_not_migrated(settings, tmp_path):
    """Reachable is not ready: before `migrate` every report was a 503 while /readyz said ok."""
    import httpx

    from service.main import create_app

    fresh = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    )
    app = create_app(fresh)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["database"] == "error: not migrated"
