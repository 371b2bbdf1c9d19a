"""Routing administration (overrides) and the operators' triage queue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from schemas.admin import AssignIn, RoutingOverrideIn, RoutingOverrideRead
from schemas.common import Page, QueryMoment
from schemas.items import Status
from schemas.routing import RoutingOverrideRow
from schemas.views import ItemRead
from service import tabular
from service.deps import AdminUser, OperatorUser, RowId, SupervisorUser, UowDep
from service.items import actions, views
from service.items.dependencies import LockedItemDep
from service.items.queue import QueueFilter, list_queue
from service.routing import reports
from service.routing import service as routing
from service.sla.dependencies import SlaDep

router = APIRouter(prefix="/api/v1", tags=["routing"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


def _read(row: RoutingOverrideRow) -> RoutingOverrideRead:
    return RoutingOverrideRead.model_validate(row, from_attributes=True)


@router.get("/admin/routing-overrides", response_model=list[RoutingOverrideRead], responses=ERRORS)
async def list_overrides(uow: UowDep, _: AdminUser) -> list[RoutingOverrideRead]:
    return [_read(r) for r in await routing.list_overrides(uow.session)]


@router.post(
    "/admin/routing-overrides",
    status_code=201,
    response_model=RoutingOverrideRead,
    responses=ERRORS,
)
async def create_override(
    body: RoutingOverrideIn, uow: UowDep, _: AdminUser
) -> RoutingOverrideRead:
    row = await routing.save_override(uow.session, RoutingOverrideRow(**body.model_dump()))
    await uow.commit()
    return _read(row)


@router.put(
    "/admin/routing-overrides/{override_id}", response_model=RoutingOverrideRead, responses=ERRORS
)
async def update_override(
    override_id: RowId, body: RoutingOverrideIn, uow: UowDep, _: AdminUser
) -> RoutingOverrideRead:
    row = await routing.get_override(uow.session, override_id)
    for name, value in body.model_dump().items():
        setattr(row, name, value)
    row = await routing.save_override(uow.session, row)
    await uow.commit()
    return _read(row)


@router.delete(
    "/admin/routing-overrides/{override_id}", response_model=RoutingOverrideRead, responses=ERRORS
)
async def delete_override(override_id: RowId, uow: UowDep, _: AdminUser) -> RoutingOverrideRead:
    row = await routing.get_override(uow.session, override_id)
    row.active = False
    row = await routing.save_override(uow.session, row)
    await uow.commit()
    return _read(row)


@router.get("/triage", response_model=Page[ItemRead], responses=ERRORS)
async def triage_queue(
    uow: UowDep,
    user: OperatorUser,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ItemRead]:
    """Items the router could not place, with its suggestions (`decision.suggestions`)."""
    f = QueueFilter(statuses=[Status.triage], limit=limit, cursor=cursor)
    items, next_cursor = await list_queue(uow.session, user, f)
    return Page(items=[await views.detail(uow.session, i) for i in items], next_cursor=next_cursor)


@router.post("/items/{item_id}/assign", response_model=ItemRead, responses=ERRORS)
async def assign(
    item: LockedItemDep, body: AssignIn, uow: UowDep, user: OperatorUser, sla: SlaDep
) -> ItemRead:
    await actions.assign(
        uow, item, user, sla, authority_code=body.authority_code, category=body.category
    )
    await uow.commit()
    return await views.detail(uow.session, item)


@router.get("/reports/routing", responses={**ERRORS, 200: {"content": {"text/csv": {}}}})
async def routing_report(
    request: Request,
    uow: UowDep,
    user: SupervisorUser,
    since: Annotated[QueryMoment | None, Query(alias="from")] = None,
    until: Annotated[QueryMoment | None, Query(alias="to")] = None,
    group_by: Literal["decided_by", "authority", "category", "version"] = "decided_by",
    fmt: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
) -> Any:
    """How often the router's choices stood: per evidence that decided, per authority it chose,
    per category or router version; items received in [from, to) (default: the last 30 days)."""
    since, until = tabular.period(since, until)
    rows = await reports.routing_report(
        uow.session, user, since=since, until=until, group_by=group_by
    )
    if tabular.wants_csv(request, fmt):
        return tabular.grouped_csv(reports.RoutingRow, rows, group_by)
    return {"from": since, "to": until, "group_by": group_by, "rows": [r.__dict__ for r in rows]}
