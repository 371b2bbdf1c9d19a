"""Payloads of the service-token ingest endpoints (comments, platform messages)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, EmailStr, Field

from schemas.common import (
    Location,
    Moment,
    OptionalSafeId,
    OptionalSafeText,
    SafeId,
    SafeText,
    StrictModel,
)


class CommentAuthor(StrictModel):
    id: OptionalSafeId = Field(default=None, max_length=100)
    name: OptionalSafeText = Field(default=None, max_length=200)


class CommentIn(StrictModel):
    network: str = Field(pattern=r"^(vk|ok|tg)$")
    page_id: SafeId = Field(min_length=1, max_length=200)
    post_id: SafeId = Field(min_length=1, max_length=100)
    comment_id: SafeId = Field(min_length=1, max_length=100)
    author: CommentAuthor | None = None
    text: SafeText = Field(min_length=1, max_length=10000)
    created_at: Moment | None = None
    reply_to: OptionalSafeId = Field(
        default=None,
        max_length=100,
        description="The id of the comment this one answers (a citizen's, or one we posted); "
        "an answer by the author of an open item joins that item.",
    )


class PlatformAuthor(StrictModel):
    id: OptionalSafeId = Field(default=None, max_length=100)
    name: OptionalSafeText = Field(default=None, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()\-]{5,32}$")


class PlatformMessageIn(StrictModel):
    external_id: SafeId = Field(min_length=1, max_length=200)
    category: str | None = Field(default=None, max_length=64)
    text: SafeText = Field(min_length=1, max_length=10000)
    address: OptionalSafeText = Field(default=None, max_length=500)
    location: Location | None = None
    created_at: Moment | None = None
    author: PlatformAuthor | None = None
    deadline: Moment | None = None
    page_id: OptionalSafeId = Field(default=None, max_length=200)


class IngestResult(BaseModel):
    id: uuid.UUID
    status: str
    duplicate: bool
    received_at: datetime
    joined: bool = Field(
        default=False,
        description="The comment answers an open item of the same author in its thread "
        "(`reply_to`): it was recorded on that item (`id`) instead of becoming a new one.",
    )


class IngestBatchResult(BaseModel):
    items: list[IngestResult]
