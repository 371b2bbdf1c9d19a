"""Ingest endpoints for channel connectors (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from schemas.ingest import CommentIn, IngestBatchResult, IngestResult, PlatformMessageIn
from service.deps import IntakeCaller
from service.fastroute import IntakeRoute
from service.ingest.dependencies import ThreadsDep
from service.ingest.service import (
    check_comment_batch,
    ingest_comment,
    ingest_comment_batch,
    ingest_platform_message,
)
from service.items.dependencies import IntakeDep

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"], route_class=IntakeRoute)

MAX_BATCH = 500


@router.post(
    "/comments",
    status_code=202,
    response_model=IngestResult | IngestBatchResult,
    responses={200: {"description": "all were duplicates"}, 401: {}, 403: {}, 422: {}},
)
async def post_comments(
    body: Annotated[CommentIn | Annotated[list[CommentIn], Body(max_length=MAX_BATCH)], Body()],
    intake: IntakeDep,
    threads: ThreadsDep,
    _user: IntakeCaller,
    response: Response,
) -> IngestResult | IngestBatchResult:
    if isinstance(body, list):
        await check_comment_batch(intake, body)
        results = await ingest_comment_batch(intake, threads, body)
    else:
        results = [await ingest_comment(intake, threads, body)]
    if all(r.duplicate for r in results):
        response.status_code = 200
    return IngestBatchResult(items=results) if isinstance(body, list) else results[0]


@router.post(
    "/platform-messages",
    status_code=202,
    response_model=IngestResult,
    responses={200: {"description": "duplicate"}, 401: {}, 403: {}, 422: {}},
)
async def post_platform_message(
    body: PlatformMessageIn, intake: IntakeDep, _user: IntakeCaller, response: Response
) -> IngestResult:
    result = await ingest_platform_message(intake, body)
    if result.duplicate:
        response.status_code = 200
    return result
