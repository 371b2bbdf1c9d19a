"""What the report endpoints share: their period, and JSON or CSV by `format` or `Accept`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import asdict, fields
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from service.errors import Unprocessable

CSV = "text/csv; charset=utf-8"
DEFAULT_DAYS = 30


def period(since: dt.datetime | None, until: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """[from, to): to defaults to now, from to 30 days before it; from after to is a 422."""
    until = until or dt.datetime.now(dt.UTC)
    since = since or until - dt.timedelta(days=DEFAULT_DAYS)
    if since > until:
        raise Unprocessable("`from` is after `to`", field="from")
    return since, until


def wants_csv(request: Request, fmt: str | None) -> bool:
    return fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("accept", ""))


def csv_response(header: list[str], rows: Iterable[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type=CSV)


def grouped_csv(row_type: type, rows: Iterable[Any], group_by: str) -> Response:
    """Dataclass rows whose first field is `group`, the column named after what it groups."""
    names = [f.name for f in fields(row_type)]
    out = ({group_by: (d := asdict(r)).pop("group"), **d} for r in rows)
    return csv_response([group_by, *names[1:]], out)
