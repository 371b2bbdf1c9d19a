"""VK Callback API: confirmation, secret check, wall comments in as items, answer `ok` fast."""

from __future__ import annotations

import datetime as dt
import hmac

import structlog
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Page
from schemas.channels import VkComment, VkCommentDeleted, VkEnvelope, VkGroup, VkGroupIn
from schemas.common import check_text
from schemas.items import Channel
from service.channels.comments import record_deletion, record_restore, store_comment
from service.config import Settings
from service.db import UnitOfWork
from service.errors import Forbidden, Unprocessable
from service.items.intake import NewItem

log = structlog.get_logger()
BAD_SECRET = "unknown community or wrong secret"

NEW_COMMENT = ("wall_reply_new", "wall_reply_restore")


async def register_group(session: AsyncSession, body: VkGroupIn) -> VkGroup:
    page = await session.get(Page, body.page_id)
    if page is None:
        raise Unprocessable(f"unknown page_id {body.page_id!r}", field="page_id")
    if page.network != "vk":
        raise Unprocessable(f"page {body.page_id!r} is a {page.network} page", field="page_id")
    group = await session.get(VkGroup, body.group_id) or VkGroup(
        group_id=body.group_id, page_id=body.page_id, confirmation=body.confirmation
    )
    group.page_id, group.confirmation, group.secret = body.page_id, body.confirmation, body.secret
    group.access_token = body.access_token
    session.add(group)
    await session.flush()
    return group


async def authenticate(session: AsyncSession, envelope: VkEnvelope) -> VkGroup:
    group = await session.get(VkGroup, envelope.group_id)
    # One answer for an unknown community and a wrong secret: a caller without the secret
    # must not learn which communities are connected.
    if group is None:
        log.warning("vk.unknown_group", group_id=envelope.group_id)
        raise Forbidden(BAD_SECRET)
    # A community stored without a secret (before it was required) takes no events.
    if group.secret is None or not hmac.compare_digest(
        (envelope.secret or "").encode(), group.secret.encode()
    ):
        log.warning("vk.bad_secret", group_id=envelope.group_id)
        raise Forbidden(BAD_SECRET)
    return group


def _comment(envelope: VkEnvelope) -> VkComment | None:
    try:
        comment = VkComment.model_validate(envelope.object or {})
        comment.text = check_text(comment.text)
    except (ValidationError, ValueError):
        return None  # attachment-only, deleted or malformed: nothing a person can route
    return comment


def _new_item(group: VkGroup, comment: VkComment) -> NewItem:
    created = dt.datetime.fromtimestamp(comment.date, dt.UTC) if comment.date else None
    return NewItem(
        channel=Channel.comment,
        network="vk",
        external_id=f"{group.page_id}#{comment.id}",
        page_id=group.page_id,
        text=comment.text,
        source_created_at=created,
        source={
            "group_id": str(group.group_id),
            "post_id": str(comment.post_id),
            "comment_id": str(comment.id),
            "reply_to": str(comment.reply_to_comment) if comment.reply_to_comment else None,
            "thread_root": str(comment.thread_root) if comment.thread_root is not None else None,
        },
        contact={"author_external_id": str(comment.from_id)},
    )


async def handle_event(
    uow: UnitOfWork, group: VkGroup, envelope: VkEnvelope, settings: Settings
) -> str:
    """Store what matters and say what happened (for logs); the HTTP answer is always `ok`."""
    if envelope.type == "wall_reply_delete":
        return await _deleted(uow, group, envelope)
    if envelope.type not in (*NEW_COMMENT, "wall_reply_edit"):
        return "ignored"
    comment = _comment(envelope)
    if comment is None or comment.from_id < 0:
        return "skipped"  # communities' own comments are our replies, not appeals
    new = _new_item(group, comment)
    if envelope.type == "wall_reply_restore":
        restored = await record_restore(uow, new.channel, new.external_id, envelope.event_id)
        if restored is not None:
            return restored
    return await store_comment(uow, new, edit=envelope.type == "wall_reply_edit", settings=settings)


async def _deleted(uow: UnitOfWork, group: VkGroup, envelope: VkEnvelope) -> str:
    try:
        gone = VkCommentDeleted.model_validate(envelope.object or {})
    except ValidationError:
        return "skipped"
    external_id = f"{group.page_id}#{gone.id}"
    return await record_deletion(
        uow, Channel.comment, external_id, gone.deleted_by, envelope.event_id
    )
