"""Ingest endpoints for channel connectors (service token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from schemas.ingest import CommentIn, IngestBatchResult, IngestResult, PlatformMessageIn
from service.deps import ServiceUser, UowDep
from service.ingest.service import ingest_comment, ingest_platform_message

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])

MAX_BATCH = 500


@router.post(
    "/comments",
    status_code=202,
    response_model=IngestResult | IngestBatchResult,
    responses={200: {"description": "all were duplicates"}, 401: {}, 403: {}, 422: {}},
)
async def post_comments(
    body: Annotated[CommentIn | Annotated[list[CommentIn], Body(max_length=MAX_BATCH)], Body()],
    uow: UowDep,
    _user: ServiceUser,
    response: Response,
) -> IngestResult | IngestBatchResult:
    batch = body if isinstance(body, list) else [body]
    results = [await ingest_comment(uow, c) for c in batch]
    await uow.commit()
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
    body: PlatformMessageIn, uow: UowDep, _user: ServiceUser, response: Response
) -> IngestResult:
    result = await ingest_platform_message(uow, body)
    await uow.commit()
    if result.duplicate:
        response.status_code = 200
    return result
