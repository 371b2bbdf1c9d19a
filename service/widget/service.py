"""The public «Сообщить о проблеме» widget: accept a report, show its public status."""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Channel, Item, ItemEvent, Status
from schemas.widget import PublicMessage, WidgetReportAccepted, WidgetReportIn, WidgetStatus
from service.db import UnitOfWork
from service.errors import NotFound, Unprocessable
from service.items import transitions
from service.items.events import record
from service.items.intake import (
    NewItem,
    fingerprint,
)
from service.items.writer import Intake, Stored
from service.sla import hooks
from service.sla.hooks import SlaContext
from service.widget.tokens import check_tracking_token, tracking_token

PUBLIC_EVENT_KINDS = (
    "reply",
    "request_info",
    "pause_reminder",
    "citizen_reply",
    "closed_no_reply",
    "linked",
    "unlinked",
    "deadline_extended",
)


def accepted(item_id: uuid.UUID, secret: bytes, base_url: str) -> WidgetReportAccepted:
    token = tracking_token(secret, item_id)
    return WidgetReportAccepted(
        id=item_id,
        status=Status.new,
        tracking_token=token,
        status_url=f"{base_url.rstrip('/')}/api/v1/widget/reports/{item_id}?token={token}",
    )


def _new_item(body: WidgetReportIn, key: str | None, digest: str) -> NewItem:
    contact = body.contact.model_dump() if body.contact and not body.contact.is_empty() else None
    if contact is not None:
        contact["consent"] = body.consent
    return NewItem(
        channel=Channel.widget,
        network="site" if body.page_id.startswith("site:") else None,
        external_id=key or uuid.uuid4().hex,
        request_hash=digest,
        page_id=body.page_id,
        text=body.text,
        category_hint=body.category,
        lat=body.location.lat if body.location else None,
        lon=body.location.lon if body.location else None,
        address=body.address,
        contact=contact,
    )


def report_fingerprint(body: WidgetReportIn) -> str:
    # A retry solves a fresh proof of work: the solution is not part of what the report says.
    return fingerprint(body.model_dump(mode="json", exclude={"altcha"}))


async def submit_report(
    intake: Intake, body: WidgetReportIn, *, idempotency_key: str | None
) -> Stored:
    """Store the report once per Idempotency-Key; the same key with another body is a 422."""
    digest = report_fingerprint(body)
    new = _new_item(body, idempotency_key, digest)
    stored = await intake.store(new, category=body.category)
    if not stored.created and stored.request_hash != digest:
        raise Unprocessable(
            "this Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
        )
    return stored


async def public_status(
    session: AsyncSession, item_id: uuid.UUID, token: str, secret: bytes
) -> WidgetStatus:
    item = await session.get(Item, item_id)
    # A wrong token looks exactly like a missing report: the id alone reveals nothing.
    if (
        item is None
        or item.channel != Channel.widget
        or not check_tracking_token(secret, item_id, token)
    ):
        raise NotFound("no report with this id and token")
    stmt = (
        select(ItemEvent)
        .where(ItemEvent.item_id == item_id, col(ItemEvent.public).is_(True))
        .order_by(col(ItemEvent.id))
    )
    events = (await session.exec(stmt)).all()
    messages = [
        PublicMessage(
            at=e.at,
            kind=e.kind,
            text=str(e.data.get("text", "")),
            final=bool(e.data.get("final", False)),
        )
        for e in events
        if e.kind in PUBLIC_EVENT_KINDS
    ]
    return WidgetStatus(
        id=item.id,
        status=item.status,
        received_at=item.received_at,
        category=item.category,
        expected_response_by=item.first_response_due_at,
        expected_resolution_by=item.resolution_due_at,
        messages=messages,
    )


async def citizen_reply(
    uow: UnitOfWork, item_id: uuid.UUID, token: str, secret: bytes, text: str, sla: SlaContext
) -> Item:
    """The citizen answers a clarification request from the status page: the clock resumes."""
    item = await uow.session.get(Item, item_id, with_for_update=True)
    if (
        item is None
        or item.channel != Channel.widget
        or not check_tracking_token(secret, item_id, token)
    ):
        raise NotFound("no report with this id and token")
    target = transitions.check("citizen_reply", item.status)
    hooks.on_resume(uow, item, sla)
    record(
        uow.session,
        item,
        "citizen_reply",
        actor="citizen",
        to_status=target,
        public=True,
        text=text,
    )
    return item
