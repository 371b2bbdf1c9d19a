"""The worker's shared clients and its unit of work (commit, then enqueue follow-up jobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from service.alerts.pacing import TelegramPacer
from service.config import Settings
from service.db import UnitOfWork, unit_of_work


class WorkerContext(TypedDict, total=False):
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Any
    alert_client: Any
    senders: Any
    http: Any
    # One per process: alerts and replies into the same Telegram chat share its pace.
    telegram_pacer: TelegramPacer
    job_try: int
    job_id: str


@asynccontextmanager
async def job_uow(ctx: WorkerContext) -> AsyncIterator[UnitOfWork]:
    async with unit_of_work(ctx["sessionmaker"], ctx.get("redis")) as uow:
        yield uow
