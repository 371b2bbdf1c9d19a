"""Shared API field types: safe text, coordinates, pagination."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

T = TypeVar("T")


def check_text(value: str) -> str:
    # PostgreSQL text rejects NUL and UTF-8 cannot encode lone surrogates: refuse both as 422
    # here rather than fail as a 500 at the database.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    if not value.strip():
        raise ValueError("text must not be blank")
    return unicodedata.normalize("NFC", value)


def _check_optional(value: str | None) -> str | None:
    return None if value is None else check_text(value)


SafeText = Annotated[str, AfterValidator(check_text)]
OptionalSafeText = Annotated[str | None, AfterValidator(_check_optional)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class StrictModel(BaseModel):
    """Unknown fields are refused (mass-assignment guard, minimal personal data)."""

    model_config = ConfigDict(extra="forbid")


class Location(StrictModel):
    lat: Latitude
    lon: Longitude


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
