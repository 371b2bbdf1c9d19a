"""Routing tables: administrator overrides, labelled examples from people, the catalog version."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from schemas.base import JSONType, UTCDateTime, utcnow


class RoutingOverrideRow(SQLModel, table=True):
    __tablename__ = "routing_override"

    id: int | None = Field(default=None, primary_key=True)
    target_authority_code: str = Field(foreign_key="authority.code")
    category_code: str | None = Field(default=None, foreign_key="category.code")
    place: str | None = Field(default=None, max_length=200)
    text_pattern: str | None = Field(default=None, max_length=500)
    priority: int = 0
    note: str | None = Field(default=None, max_length=500)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LabelledExample(SQLModel, table=True):
    """A routing decision made by a person (triage or redirect): training data for the model."""

    __tablename__ = "labelled_example"

    id: int | None = Field(default=None, primary_key=True)
    item_id: uuid.UUID = Field(foreign_key="item.id", index=True)
    source: str = Field(max_length=16)  # triage | redirect
    text: str = Field(sa_column=Column(Text, nullable=False))
    channel: str = Field(max_length=16)
    page_id: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=64)
    authority_code: str = Field(max_length=64)
    previous_authority_code: str | None = Field(default=None, max_length=64)
    context: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class CatalogVersion(SQLModel, table=True):
    """Bumped whenever the catalog or the overrides change, so routers know to rebuild."""

    __tablename__ = "catalog_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
