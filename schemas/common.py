"""Shared API field types: safe text, coordinates, pagination."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from schemas.base import FAR_FUTURE

T = TypeVar("T")


# Format characters with no glyph (zero-width space and joiners, word joiner, BOM, soft hyphen,
# direction marks) that `str.strip` keeps: a text of these alone says nothing.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")
)


def check_text(value: str) -> str:
    # PostgreSQL text rejects NUL and UTF-8 cannot encode lone surrogates: refuse both as 422
    # here rather than fail as a 500 at the database.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    if not value.translate(_INVISIBLE).strip():
        raise ValueError("text must not be blank (spaces and invisible characters only)")
    return unicodedata.normalize("NFC", value)


def _check_optional(value: str | None) -> str | None:
    return None if value is None else check_text(value)


_CONTROLS = frozenset(map(chr, range(0x20))) | {"\x7f"}


def check_id(value: str) -> str:
    # An identifier from another system (a comment id, a page id, a secret): no control
    # characters, valid Unicode. SQLite would store a NUL that PostgreSQL refuses; the two
    # backends must answer the same 422.
    if not _CONTROLS.isdisjoint(value):
        raise ValueError("identifiers must not contain control characters (NUL, tab, newline)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("identifiers must be valid Unicode (no lone surrogates)") from exc
    return value


def _check_optional_id(value: str | None) -> str | None:
    return None if value is None else check_id(value)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def check_moment(value: datetime) -> datetime:
    # Stored and compared in UTC: 0001-01-01T00:00+00:01 has no UTC form (OverflowError at the
    # database, a 500), and dates past the "never due" sentinel would sort after it.
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date is out of range") from None
    if not EARLIEST <= utc < FAR_FUTURE:
        raise ValueError(f"date must be from {EARLIEST:%Y} up to {FAR_FUTURE:%Y} (UTC)")
    return value


# A point in time from a client: with an offset (Z or +07:00; a bare local time is ambiguous
# across the region's time zones) and within the years the service stores.
Moment = Annotated[AwareDatetime, AfterValidator(check_moment)]
# A time without an offset in a query string (a supervisor's `from=2026-11-01`) is read in the
# region's zone, that of the default calendar (SPEC §5: `altai`, Asia/Barnaul).
REGION_TZ = ZoneInfo("Asia/Barnaul")


def _in_region_if_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=REGION_TZ) if value.tzinfo is None else value


def _not_a_number(value: object) -> object:
    # pydantic reads "0.5" or "2026" as seconds since 1970: in a supervisor's `to=` that is a
    # typo, not a moment in 1970.
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("a date in ISO 8601 (2026-11-01 or 2026-11-01T09:00+07:00), not a number")
    return value


QueryMoment = Annotated[
    datetime,
    BeforeValidator(_not_a_number),
    AfterValidator(_in_region_if_naive),
    AfterValidator(check_moment),
]
SafeText = Annotated[str, AfterValidator(check_text)]
SafeId = Annotated[str, AfterValidator(check_id)]
OptionalSafeId = Annotated[str | None, AfterValidator(_check_optional_id)]
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
