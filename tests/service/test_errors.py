"""Database errors a request can run into, as problem+json: a conflict is not an outage."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError

from service.errors import install_error_handlers


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
        (OperationalError("SELECT 1", {}, Exception("connection refused")), 503),
        (ConnectionResetError("reset by peer"), 503),
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
