"""Public widget endpoints (no authentication)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from schemas.items import Channel
from schemas.widget import CitizenMessageIn, WidgetReportAccepted, WidgetReportIn, WidgetStatus
from service.config import resolve_secret_key
from service.deps import SettingsDep, UowDep
from service.errors import NotFound, TooManyRequests
from service.fastroute import IntakeRoute
from service.items.dependencies import IntakeDep
from service.sla.dependencies import SlaDep
from service.widget import proof, ratelimit
from service.widget.origins import check_origin
from service.widget.service import (
    accepted,
    citizen_reply,
    public_status,
    submit_report,
)

router = APIRouter(prefix="/api/v1/widget", tags=["widget"], route_class=IntakeRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"),
]


@router.post(
    "/reports",
    status_code=202,
    response_model=WidgetReportAccepted,
    responses={403: {}, 409: {}, 413: {}, 422: {}, 429: {}},
)
async def create_report(
    body: WidgetReportIn,
    request: Request,
    response: Response,
    intake: IntakeDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> WidgetReportAccepted:
    secret = resolve_secret_key(settings)
    if body.website:
        # Honeypot filled in: a bot. Answer as if accepted so it learns nothing; store nothing.
        return accepted(uuid.uuid4(), secret, settings.base_url)
    origin = request.headers.get("origin")
    await check_origin(intake.references, settings, body.page_id, origin)
    if settings.widget_pow_max_number > 0:
        challenge = proof.check_solution(secret, body.altcha)
        # Without a key every request is a new report, so the solution is good for one: the
        # same body sent again with it would have made another item for the same work.
        holder = idempotency_key or uuid.uuid4().hex
        await proof.claim(request.app.state.queue, challenge, holder, settings.widget_pow_ttl_s)
    try:
        await ratelimit.enforce(
            request.app.state.queue,
            scope="widget",
            client=ratelimit.client_key(request),
            limit=settings.widget_rate_limit_per_ip,
            window_s=settings.widget_rate_window_s,
        )
    except TooManyRequests:
        # A retry of a stored report gets its original answer (SPEC §3), limit or not: that
        # is what the key is for. Looked up only here, so the common path pays nothing.
        if not idempotency_key or not await intake.known(Channel.widget, idempotency_key):
            raise
    # Committed (with the other reports of the same moment) before this returns.
    item = await submit_report(intake, body, idempotency_key=idempotency_key)
    if idempotency_key:
        response.headers["Idempotency-Key"] = idempotency_key
    return accepted(item.id, secret, settings.base_url)


@router.get("/challenge", responses={404: {}})
async def challenge(settings: SettingsDep) -> dict[str, Any]:
    """An ALTCHA proof-of-work challenge, when the widget requires one (else 404)."""
    if settings.widget_pow_max_number <= 0:
        raise NotFound("proof of work is not required (WIDGET_POW_MAX_NUMBER is 0)")
    secret = resolve_secret_key(settings)
    return proof.new_challenge(secret, settings.widget_pow_max_number, settings.widget_pow_ttl_s)


@router.get("/reports/{item_id}", response_model=WidgetStatus, responses={404: {}})
async def report_status(
    item_id: uuid.UUID,
    uow: UowDep,
    settings: SettingsDep,
    response: Response,
    token: Annotated[str, Query(min_length=1, max_length=100)],
) -> WidgetStatus:
    # The URL holds the capability (the token): no cache along the way may keep the answer.
    response.headers["Cache-Control"] = "no-store"
    return await public_status(uow.session, item_id, token, resolve_secret_key(settings))


@router.post(
    "/reports/{item_id}/messages",
    response_model=WidgetStatus,
    responses={404: {}, 409: {}, 422: {}},
)
async def post_citizen_message(
    item_id: uuid.UUID,
    body: CitizenMessageIn,
    uow: UowDep,
    settings: SettingsDep,
    sla: SlaDep,
    token: Annotated[str, Query(min_length=1, max_length=100)],
) -> WidgetStatus:
    """The citizen's answer to a clarification request (only while one is pending: else 409)."""
    secret = resolve_secret_key(settings)
    await citizen_reply(uow, item_id, token, secret, body.text, sla)
    await uow.commit()
    return await public_status(uow.session, item_id, token, secret)
