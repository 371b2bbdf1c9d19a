"""Database errors a request can run into, as problem+json: a conflict is not an outage."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError

from service.errors import install_error_handlers


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"UPDATE failed with {sqlstate}")
        self.sqlstate = sqlstate


def _app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (IntegrityError("UPDATE x", {}, Exception("UNIQUE constraint failed: x.name")), 409),
        (DataError("SELECT x", {}, Exception("invalid byte sequence: 0x00 UNIQUE")), 422),
        (OperationalError("SELECT 1", {}, Exception("connection refused")), 503),
        (ConnectionResetError("reset by peer"), 503),
        # A deadlock or serialization failure is a concurrent change, not an outage.
        (DBAPIError("UPDATE x", {}, _DriverError("40P01")), 409),
        (DBAPIError("UPDATE x", {}, _DriverError("40001")), 409),
        (DBAPIError("UPDATE x", {}, _DriverError("08006")), 503),
    ],
)
async def test_database_errors_map_to_their_status(exc: Exception, status: int) -> None:
    transport = httpx.ASGITransport(app=_app_raising(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/boom")
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    # Neither the statement nor the driver's message reaches the client.
    assert "UPDATE" not in r.text and "UNIQUE" not in r.text and "refused" not in r.text


async def test_a_nul_in_an_identifier_is_a_422_on_every_backend(client, make_user):
    # PostgreSQL refuses NUL in text even in a lookup (SQLSTATE 22021); SQLite stores it.
    admin = await make_user("admin", "op_tsur")
    body = {"authority_code": "op_\x00tsur", "role": "service", "name": "ЗАТО Сибирский"}
    r = await client.post("/api/v1/admin/users", json=body, headers=admin)
    assert r.status_code == 422, r.text


async def test_a_422_says_what_is_wrong_with_the_body(client, make_user):
    from tests.builders import comment

    r = await client.post(
        "/api/v1/widget/reports",
        content=b'{"page_id": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("the body is not valid JSON: "), r.json()["detail"]
    svc = await make_user("service", "op_tsur")
    # A list body: the error of the list, not of the single-comment reading of it.
    second_without_text = [comment(), {k: v for k, v in comment().items() if k != "text"}]
    r = await client.post("/api/v1/ingest/comments", json=second_without_text, headers=svc)
    assert r.status_code == 422 and r.json()["detail"] == "1.text: Field required", r.text
    r = await client.post("/api/v1/ingest/comments", json=[comment()] * 501, headers=svc)
    assert r.status_code == 422 and "500" in r.json()["detail"], r.text
    r = await client.post("/api/v1/ingest/comments", json={"text": "яма"}, headers=svc)
    assert r.status_code == 422 and r.json()["detail"].endswith("Field required"), r.text
    assert not r.json()["detail"].startswith("list["), r.text
