"""Who sees which items: a responder its authority, a supervisor its subtree, operators all."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Item
from schemas.users import Role, User
from service.catalog.service import subtree


async def visible_authorities(session: AsyncSession, user: User) -> set[str] | None:
    """The authority codes whose items the user may see; None means every authority."""
    if user.role in (Role.operator, Role.admin):
        return None
    if user.role == Role.supervisor:
        return await subtree(session, user.authority_code)
    if user.role == Role.responder:
        return {user.authority_code}
    return set()


def can_see(scope: set[str] | None, item: Item) -> bool:
    return scope is None or (item.authority_code is not None and item.authority_code in scope)
