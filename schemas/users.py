"""People and services that call the API, and their hashed bearer tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from schemas.base import UTCDateTime, utcnow


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
