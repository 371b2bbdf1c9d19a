"""Responder endpoints: the queue, item detail and events, and the actions on an item."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.common import Page, QueryMoment
from schemas.items import Priority, Status
from schemas.views import (
    EmptyIn,
    EventRead,
    ItemRead,
    ItemSummary,
    LinkIn,
    LinkManyIn,
    MaskedContact,
    RedirectIn,
    RejectIn,
    ReleaseIn,
    ReplyIn,
    RequestInfoIn,
    RevealIn,
    SimilarItem,
    UnlinkIn,
)
from service.deps import SettingsDep, StaffUser, SupervisorUser, UowDep
from service.items import actions, assignment, linking, privacy, seen, views
from service.items.dependencies import ItemDep, LockedItemDep
from service.items.queue import QueueFilter, list_queue
from service.replies.deliveries import ReplyChannels
from service.sla.dependencies import SlaDep

router = APIRouter(prefix="/api/v1", tags=["items"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


@router.get("/queue", response_model=Page[ItemSummary], responses={401: {}, 422: {}})
async def get_queue(
    uow: UowDep,
    user: StaffUser,
    status: Annotated[list[Status] | None, Query()] = None,
    category: str | None = None,
    priority: Priority | None = None,
    due_before: QueryMoment | None = None,
    authority_code: str | None = None,
    linked: Annotated[
        bool | None, Query(description="true: only items linked to a main item; false: none")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ItemSummary]:
    statuses = [s.value for s in status] if status else None
    f = QueueFilter(
        statuses, category, priority, due_before, authority_code, limit, cursor, linked=linked
    )
    items, next_cursor = await list_queue(uow.session, user, f)
    assert user.id is not None
    new = await seen.unread(uow.session, user.id, items)
    page = [views.summary(i).model_copy(update={"unread": i.id in new}) for i in items]
    return Page(items=page, next_cursor=next_cursor)


@router.get("/items/{item_id}", response_model=ItemRead, responses=ERRORS)
async def get_item(item: ItemDep, uow: UowDep) -> ItemRead:
    read = await views.detail(uow.session, item)
    await uow.commit()  # the item is now seen by the caller
    return read


@router.get("/items/{item_id}/events", response_model=list[EventRead], responses=ERRORS)
async def get_events(item: ItemDep, uow: UowDep) -> list[EventRead]:
    history = await views.events(uow.session, item.id)
    await uow.commit()  # the item is now seen by the caller
    return history


@router.post("/items/{item_id}/release", response_model=ItemRead, responses=ERRORS)
async def release(
    item: LockedItemDep, uow: UowDep, user: StaffUser, body: ReleaseIn | None = None
) -> ItemRead:
    """Give a claimed item back to its authority's queue (the claimant, or a supervisor)."""
    assignment.release(uow, item, user, body.reason if body is not None else None)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/claim", response_model=ItemRead, responses=ERRORS)
async def claim(
    item: LockedItemDep, uow: UowDep, user: StaffUser, sla: SlaDep, _: EmptyIn | None = None
) -> ItemRead:
    await actions.claim(uow, item, user, sla)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/reply", response_model=ItemRead, responses=ERRORS)
async def reply(
    item: LockedItemDep,
    body: ReplyIn,
    uow: UowDep,
    user: StaffUser,
    sla: SlaDep,
    settings: SettingsDep,
) -> ItemRead:
    channels = ReplyChannels.of(settings)
    await actions.reply(uow, item, user, sla, text=body.text, final=body.final, channels=channels)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/redirect", response_model=ItemRead, responses=ERRORS)
async def redirect(
    item: LockedItemDep, body: RedirectIn, uow: UowDep, user: StaffUser, sla: SlaDep
) -> ItemRead:
    await actions.redirect(
        uow, item, user, sla, authority_code=body.authority_code, reason=body.reason
    )
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/request-info", response_model=ItemRead, responses=ERRORS)
async def request_info(
    item: LockedItemDep,
    body: RequestInfoIn,
    uow: UowDep,
    user: StaffUser,
    sla: SlaDep,
    settings: SettingsDep,
) -> ItemRead:
    channels = ReplyChannels.of(settings)
    await actions.request_info(uow, item, user, sla, question=body.question, channels=channels)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/resolve", response_model=ItemRead, responses=ERRORS)
async def resolve(
    item: LockedItemDep, uow: UowDep, user: StaffUser, sla: SlaDep, _: EmptyIn | None = None
) -> ItemRead:
    await actions.resolve(uow, item, user, sla)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/reject", response_model=ItemRead, responses=ERRORS)
async def reject(
    item: LockedItemDep, body: RejectIn, uow: UowDep, user: StaffUser, sla: SlaDep
) -> ItemRead:
    await actions.reject(uow, item, user, sla, reason=body.reason)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/reopen", response_model=ItemRead, responses=ERRORS)
async def reopen(
    item: LockedItemDep, uow: UowDep, user: StaffUser, sla: SlaDep, _: EmptyIn | None = None
) -> ItemRead:
    await actions.reopen(uow, item, user, sla)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/contact/reveal", response_model=MaskedContact, responses=ERRORS)
async def reveal_contact(
    item: ItemDep, body: RevealIn, uow: UowDep, user: SupervisorUser
) -> MaskedContact:
    """Unmasked contact details for supervisors and operators; the reveal is audited."""
    contact = await privacy.reveal(uow.session, item, user, body.reason)
    await uow.commit()
    return contact


@router.post("/items/{item_id}/link", response_model=ItemRead, responses=ERRORS)
async def link(item: ItemDep, body: LinkIn, uow: UowDep, user: StaffUser) -> ItemRead:
    """Link the item to the main item of the same problem: the main's final reply answers it."""
    item = await linking.link(uow, item, user, body.main_id, body.note)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/linked", response_model=ItemRead, responses=ERRORS)
async def link_many(item: ItemDep, body: LinkManyIn, uow: UowDep, user: StaffUser) -> ItemRead:
    """Link up to 200 items to this main item at once, all or none (a 404, 409 or 422 names
    the item in `item_id`); answers with the main item."""
    await linking.link_many(uow, item.id, user, body.item_ids, body.note)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.post("/items/{item_id}/unlink", response_model=ItemRead, responses=ERRORS)
async def unlink(
    item: LockedItemDep, uow: UowDep, user: StaffUser, body: UnlinkIn | None = None
) -> ItemRead:
    await linking.unlink(uow, item, user, body.note if body else None)
    await uow.commit()
    return await views.detail(uow.session, item)


@router.get("/items/{item_id}/linked", response_model=list[ItemSummary], responses=ERRORS)
async def get_linked(item: ItemDep, uow: UowDep, user: StaffUser) -> list[ItemSummary]:
    """The items linked to this main item, open or not, oldest first."""
    return [views.summary(i) for i in await linking.linked_items(uow.session, item, user)]


@router.get("/items/{item_id}/similar", response_model=list[SimilarItem], responses=ERRORS)
async def get_similar(
    item: ItemDep, uow: UowDep, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[SimilarItem]:
    """Open items of the same authority from the month around this one, most alike first:
    candidates to link it to, or to link to it."""
    found = await linking.similar(uow.session, item, limit)
    return [
        SimilarItem(
            item=views.summary(s.item),
            score=s.score,
            text_similarity=s.text_similarity,
            same_category=s.same_category,
            same_place=s.same_place,
        )
        for s in found
    ]
