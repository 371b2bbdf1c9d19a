"""Per-authority SLA compliance as open data (anchors idea 12, "transparency").

A month at a time, counts only: no item, text or person. The figures are those of the
supervisors' report for every authority. Public, so each process keeps a month's answer for
`CACHE_S`: a crawler asking again and again costs one grouped query per month per ten minutes.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.catalog import Authority
from service.errors import Unprocessable
from service.sla.reports import compliance

REGION_TZ = ZoneInfo("Asia/Barnaul")
CACHE_S = 600
_cache: dict[str, tuple[float, OpenCompliance]] = {}


class OpenRow(BaseModel):
    authority_code: str
    authority_name: str
    received: int
    first_response_on_time: int
    first_response_late: int
    resolution_on_time: int
    resolution_late: int
    on_time_share: float | None
    median_first_response_min: float | None


class OpenCompliance(BaseModel):
    month: str
    time_zone: str
    rows: list[OpenRow]


def month_bounds(month: str | None, now: dt.datetime) -> tuple[str, dt.datetime, dt.datetime]:
    """`YYYY-MM` (default: the last whole month in the region's time) → its UTC bounds."""
    if month is None:
        first = now.astimezone(REGION_TZ).date().replace(day=1)
        month = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=REGION_TZ)
    except ValueError as exc:
        raise Unprocessable("month must be YYYY-MM", field="month") from exc
    if not 2000 <= start.year <= now.year:
        raise Unprocessable(f"no figures for {month}", field="month")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return month, start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def open_compliance(session: AsyncSession, month: str | None) -> OpenCompliance:
    label, since, until = month_bounds(month, dt.datetime.now(dt.UTC))
    cached = _cache.get(label)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    rows = await compliance(session, None, since=since, until=until, group_by="authority")
    names = {a.code: a.name for a in (await session.exec(select(Authority))).all()}
    answer = OpenCompliance(
        month=label,
        time_zone=str(REGION_TZ),
        rows=[
            OpenRow(
                authority_code=r.group,
                authority_name=names.get(r.group, ""),
                received=r.received,
                first_response_on_time=r.first_response_on_time,
                first_response_late=r.first_response_late,
                resolution_on_time=r.resolution_on_time,
                resolution_late=r.resolution_late,
                on_time_share=r.on_time_share,
                median_first_response_min=r.median_first_response_min,
            )
            for r in rows
            if r.group
        ],
    )
    _cache[label] = (time.monotonic() + CACHE_S, answer)
    return answer
