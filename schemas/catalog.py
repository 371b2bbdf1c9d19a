"""Catalog tables: authorities (a hierarchy), places, categories and official pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from schemas.base import JSONType


class Authority(SQLModel, table=True):
    __tablename__ = "authority"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=32, index=True)
    parent_code: str | None = Field(default=None, foreign_key="authority.code", index=True)
    center: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="Asia/Barnaul", max_length=64)
    calendar_code: str = Field(default="altai", max_length=64)


class Place(SQLModel, table=True):
    __tablename__ = "place"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    authority_code: str = Field(foreign_key="authority.code", index=True)
    district_code: str = Field(foreign_key="authority.code")
    lat: float | None = None
    lon: float | None = None
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))


class Category(SQLModel, table=True):
    __tablename__ = "category"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    parent_code: str | None = Field(default=None, foreign_key="category.code")
    level: str = Field(max_length=32)
    regional_authority_code: str | None = Field(default=None, foreign_key="authority.code")
    priority: str = Field(default="normal", max_length=16)
    resolution_days: int = 30
    first_response_hours: int = 24
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))


class Page(SQLModel, table=True):
    __tablename__ = "page"

    page_id: str = Field(primary_key=True, max_length=200)
    network: str = Field(max_length=16)
    title: str = Field(max_length=300)
    authority_code: str = Field(foreign_key="authority.code", index=True)
    # Origins allowed to post the widget from a browser, beyond the site's own host.
    allowed_origins: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()
