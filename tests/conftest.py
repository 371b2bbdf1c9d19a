"""Test set-up against real services: SQLite + embedded Redis by default, or the PostgreSQL and
Redis servers named by DATABASE_URL / REDIS_URL. Each run gets its own fresh database."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from service.bootstrap import migrate
from service.catalog.service import load_catalog_dir
from service.config import Settings, default_catalog_dir
from service.db import make_engine, make_sessionmaker
from service.main import create_app
from service.runner import free_port, start_embedded_redis
from service.users.service import create_user
from tests.alerts.fakes import FakeSmtp
from tests.fake_channels import TELEGRAM_BOT, TELEGRAM_WEBHOOK_SECRET, fake_channel

MUTABLE_TABLES = (
    "deadline_extension",
    "item_seen",
    "item_message",
    "reply_part",
    "reply_delivery",
    "alert_delivery",
    "alert",
    "alert_endpoint",
    "sla_policy",
    "work_calendar",
    "labelled_example",
    "vk_group",
    "telegram_chat",
    "poll_cursor",
    "admin_event",
    "item_event",
    "contact",
    "item",
    "api_token",
    "app_user",
)
CATALOG_DIR = default_catalog_dir()


def _test_redis_url(url: str) -> str:
    # Tests flush their Redis database: keep them off db 0 of a shared server.
    parsed = make_url(url.replace("redis://", "postgresql://", 1))
    return f"redis://{parsed.host or '127.0.0.1'}:{parsed.port or 6379}/9"


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fr-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(tmp_root: Path) -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield _test_redis_url(os.environ["REDIS_URL"])
        return
    port = free_port()
    proc = start_embedded_redis(tmp_root / "redis", port)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def _create_pg_database(server_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    url = make_url(server_url)
    name = f"fr_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def settings(tmp_root: Path, redis_url: str) -> Iterator[Settings]:
    drop = None
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        database_url, drop = _create_pg_database(database_url)
    s = Settings(
        database_url=database_url,
        redis_url=redis_url,
        var_dir=tmp_root / "var",
        catalog_dir=CATALOG_DIR,
        secret_key="test-secret",
        environment="test",
        public_base_url="http://testserver",
        widget_rate_limit_per_ip=1000,
        sweep_stale_after_s=0,
        log_json=False,
        alert_allow_private_targets=True,
        sla_sweep_interval_s=1,
    )
    migrate(s)
    yield s
    if drop is not None:
        asyncio.run(drop())


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(settings, name="tests")
    async with make_sessionmaker(eng)() as session:
        await load_catalog_dir(session, settings.catalog_dir)
        await session.commit()
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture(autouse=True)
async def _clean(engine: AsyncEngine, redis: object) -> AsyncIterator[None]:
    yield
    async with engine.begin() as conn:
        for table in MUTABLE_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
        removed = await conn.execute(text("DELETE FROM routing_override"))
        # Telegram channel pages are made by connecting a group; the seed catalog has none.
        pages = await conn.execute(text("DELETE FROM page WHERE network = 'tg'"))
        if removed.rowcount or pages.rowcount:  # per-process caches must rebuild without them
            await conn.execute(text("UPDATE catalog_version SET version = version + 1"))


@pytest.fixture(scope="session")
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[object]:
    from redis.asyncio import Redis

    r = Redis.from_url(redis_url)
    await r.flushdb()
    yield r
    await r.aclose()


MakeUser = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_user(sessionmaker: async_sessionmaker[AsyncSession]) -> MakeUser:
    async def _make(role: str, authority: str, name: str | None = None) -> dict[str, str]:
        async with sessionmaker() as session:
            user, token = await create_user(
                session,
                name=name or f"{role}-{uuid.uuid4().hex[:8]}",
                role=role,
                authority_code=authority,
            )
            await session.commit()
        return {"Authorization": f"Bearer {token}", "id": str(user.id)}

    return _make


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.effective_database_url,
        REDIS_URL=settings.redis_url,
        VAR_DIR=str(settings.var_dir),
        SECRET_KEY="test-secret",
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "feedback-router"
    cmd = [str(exe)] if exe.exists() else ["feedback-router"]
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtp]:
    """A local SMTP server over a real socket (alerts and replies by e-mail)."""
    server = FakeSmtp()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[tuple[Settings, httpx.AsyncClient, Any, Any]]:
    """An app whose VK API and feedback-platform answer URL are local fake servers."""
    with fake_channel() as vk, fake_channel() as platform:
        update = {
            "vk_api_url": f"{vk.url}/method",
            "platform_answer_url": f"{platform.url}/answers",
            "platform_poll_token": "pos-adapter-token",
        }
        s = settings.model_copy(update=update)
        app = create_app(s)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield s, c, vk, platform


@pytest.fixture
async def tg_live(settings: Settings) -> AsyncIterator[tuple[Settings, httpx.AsyncClient, Any]]:
    """An app with the Telegram webhook on and the Bot API a local fake server."""
    with fake_channel() as bot_api:
        update = {
            "telegram_api_base": bot_api.url,
            "telegram_bot_token": TELEGRAM_BOT,
            "telegram_webhook_secret": TELEGRAM_WEBHOOK_SECRET,
        }
        s = settings.model_copy(update=update)
        app = create_app(s)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield s, c, bot_api
