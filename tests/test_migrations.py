"""Every migration goes down and up again, and the result is the schema the models describe."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from schemas import metadata
from service.bootstrap import alembic_config
from service.config import Settings
from tests.conftest import _create_pg_database


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test (its own, dropped afterwards)."""
    server = os.environ.get("DATABASE_URL", "")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    url, drop = _create_pg_database(server)
    yield url
    asyncio.run(drop())


def _drift(url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
        await engine.dispose()
        return list(diff)

    return asyncio.run(compare())


def test_down_to_nothing_and_up_again_matches_the_models(fresh_url: str) -> None:
    cfg = alembic_config(Settings(database_url=fresh_url))
    command.upgrade(cfg, "head")
    assert _drift(fresh_url) == []
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    assert _drift(fresh_url) == []
