"""Start-up chores for `run` and `migrate`: migrations, catalog when empty, demo users."""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache

from alembic import command
from alembic.config import Config
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Page
from schemas.users import User
from service.catalog.service import catalog_is_empty, load_catalog_dir
from service.config import PROJECT_ROOT, Settings, private_dir
from service.db import make_engine, make_sessionmaker
from service.users.service import create_user, issue_token, user_for_token

DEMO_PAGE_ID = "vk:club_s_aleysky_kashinsky"
DEMO_USERS = (
    ("responder", "demo-responder"),
    ("service", "demo-connector"),
    ("admin", "demo-admin"),
)


def _scripts() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def alembic_config(settings: Settings) -> Config:
    cfg = _scripts()
    cfg.attributes["database_url"] = settings.effective_database_url
    return cfg


@lru_cache(maxsize=1)
def schema_head() -> str:
    """The migration the code expects the database at."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_scripts()).get_current_head())


def migrate(settings: Settings) -> None:
    private_dir(settings.var_dir)
    command.upgrade(alembic_config(settings), "head")


async def _token_for(session: AsyncSession, name: str, role: str, authority: str) -> str:
    user = (await session.exec(select(User).where(User.name == name))).first()
    if user is None:
        _, token = await create_user(session, name=name, role=role, authority_code=authority)
        return token
    return await issue_token(session, user)


async def _prepare(settings: Settings, saved: dict[str, str]) -> dict[str, str]:
    """Load the catalog into an empty database and make sure the demo tokens work."""
    engine = make_engine(settings, name="bootstrap")
    try:
        async with make_sessionmaker(engine)() as session:
            if await catalog_is_empty(session):
                await load_catalog_dir(session, settings.catalog_dir)
            if saved and await user_for_token(session, saved.get("responder", "")) is not None:
                await session.commit()
                return saved
            page = (
                await session.get(Page, DEMO_PAGE_ID)
                or (await session.exec(select(Page).order_by(col(Page.page_id)))).first()
            )
            assert page is not None, "the catalog has no pages"
            tokens = {"page_id": page.page_id, "authority_code": page.authority_code}
            for role, name in DEMO_USERS:
                authority = page.authority_code if role == "responder" else "op_tsur"
                tokens[role] = await _token_for(session, name, role, authority)
            await session.commit()
            return tokens
    finally:
        await engine.dispose()


def bootstrap(settings: Settings) -> dict[str, str]:
    """Migrate, load the catalog if empty, and return demo tokens (kept in var/ across runs)."""
    migrate(settings)
    path = settings.var_dir / "demo-tokens.json"
    saved = dict(json.loads(path.read_text())) if path.exists() else {}
    tokens = asyncio.run(_prepare(settings, saved))
    if tokens != saved:
        path.write_text(json.dumps(tokens, indent=2))
        path.chmod(0o600)
    return tokens
