"""Alert endpoint administration and the operator-visible dead letters."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.admin import AlertEndpointIn, AlertEndpointRead, DeliveryRead
from schemas.base import utcnow
from schemas.catalog import Authority
from schemas.jobs import DELIVER_ALERT, deliver_job_id
from schemas.sla import Alert, AlertDelivery, AlertEndpoint
from service.alerts.signing import check_secret, generate_secret
from service.alerts.ssrf import TargetRejected, check_target_async
from service.db import UnitOfWork
from service.errors import NotFound, Unprocessable


def endpoint_read(e: AlertEndpoint, *, secret: str | None = None) -> AlertEndpointRead:
    assert e.id is not None
    return AlertEndpointRead(
        id=e.id,
        authority_code=e.authority_code,
        kind=e.kind,
        target=e.target,
        levels=e.levels,
        active=e.active,
        disabled_reason=e.disabled_reason,
        created_at=e.created_at,
        has_secret=bool(e.secret),
        secret=secret,
    )


async def create_endpoint(
    session: AsyncSession, body: AlertEndpointIn, *, allow_private: bool
) -> tuple[AlertEndpoint, str | None]:
    """Validate the target (SSRF guard, formats) and the secret; returns a generated secret."""
    if await session.get(Authority, body.authority_code) is None:
        raise Unprocessable(f"unknown authority {body.authority_code!r}", field="authority_code")
    try:
        await check_target_async(body.target, body.kind, allow_private=allow_private)
    except (TargetRejected, ValueError) as exc:
        raise Unprocessable(f"target rejected: {exc}", field="target") from exc
    secret, generated = body.secret, None
    if body.kind == "webhook":
        if secret is None:
            secret = generated = generate_secret()
        try:
            check_secret(secret)
        except ValueError as exc:
            raise Unprocessable(f"secret: {exc}", field="secret") from exc
    endpoint = AlertEndpoint(
        authority_code=body.authority_code,
        kind=body.kind,
        target=body.target,
        secret=secret,
        levels=sorted(set(body.levels)),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, generated


async def list_endpoints(session: AsyncSession) -> list[AlertEndpoint]:
    return list((await session.exec(select(AlertEndpoint).order_by(col(AlertEndpoint.id)))).all())


async def disable_endpoint(session: AsyncSession, endpoint_id: int) -> AlertEndpoint:
    endpoint = await session.get(AlertEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no alert endpoint {endpoint_id}")
    endpoint.active, endpoint.disabled_reason = False, "disabled by an administrator"
    session.add(endpoint)
    return endpoint


def _read(d: AlertDelivery, a: Alert) -> DeliveryRead:
    assert d.id is not None
    return DeliveryRead(
        id=d.id,
        alert_id=str(a.id),
        endpoint_id=d.endpoint_id,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        first_attempt_at=d.first_attempt_at,
        sent_at=d.sent_at,
        item_id=str(a.item_id),
        type=a.type,
        clock=a.clock,
        level=a.level,
    )


async def list_deliveries(session: AsyncSession, *, status: str, limit: int) -> list[DeliveryRead]:
    stmt = (
        select(AlertDelivery, Alert)
        .join(Alert, col(Alert.id) == col(AlertDelivery.alert_id))
        .where(AlertDelivery.status == status)
        .order_by(col(AlertDelivery.id).desc())
        .limit(limit)
    )
    return [_read(d, a) for d, a in (await session.exec(stmt)).all()]


async def retry(uow: UnitOfWork, delivery_id: int) -> DeliveryRead:
    """Replay a dead letter: pending again, attempted now, with the same webhook-id."""
    d = await uow.session.get(AlertDelivery, delivery_id)
    if d is None:
        raise NotFound(f"no delivery {delivery_id}")
    alert = await uow.session.get(Alert, d.alert_id)
    assert alert is not None and d.id is not None
    d.status, d.next_attempt_at, d.lease_until = "pending", utcnow(), None
    uow.session.add(d)
    uow.jobs.add(DELIVER_ALERT, d.id, job_id=deliver_job_id(d.id, d.attempts) + ":replay")
    return _read(d, alert)
