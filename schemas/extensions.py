"""Deadline extensions (59-ФЗ ст. 12 ч. 2): asked for with a reason, approved by a supervisor,
announced to the citizen."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Column, ForeignKey, Index, Text, text
from sqlmodel import Field, SQLModel

from schemas.admin import ClockIn
from schemas.base import UTCDateTime, utcnow
from schemas.common import OptionalSafeText, SafeText, StrictModel

# At most one extension that counts (asked for or granted) per clock generation.
ACTIVE_PREDICATE = "status IN ('pending', 'approved')"


class ExtensionStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"
    # Never decided: the deadline it was asked for was replaced (a reopen, a restart, an
    # interim reply) or the appeal was finished first.
    lapsed = "lapsed"


class DeadlineExtension(SQLModel, table=True):
    __tablename__ = "deadline_extension"
    __table_args__ = (
        Index(
            "uq_deadline_extension_active",
            "item_id",
            "clock_key",
            unique=True,
            postgresql_where=text(ACTIVE_PREDICATE),
            sqlite_where=text(ACTIVE_PREDICATE),
        ),
        Index(
            "ix_deadline_extension_pending",
            "requested_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: uuid.UUID = Field(sa_column=Column(ForeignKey("item.id"), nullable=False, index=True))
    # The resolution clock's generation ("resolution", "resolution#2" after a reopen): a reopened
    # appeal is a new consideration with its own extension.
    clock_key: str = Field(max_length=32)
    status: str = Field(max_length=16, default=ExtensionStatus.pending)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    duration: float
    unit: str = Field(max_length=16)
    requested_by: int = Field(foreign_key="app_user.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_due_at: datetime = Field(sa_type=UTCDateTime)
    new_due_at: datetime = Field(sa_type=UTCDateTime)


class ExtensionIn(StrictModel):
    # Shown to the citizen in the notice of the extension.
    reason: SafeText = PydanticField(min_length=5, max_length=2000)
    # Added to the resolution deadline; the default is 59-ФЗ's 30 days.
    extend_by: ClockIn = PydanticField(
        default_factory=lambda: ClockIn(duration=30, unit="calendar_days")
    )


class ExtensionDecisionIn(StrictModel):
    note: OptionalSafeText = PydanticField(default=None, max_length=2000)


class ExtensionDeclineIn(StrictModel):
    # Why not: the responder who asked reads it.
    note: SafeText = PydanticField(min_length=1, max_length=2000)


class ExtensionRead(BaseModel):
    id: int
    item_id: uuid.UUID
    clock_key: str
    status: ExtensionStatus
    reason: str
    duration: float
    unit: str
    requested_by: int
    requested_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str | None
    previous_due_at: datetime
    new_due_at: datetime
