"""Deadline extensions: asked for on an item, decided by a supervisor, listed for approval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.extensions import (
    DeadlineExtension,
    ExtensionDecisionIn,
    ExtensionDeclineIn,
    ExtensionIn,
    ExtensionRead,
)
from schemas.items import Item
from service.deps import RowId, SettingsDep, StaffUser, SupervisorUser, UowDep
from service.errors import Conflict
from service.items import extensions
from service.items.dependencies import LockedItemDep
from service.replies.deliveries import ReplyChannels
from service.sla.dependencies import SlaDep
from service.sla.hooks import SlaContext

router = APIRouter(prefix="/api/v1", tags=["extensions"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


def _read(ext: DeadlineExtension) -> ExtensionRead:
    return ExtensionRead.model_validate(ext, from_attributes=True)


@router.post(
    "/items/{item_id}/extensions", status_code=201, response_model=ExtensionRead, responses=ERRORS
)
async def ask_extension(
    item: LockedItemDep,
    body: ExtensionIn,
    uow: UowDep,
    user: StaffUser,
    sla: SlaDep,
    settings: SettingsDep,
) -> ExtensionRead:
    """Ask for more time (a supervisor's own request is approved at once)."""
    channels = ReplyChannels.of(settings)
    ext = await extensions.ask(
        uow, item, user, sla, body, max_days=settings.extension_max_days, channels=channels
    )
    await uow.commit()
    return _read(ext)


@router.get("/items/{item_id}/extensions", response_model=list[ExtensionRead], responses=ERRORS)
async def list_item_extensions(
    item: LockedItemDep, uow: UowDep, sla: SlaDep
) -> list[ExtensionRead]:
    found = await extensions.for_item(uow.session, item)
    for ext in found:
        extensions.lapse_if_stale(uow.session, item, ext, sla.now)
    await uow.commit()
    return [_read(e) for e in found]


async def _undecidable(uow: UowDep, item: Item, ext: DeadlineExtension, sla: SlaContext) -> None:
    if extensions.lapse_if_stale(uow.session, item, ext, sla.now):
        await uow.commit()  # recorded as lapsed, then refused
        raise Conflict(
            "the request lapsed: the deadline it was asked for was replaced (a reopen, a "
            "restart or an interim reply) or the appeal finished; ask again if still needed"
        )


@router.post(
    "/items/{item_id}/extensions/{extension_id}/approve",
    response_model=ExtensionRead,
    responses=ERRORS,
)
async def approve_extension(
    item: LockedItemDep,
    extension_id: RowId,
    uow: UowDep,
    user: SupervisorUser,
    sla: SlaDep,
    settings: SettingsDep,
    body: ExtensionDecisionIn | None = None,
) -> ExtensionRead:
    ext = await extensions.of_item(uow.session, item, extension_id)
    await _undecidable(uow, item, ext, sla)
    note = body.note if body is not None else None
    await extensions.approve(
        uow, item, ext, user, sla, note=note, channels=ReplyChannels.of(settings)
    )
    await uow.commit()
    return _read(ext)


@router.post(
    "/items/{item_id}/extensions/{extension_id}/decline",
    response_model=ExtensionRead,
    responses=ERRORS,
)
async def decline_extension(
    item: LockedItemDep,
    extension_id: RowId,
    body: ExtensionDeclineIn,
    uow: UowDep,
    user: SupervisorUser,
    sla: SlaDep,
) -> ExtensionRead:
    ext = await extensions.of_item(uow.session, item, extension_id)
    await _undecidable(uow, item, ext, sla)
    await extensions.decline(uow, item, ext, user, sla, body.note)
    await uow.commit()
    return _read(ext)


@router.get("/extensions", response_model=list[ExtensionRead], responses=ERRORS)
async def pending_extensions(
    uow: UowDep, user: SupervisorUser, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ExtensionRead]:
    """Requests awaiting a decision on the items the caller oversees, oldest first."""
    return [_read(e) for e in await extensions.pending(uow.session, user, limit)]
