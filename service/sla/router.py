"""SLA administration (policies, calendars) and supervisor views (breaches, compliance report)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request

from schemas.admin import BreachRead, CalendarRead, DateOverrideIn, SlaPolicyIn, SlaPolicyRead
from schemas.common import QueryMoment
from service import tabular
from service.deps import AdminUser, RowId, SettingsDep, StaffUser, UowDep
from service.errors import Unprocessable
from service.sla import open_data, reports
from service.sla import service as sla_service
from service.sla.calendars import calendar_registry

router = APIRouter(prefix="/api/v1", tags=["sla"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


@router.post("/admin/sla-policies", status_code=201, response_model=SlaPolicyRead, responses=ERRORS)
async def create_policy(
    body: SlaPolicyIn, uow: UowDep, _: AdminUser, settings: SettingsDep
) -> SlaPolicyRead:
    registry = await calendar_registry(uow.session, settings.catalog_dir)
    policy = await sla_service.create_policy(uow.session, body, registry)
    await uow.commit()
    return sla_service.policy_read(policy)


@router.get("/admin/sla-policies", response_model=list[SlaPolicyRead], responses=ERRORS)
async def list_policies(uow: UowDep, _: AdminUser) -> list[SlaPolicyRead]:
    return [sla_service.policy_read(p) for p in await sla_service.list_policies(uow.session)]


@router.put("/admin/sla-policies/{policy_id}", response_model=SlaPolicyRead, responses=ERRORS)
async def update_policy(
    policy_id: RowId, body: SlaPolicyIn, uow: UowDep, _: AdminUser, settings: SettingsDep
) -> SlaPolicyRead:
    registry = await calendar_registry(uow.session, settings.catalog_dir)
    policy = await sla_service.update_policy(uow.session, policy_id, body, registry)
    await uow.commit()
    return sla_service.policy_read(policy)


@router.get("/admin/calendars", response_model=list[CalendarRead], responses=ERRORS)
async def list_calendars(uow: UowDep, _: AdminUser) -> list[CalendarRead]:
    return await sla_service.list_calendars(uow.session)


@router.put("/admin/calendars/{code}", response_model=CalendarRead, responses=ERRORS)
async def put_calendar(
    code: str, spec: Annotated[dict[str, Any], Body()], uow: UowDep, _: AdminUser
) -> CalendarRead:
    row = await sla_service.save_calendar(uow.session, sla_service.parse_spec(code, spec))
    await uow.commit()
    return CalendarRead(
        code=row.code, builtin=code in sla_service.BUILTINS, version=row.version, spec=row.spec
    )


@router.post("/admin/calendars/{code}/overrides", response_model=CalendarRead, responses=ERRORS)
async def add_override(code: str, body: DateOverrideIn, uow: UowDep, _: AdminUser) -> CalendarRead:
    new_spec = await sla_service.add_override(uow.session, code, body)
    await uow.commit()
    version = (await sla_service.calendar_spec(uow.session, code))[1]
    return CalendarRead(
        code=code, builtin=code in sla_service.BUILTINS, version=version, spec=new_spec.to_dict()
    )


@router.delete(
    "/admin/calendars/{code}/overrides/{day}", response_model=CalendarRead, responses=ERRORS
)
async def remove_override(code: str, day: dt.date, uow: UowDep, _: AdminUser) -> CalendarRead:
    new_spec = await sla_service.remove_override(uow.session, code, day)
    await uow.commit()
    version = (await sla_service.calendar_spec(uow.session, code))[1]
    return CalendarRead(
        code=code, builtin=code in sla_service.BUILTINS, version=version, spec=new_spec.to_dict()
    )


@router.get("/sla/breaches", response_model=list[BreachRead], responses=ERRORS)
async def list_breaches(
    uow: UowDep,
    user: StaffUser,
    since: Annotated[QueryMoment | None, Query(alias="from")] = None,
    until: Annotated[QueryMoment | None, Query(alias="to")] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[BreachRead]:
    if since is not None and until is not None and since > until:
        raise Unprocessable("`from` is after `to`", field="from")
    return await reports.breaches(
        uow.session, user, since=since, until=until, open_only=open_only, limit=limit
    )


@router.get(
    "/public/compliance",
    response_model=open_data.OpenCompliance,
    responses={422: {}, 200: {"content": {"text/csv": {}}}},
    tags=["public"],
)
async def public_compliance(
    request: Request,
    uow: UowDep,
    month: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None,
    fmt: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
) -> Any:
    """Open data: each authority's SLA compliance for a month (default: the last whole one),
    counts only. No token needed."""
    answer = await open_data.open_compliance(uow.session, month)
    if tabular.wants_csv(request, fmt):
        header = list(open_data.OpenRow.model_fields)
        return tabular.csv_response(header, (row.model_dump() for row in answer.rows))
    return answer


@router.get("/reports/sla", responses={**ERRORS, 200: {"content": {"text/csv": {}}}})
async def sla_report(
    request: Request,
    uow: UowDep,
    user: StaffUser,
    since: Annotated[QueryMoment | None, Query(alias="from")] = None,
    until: Annotated[QueryMoment | None, Query(alias="to")] = None,
    group_by: Literal["authority", "category", "channel"] = "authority",
    fmt: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
) -> Any:
    since, until = tabular.period(since, until)
    rows = await reports.sla_report(uow.session, user, since=since, until=until, group_by=group_by)
    if tabular.wants_csv(request, fmt):
        return tabular.grouped_csv(reports.Row, rows, group_by)
    return {"from": since, "to": until, "group_by": group_by, "rows": [r.__dict__ for r in rows]}
