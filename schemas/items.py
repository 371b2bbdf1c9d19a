"""Items (one citizen message each), their contact details and their append-only history."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from schemas.base import FAR_FUTURE, JSONType, UTCDateTime, new_uuid, utcnow

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Channel(StrEnum):
    widget = "widget"
    comment = "comment"
    platform = "platform"


class Status(StrEnum):
    new = "new"
    routed = "routed"
    triage = "triage"
    in_progress = "in_progress"
    awaiting_citizen = "awaiting_citizen"
    answered = "answered"
    closed = "closed"
    rejected = "rejected"
    redirected = "redirected"
    reopened = "reopened"


class Priority(StrEnum):
    normal = "normal"
    high = "high"


OPEN_STATUSES = (
    Status.routed,
    Status.triage,
    Status.in_progress,
    Status.awaiting_citizen,
    Status.reopened,
)


OPEN_PREDICATE = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))
OPEN_UNLINKED_PREDICATE = f"{OPEN_PREDICATE} AND main_item_id IS NULL"


def _dt(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Item(SQLModel, table=True):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_item_authority_due", "authority_code", "next_due_at", "id"),
        Index("ix_item_status_created", "status", "created_at"),
        # The queue reads only open items: partial indexes keep a long closed history out of
        # the scan (an authority with few open items would otherwise walk all of its past).
        Index(
            "ix_item_open_authority_due",
            "authority_code",
            "next_due_at",
            "id",
            postgresql_where=text(OPEN_PREDICATE),
            sqlite_where=text(OPEN_PREDICATE),
        ),
        Index(
            "ix_item_open_due",
            "next_due_at",
            "id",
            postgresql_where=text(OPEN_PREDICATE),
            sqlite_where=text(OPEN_PREDICATE),
        ),
        # The items linked to a main item; the few linked rows only, so intake, where every
        # new item is unlinked, writes no entry to it.
        Index(
            "ix_item_linked",
            "main_item_id",
            postgresql_where=text("main_item_id IS NOT NULL"),
            sqlite_where=text("main_item_id IS NOT NULL"),
        ),
        # Candidates for linking (`/items/{id}/similar`): an authority's open, unlinked items
        # by time, without walking all of its open items.
        Index(
            "ix_item_open_unlinked_received",
            "authority_code",
            "received_at",
            postgresql_where=text(OPEN_UNLINKED_PREDICATE),
            sqlite_where=text(OPEN_UNLINKED_PREDICATE),
        ),
        # The SLA due query: only items with a pending SLA moment are in this index.
        Index(
            "ix_item_sla_next_check",
            "sla_next_check_at",
            postgresql_where=text("sla_next_check_at IS NOT NULL"),
            sqlite_where=text("sla_next_check_at IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_uuid, primary_key=True)
    channel: str = Field(max_length=16)
    network: str | None = Field(default=None, max_length=16)
    external_id: str = Field(max_length=300)
    request_hash: str | None = Field(default=None, max_length=64)
    page_id: str | None = Field(default=None, foreign_key="page.page_id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    lat: float | None = None
    lon: float | None = None
    address: str | None = Field(default=None, max_length=500)
    place: str | None = Field(default=None, max_length=200)
    category_hint: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=64)
    priority: str = Field(default=Priority.normal, max_length=16)
    actionable: bool | None = None
    authority_code: str | None = Field(default=None, foreign_key="authority.code")
    decision: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    status: str = Field(default=Status.new, max_length=24)
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id")
    # The main item of the same problem, when this one is linked to it as an incident: the
    # main's final answer answers this one too (service/items/linking.py).
    main_item_id: uuid.UUID | None = Field(default=None, foreign_key="item.id")
    redirect_count: int = 0
    received_at: datetime = _dt(default_factory=utcnow)
    source_created_at: datetime | None = _dt(default=None)
    created_at: datetime = _dt(default_factory=utcnow)
    updated_at: datetime = _dt(default_factory=utcnow)
    routed_at: datetime | None = _dt(default=None)
    first_response_due_at: datetime | None = _dt(default=None)
    resolution_due_at: datetime | None = _dt(default=None)
    # The nearest pending deadline, or a far-future sentinel, so the queue is one index range scan.
    next_due_at: datetime = _dt(default_factory=lambda: FAR_FUTURE)
    first_responded_at: datetime | None = _dt(default=None)
    # The last time the citizen wrote on the item after sending it (an answer, a note in the
    # thread, an edit): what a responder's queue shows as news from the citizen.
    citizen_wrote_at: datetime | None = _dt(default=None)
    answered_at: datetime | None = _dt(default=None)
    closed_at: datetime | None = _dt(default=None)
    # SLA state pinned when the clocks attach: policy id/version, units, calendar, pauses.
    sla: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    # The next moment the SLA engine must look at this item (warning, breach, escalation,
    # pause expiry); NULL when nothing is pending.
    sla_next_check_at: datetime | None = _dt(default=None)


class Contact(SQLModel, table=True):
    """Personal data kept apart from the text (152-FZ): masked in views, purged after retention."""

    __tablename__ = "contact"

    item_id: uuid.UUID = Field(foreign_key="item.id", primary_key=True)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    author_external_id: str | None = Field(default=None, max_length=100)
    consent: bool = False
    created_at: datetime = _dt(default_factory=utcnow)
    purged_at: datetime | None = _dt(default=None)


class ItemEvent(SQLModel, table=True):
    __tablename__ = "item_event"

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    item_id: uuid.UUID = Field(foreign_key="item.id", index=True)
    at: datetime = _dt(default_factory=utcnow)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=64)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)
    public: bool = False
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class ItemMessage(SQLModel, table=True):
    """A later channel message joined to an existing item (a citizen's answer in the thread).

    Keyed like items, so a message is either an item or a part of one, and a channel's retry of
    it adds nothing.
    """

    __tablename__ = "item_message"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    item_id: uuid.UUID = Field(foreign_key="item.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=300)
    # The event that holds the message's current wording (its latest edit).
    event_id: int = Field(sa_column=Column(BigIntId, ForeignKey("item_event.id"), nullable=False))
    created_at: datetime = _dt(default_factory=utcnow)


class ItemSeen(SQLModel, table=True):
    """When a staff member last opened an item: the queue marks what is new to them (never
    opened, or the citizen wrote since)."""

    __tablename__ = "item_seen"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    # No foreign key on purpose: PostgreSQL's check of one takes a share lock on the item row,
    # so a first open (inserting here) and an action on the item (its row locked, then a mark
    # here) deadlocked. Items are never deleted, so nothing can be left dangling.
    item_id: uuid.UUID = Field(primary_key=True)
    seen_at: datetime = _dt(default_factory=utcnow)
