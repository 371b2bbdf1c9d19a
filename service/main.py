"""The FastAPI application: shared clients in lifespan, middleware, error handlers, routers."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from service.alerts.router import router as alerts_router
from service.catalog.router import router as catalog_router
from service.channels.router import router as channels_router
from service.clients.redis import QueueClient
from service.config import Settings, get_settings, resolve_secret_key
from service.db import make_engine, make_sessionmaker
from service.errors import document_problems, install_error_handlers
from service.health.router import router as health_router
from service.ingest.router import router as ingest_router
from service.items.extension_router import router as extension_router
from service.items.references import References
from service.items.router import router as items_router
from service.items.writer import IntakeWriter
from service.logging import configure_logging
from service.middleware import AccessLogMiddleware, BodyLimitMiddleware, PageCORSMiddleware
from service.queue import INTAKE_REDIS_TIMEOUT_S
from service.routing.router import router as routing_router
from service.sla.router import router as sla_router
from service.users.cache import REVOCATIONS, TokenCache
from service.widget.router import router as widget_router

MAX_BODY_BYTES = 2 * 1024 * 1024
GC_YOUNG_THRESHOLD = 50_000


# Intake first: a request walks the routes in this order, and intake is the hot path.
ROUTERS = (
    widget_router,
    ingest_router,
    channels_router,
    health_router,
    catalog_router,
    items_router,
    extension_router,
    routing_router,
    sla_router,
    alerts_router,
)


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolve_secret_key(settings)  # fail fast in production without a key
        engine = make_engine(settings, name="api")
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.queue = QueueClient(settings.redis_url)
        app.state.intake_writer = IntakeWriter(engine, app.state.queue)
        app.state.references = References(engine)
        app.state.token_cache = TokenCache(settings.auth_cache_s)
        watcher = asyncio.create_task(app.state.token_cache.watch(_revocations(app.state.queue)))
        # Long-lived start-up objects out of the collector's way: full collections otherwise
        # cost ~70 ms of pause in a process that imports the whole service.
        gc.freeze()
        # Intake allocates a few thousand short-lived objects a request; collecting the young
        # generation every 700 allocations cost ~10 % of its throughput (docs/benchmarks.md).
        gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 100)
        try:
            yield
        finally:
            watcher.cancel()
            await app.state.intake_writer.close()  # answers whatever is still waiting
            await app.state.queue.close()
            await engine.dispose()

    return lifespan


def _revocations(queue: QueueClient) -> Callable[[], Awaitable[object]]:
    async def read() -> object:
        async with asyncio.timeout(INTAKE_REDIS_TIMEOUT_S):
            return await queue.get(REVOCATIONS)

    return read


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        PageCORSMiddleware,
        references=lambda: getattr(app.state, "references", None),
        allow_origins=settings.cors_allow_origins,
        allow_origin_regex=settings.cors_allow_origin_regex or None,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Idempotency-Key"],
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=MAX_BODY_BYTES,
        widget_max_bytes=settings.widget_max_body_bytes,
    )


class App(FastAPI):
    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = document_problems(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        # The access log outermost, around Starlette's server-error handler: a 500 answer then
        # carries x-request-id too, and is counted and logged like any other answer.
        return AccessLogMiddleware(super().build_middleware_stack())


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = App(
        title="feedback-router",
        version="0.1.0",
        summary="Routes citizen feedback to the responsible authority and keeps it on time.",
        lifespan=_lifespan(settings),
        telemetry={
            "tracing": settings.otel_enabled,
            "metrics": settings.otel_enabled,
            "logs": settings.otel_enabled,
        },
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    _add_middleware(app, settings)
    return app


def app_factory() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings)
