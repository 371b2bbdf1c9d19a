"""Items about one problem, linked to a main item: its final answer answers them all.

A burst outage brings dozens of appeals about the same thing («нет воды на Ленина») through
every channel. A responder links them to one main item (as Zendesk links incidents to a problem)
instead of answering each. Every linked item keeps its own SLA clocks and alerts: each appeal
has its legal deadline, so linking hides nothing from the supervisors. When the main item gets
its final reply, every open linked item gets the same reply (its own event, sent back to its own
channel). When the main item ends without an answer (rejected, closed, closed for no reply),
its items are released to be answered on their own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from rapidfuzz import fuzz, utils
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import OPEN_STATUSES, Item
from schemas.users import User
from service.db import UnitOfWork
from service.errors import Conflict, NotFound, Unprocessable
from service.items.events import actor_of, record
from service.items.scope import can_see, visible_authorities

# What the citizen reads on the status page and in the history of a linked item.
LINKED_NOTICE = (
    "Ваше обращение объединено с другими обращениями о той же проблеме. "
    "Ответ на них будет направлен и вам."
)
# How far back the similar-items search looks, and how many recent items it scores at most.
SIMILAR_WINDOW = dt.timedelta(days=30)
SIMILAR_CANDIDATES = 300


async def link(
    uow: UnitOfWork, item: Item, user: User, main_id: uuid.UUID, note: str | None
) -> Item:
    """Link `item` to the main item `main_id` of the same problem (no-op when it already is)."""
    if main_id == item.id:
        raise Unprocessable("an item cannot be linked to itself", field="main_id")
    item, main = await _lock_pair(uow.session, user, item.id, main_id)
    if item.main_item_id == main.id:
        return item
    await _check_link(uow.session, item, main)
    item.main_item_id = main.id
    actor = actor_of(user)
    record(
        uow.session,
        item,
        "linked",
        actor=actor,
        public=True,
        text=LINKED_NOTICE,
        main_item_id=str(main.id),
        note=note,
    )
    record(uow.session, main, "incident_linked", actor=actor, item_id=str(item.id), note=note)
    return item


async def _lock_pair(
    session: AsyncSession, user: User, item_id: uuid.UUID, main_id: uuid.UUID
) -> tuple[Item, Item]:
    """Both rows locked in id order, so two links made at once between the same two items
    wait for each other instead of deadlocking."""
    scope = await visible_authorities(session, user)
    rows: dict[uuid.UUID, Item] = {}
    for key in sorted((item_id, main_id)):
        row = await session.get(Item, key, with_for_update=True, populate_existing=True)
        if row is None or not can_see(scope, row):
            raise NotFound(f"no item {key} in your queue")
        rows[key] = row
    return rows[item_id], rows[main_id]


async def _check_link(session: AsyncSession, item: Item, main: Item) -> None:
    if item.main_item_id is not None:
        raise Conflict(f"the item is already linked to {item.main_item_id}; unlink it first")
    if main.main_item_id is not None:
        raise Conflict(
            f"the main item is itself linked to {main.main_item_id}; link to that one",
            main_item_id=str(main.main_item_id),
        )
    for which, row in (("item", item), ("main item", main)):
        if row.status not in OPEN_STATUSES:
            raise Conflict(f"the {which} is {row.status}: only open items are linked")
    if item.authority_code != main.authority_code:
        raise Conflict(
            f"the items belong to different authorities ({item.authority_code}, "
            f"{main.authority_code}): redirect one first"
        )
    if await incidents(session, item.id):
        raise Conflict("other items are linked to this one: link them to the main item first")


async def unlink(uow: UnitOfWork, item: Item, user: User, note: str | None) -> Item:
    if item.main_item_id is None:
        raise Conflict("the item is not linked to a main item")
    await detach(uow, item, actor_of(user), note=note)
    return item


async def detach(
    uow: UnitOfWork, item: Item, actor: str, *, note: str | None = None, reason: str | None = None
) -> None:
    """The item is no longer linked; both sides' histories say so."""
    main_id, item.main_item_id = item.main_item_id, None
    record(
        uow.session,
        item,
        "unlinked",
        actor=actor,
        main_item_id=str(main_id),
        note=note,
        reason=reason,
    )
    main = await uow.session.get(Item, main_id) if main_id is not None else None
    if main is not None:
        record(
            uow.session,
            main,
            "incident_unlinked",
            actor=actor,
            item_id=str(item.id),
            note=note,
            reason=reason,
        )


async def incidents(session: AsyncSession, main_id: uuid.UUID) -> list[Item]:
    """The open items linked to `main_id`, locked, oldest first."""
    stmt = (
        select(Item)
        .where(Item.main_item_id == main_id, col(Item.status).in_(OPEN_STATUSES))
        .order_by(col(Item.received_at), col(Item.id))
        .with_for_update()
    )
    return list((await session.exec(stmt)).all())


async def release(uow: UnitOfWork, main: Item, actor: str, reason: str) -> None:
    """The main item ended without an answer: its items are answered on their own again."""
    for item in await incidents(uow.session, main.id):
        await detach(uow, item, actor, reason=reason)


async def linked_items(session: AsyncSession, main: Item, user: User) -> list[Item]:
    """Every item linked to `main` that the user may see, open or not, oldest first."""
    scope = await visible_authorities(session, user)
    stmt = (
        select(Item)
        .where(Item.main_item_id == main.id)
        .order_by(col(Item.received_at), col(Item.id))
    )
    return [i for i in (await session.exec(stmt)).all() if can_see(scope, i)]


@dataclass(frozen=True)
class Similar:
    item: Item
    score: float
    text_similarity: float
    same_category: bool
    same_place: bool


async def similar(session: AsyncSession, item: Item, limit: int) -> list[Similar]:
    """Open items of the same authority from the month around this one, most alike first: the
    candidates for its main item (or for linking to it)."""
    stmt = (
        select(Item)
        .where(
            Item.authority_code == item.authority_code,
            col(Item.status).in_(OPEN_STATUSES),
            col(Item.main_item_id).is_(None),
            Item.id != item.id,
            col(Item.received_at) >= item.received_at - SIMILAR_WINDOW,
            col(Item.received_at) <= item.received_at + SIMILAR_WINDOW,
        )
        .order_by(col(Item.received_at).desc())
        .limit(SIMILAR_CANDIDATES)
    )
    mine = utils.default_process(item.text)
    found = [_score(item, mine, other) for other in (await session.exec(stmt)).all()]
    found.sort(key=lambda s: (-s.score, s.item.received_at))
    return found[:limit]


def _score(item: Item, mine: str, other: Item) -> Similar:
    # token_set_ratio: a short «Нет воды на Ленина 5» matches a long complaint that says it.
    text = fuzz.token_set_ratio(mine, utils.default_process(other.text)) / 100
    same_category = item.category is not None and other.category == item.category
    same_place = item.place is not None and other.place == item.place
    score = 0.7 * text + 0.15 * same_category + 0.15 * same_place
    return Similar(other, round(score, 3), round(text, 3), same_category, same_place)
