"""Liveness, readiness (database and Redis) and Prometheus metrics."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.bootstrap import schema_head
from service.config import MULTIPROC_ENV
from service.errors import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {}})
async def readyz(request: Request) -> Any:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            # Reachable is not enough: a database the code's migrations have not reached yet
            # answers every report with a 503 (`feedback-router migrate`).
            at = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        head = schema_head()
        checks["database"] = "ok" if at == head else f"error: schema at {at}, the code needs {head}"
    except DBAPIError as exc:
        missing = "alembic_version" in str(exc)
        checks["database"] = "error: not migrated" if missing else f"error: {type(exc).__name__}"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        checks["redis"] = "ok" if await state.queue.ping() else "error: no pong"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ok", "checks": checks}
    return problem(
        503, "Not ready", "a dependency is unavailable", checks=checks, headers={"Retry-After": "5"}
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(_latest(), media_type=CONTENT_TYPE_LATEST)


def _latest() -> bytes:
    # Under `api --workers N` a scrape reaches one process: the processes' counts are summed from
    # the files each one writes in PROMETHEUS_MULTIPROC_DIR (set by `feedback-router api`).
    if not os.environ.get(MULTIPROC_ENV):
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
