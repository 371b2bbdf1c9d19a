"""People and services that call the API, and their hashed bearer tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from schemas.base import JSONType, UTCDateTime, utcnow


class Role(StrEnum):
    responder = "responder"
    supervisor = "supervisor"
    operator = "operator"
    admin = "admin"
    service = "service"  # channel connectors that call the ingest endpoints


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    role: str = Field(max_length=16)
    authority_code: str = Field(foreign_key="authority.code", index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    # SHA-256 of a 256-bit random token: a leaked database does not leak usable tokens.
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AdminEvent(SQLModel, table=True):
    """Who changed the installation's set-up, and when (SPEC §8: every state change is in the
    audit trail; item changes are item events). Field names only: values may be secrets."""

    __tablename__ = "admin_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)  # user:<id>, or cli
    action: str = Field(max_length=200)  # "POST /api/v1/admin/users/{user_id}"
    target: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
