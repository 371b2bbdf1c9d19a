"""Reference for bench/ingest.py: the same request bodies, validated, answered 202, nothing stored.

    .venv/bin/python -m uvicorn _bare_app:app --app-dir bench --port P

No middleware, no database, no Redis: the floor of what a FastAPI endpoint on this machine can
do with the product's own pydantic models. The product must reach >= 60 % of it (SPEC §7).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import Body, FastAPI

# The models come from the product (schemas/), beside this directory.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.ingest import CommentIn
from schemas.widget import WidgetReportIn

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/widget/reports", status_code=202)
async def widget_report(body: WidgetReportIn) -> dict[str, str]:
    # A response of the same shape and size class as the product's, so serialisation is alike.
    return {"id": str(uuid.uuid4()), "status": "new"}


@app.post("/api/v1/ingest/comments", status_code=202)
async def comments(body: Annotated[CommentIn | list[CommentIn], Body()]) -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "status": "new"}
