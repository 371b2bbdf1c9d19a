"""SLA tables: calendars, policies, alert endpoints, alerts and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from schemas.base import JSONType, UTCDateTime, new_uuid, utcnow


class WorkCalendarRow(SQLModel, table=True):
    """A named work calendar; `spec` is `service.sla.CalendarSpec.to_dict()`."""

    __tablename__ = "work_calendar"

    code: str = Field(primary_key=True, max_length=64)
    spec: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaPolicy(SQLModel, table=True):
    __tablename__ = "sla_policy"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    match_channel: str | None = Field(default=None, max_length=16)
    match_category: str | None = Field(default=None, max_length=64)
    match_priority: str | None = Field(default=None, max_length=16)
    match_authority_code: str | None = Field(default=None, max_length=64)
    calendar: str | None = Field(default=None, max_length=64)  # None: the authority's calendar
    first_response_duration: float
    first_response_unit: str = Field(max_length=16)
    resolution_duration: float
    resolution_unit: str = Field(max_length=16)
    warn_at: float = 0.75
    on_redirect: str = Field(default="continue", max_length=16)
    pause_limit_duration: float = 3
    pause_limit_unit: str = Field(default="calendar_days", max_length=16)
    # The share of the pause limit after which the citizen is reminded of the question (0: no).
    remind_at: float = 0.67
    # After an interim reply the final answer is due within this (the ЦУР practice: 7 working
    # days in Sevastopol); None: the resolution clock runs on unchanged.
    after_interim_duration: float | None = None
    after_interim_unit: str | None = Field(default=None, max_length=16)
    # [{"after": {"duration": 4, "unit": "hours"}, "to": "parent" | "tsur"}, ...]
    escalation: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertEndpoint(SQLModel, table=True):
    __tablename__ = "alert_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(foreign_key="authority.code", index=True)
    kind: str = Field(max_length=16)
    target: str = Field(max_length=500)
    secret: str | None = Field(default=None, max_length=200)
    levels: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """One alert per (item, clock, level): the unique constraint makes several workers safe."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("item_id", "clock", "level"),)

    id: uuid.UUID = Field(default_factory=new_uuid, primary_key=True)
    item_id: uuid.UUID = Field(foreign_key="item.id", index=True)
    clock: str = Field(max_length=24)
    level: str = Field(max_length=24)  # warning | breach | escalation:N
    type: str = Field(max_length=24)  # sla.warning | sla.breach | sla.escalation
    authority_code: str = Field(max_length=64, index=True)
    target_authority_code: str = Field(max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AlertDelivery(SQLModel, table=True):
    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "endpoint_id"),
        Index("ix_alert_delivery_pending", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: uuid.UUID = Field(foreign_key="alert.id", index=True)
    endpoint_id: int = Field(foreign_key="alert_endpoint.id")
    status: str = Field(default="pending", max_length=16)  # pending | sent | dead
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
