"""Users and bearer tokens: 256-bit random tokens, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority
from schemas.users import ApiToken, Role, User
from service.errors import Conflict, Unprocessable


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "fr_" + secrets.token_urlsafe(32)


async def create_user(
    session: AsyncSession, *, name: str, role: str, authority_code: str
) -> tuple[User, str]:
    """Create a user with one fresh token; returns the plain token, which is never stored."""
    if not name.strip():
        raise Unprocessable("a user needs a name (it is how the audit trail tells users apart)")
    if role not in Role.__members__:
        raise Unprocessable(f"unknown role {role!r}; use one of {', '.join(Role)}")
    if await session.get(Authority, authority_code) is None:
        raise Unprocessable(f"unknown authority {authority_code!r}")
    if (await session.exec(select(User).where(User.name == name))).first() is not None:
        raise Conflict(f"a user named {name!r} exists already")
    user = User(name=name, role=role, authority_code=authority_code)
    session.add(user)
    await session.flush()
    token = await issue_token(session, user)
    return user, token


async def issue_token(session: AsyncSession, user: User) -> str:
    assert user.id is not None
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    await session.flush()
    return token


async def user_for_token(session: AsyncSession, token: str) -> User | None:
    stmt = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token))
        .where(ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .where(User.active.is_(True))  # type: ignore[attr-defined]
    )
    return (await session.exec(stmt)).first()
