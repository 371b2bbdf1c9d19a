"""Replies on their way back to the citizen through the channel they wrote from (outbox)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from schemas.base import UTCDateTime, utcnow
from schemas.items import BigIntId


class ReplyDelivery(SQLModel, table=True):
    """One reply event sent over one channel, with its retries."""

    __tablename__ = "reply_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "kind"),
        Index("ix_reply_delivery_pending", "status", "next_attempt_at"),
        # A citizen answering our reply in a thread names the comment we posted.
        Index("ix_reply_delivery_ref", "kind", "external_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: uuid.UUID = Field(foreign_key="item.id", index=True)
    event_id: int = Field(sa_column=Column(BigIntId, ForeignKey("item_event.id"), nullable=False))
    kind: str = Field(max_length=16)  # email | vk_comment | tg_comment | platform
    status: str = Field(default="pending", max_length=16)  # pending | sent | dead
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the channel calls the sent reply (VK comment id, platform answer id).
    external_ref: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReplyPart(SQLModel, table=True):
    """A further message of a reply the channel made us split (Telegram's 4,096 characters):
    the citizen may answer any part, and the thread joins the answer by it."""

    __tablename__ = "reply_part"
    __table_args__ = (
        UniqueConstraint("delivery_id", "external_ref"),
        Index("ix_reply_part_ref", "kind", "external_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="reply_delivery.id")
    # The delivery's kind again, so the thread's lookup needs no join.
    kind: str = Field(max_length=16)
    external_ref: str = Field(max_length=100)
