"""Engine, sessions and the unit of work: one transaction per request or job, jobs after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from service.config import Settings, private_dir
from service.queue import JobBuffer, JobSink

CONNECT_TIMEOUT_S = 5


def make_engine(settings: Settings, *, name: str = "api") -> AsyncEngine:
    url = settings.effective_database_url
    # Error texts are logged; their bound values would carry citizens' contact details.
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        private_dir(settings.var_dir)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        kwargs["connect_args"] = {
            "server_settings": {"application_name": f"feedback-router-{name}"},
            # asyncpg waits 60 s for an unreachable server, past the worker's 30 s job timeout
            # (a timed-out job is not retried) and a client's patience (the API's 503).
            "timeout": CONNECT_TIMEOUT_S,
        }
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN breaks SAVEPOINT; we emit BEGIN ourselves (_sqlite_begin).
    dbapi_conn.isolation_level = None
    # WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: two deferred writers would otherwise fail with
    # "database is locked" when both try to upgrade, instead of waiting for the busy timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def one_off_session(settings: Settings, name: str) -> AsyncIterator[AsyncSession]:
    """A session on an engine of its own, disposed after: for a command that runs once."""
    engine = make_engine(settings, name=name)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


class UnitOfWork:
    """A session plus the jobs to enqueue once (and only if) its transaction commits."""

    def __init__(self, session: AsyncSession, sink: JobSink | None) -> None:
        self.session = session
        self.jobs = JobBuffer()
        self._sink = sink
        self.committed = False
        # An administrator's change to record with it, in the same transaction.
        self.audit: SQLModel | None = None

    async def commit(self) -> None:
        if self.audit is not None:
            self.session.add(self.audit)
            self.audit = None
        await self.session.commit()
        self.committed = True
        if self._sink is not None:
            await self.jobs.flush(self._sink)

    async def rollback(self) -> None:
        self.jobs.discard()
        await self.session.rollback()


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession], sink: JobSink | None
) -> AsyncIterator[UnitOfWork]:
    async with sessionmaker() as session:
        uow = UnitOfWork(session, sink)
        try:
            yield uow
        except BaseException:
            await uow.rollback()
            raise
        if not uow.committed:
            await uow.rollback()


def sync_engine_of(engine: AsyncEngine) -> Engine:
    return engine.sync_engine
