"""What responders, supervisors and operators see of items, and the bodies of their actions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictBool

from schemas.common import OptionalSafeText, SafeText, StrictModel


class MaskedContact(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    masked: bool = True


class ItemSummary(BaseModel):
    id: uuid.UUID
    channel: str
    page_id: str | None
    text: str
    status: str
    category: str | None
    priority: str
    authority_code: str | None
    place: str | None
    assignee_id: int | None
    received_at: datetime
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    # The citizen's last answer, thread note or edit (None: nothing since the appeal itself).
    citizen_wrote_at: datetime | None = None
    # Linked to this main item of the same problem: its final answer answers this one too.
    main_item_id: uuid.UUID | None = None
    # In the queue: new to the caller (never opened by them, or the citizen wrote since they
    # last did); null where not computed.
    unread: bool | None = None


class ItemRead(ItemSummary):
    network: str | None
    external_id: str
    category_hint: str | None
    actionable: bool | None
    address: str | None
    lat: float | None
    lon: float | None
    redirect_count: int
    created_at: datetime
    updated_at: datetime
    routed_at: datetime | None
    first_responded_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    decision: dict[str, Any] | None
    contact: MaskedContact | None = None
    # How many items are linked to this one as their main item (open or not).
    linked_count: int = 0


class EventRead(BaseModel):
    id: int
    at: datetime
    kind: str
    actor: str
    from_status: str | None
    to_status: str | None
    public: bool
    data: dict[str, Any]


class ReplyIn(StrictModel):
    text: SafeText = Field(min_length=1, max_length=10000)
    final: StrictBool = False  # closes the citizen's clock: true or false, nothing like "yes"


class RedirectIn(StrictModel):
    authority_code: str = Field(min_length=1, max_length=64)
    reason: SafeText = Field(min_length=1, max_length=2000)


class RequestInfoIn(StrictModel):
    question: SafeText = Field(min_length=1, max_length=5000)


class RejectIn(StrictModel):
    reason: SafeText = Field(min_length=1, max_length=2000)


class EmptyIn(StrictModel):
    pass


class ReleaseIn(StrictModel):
    reason: OptionalSafeText = Field(default=None, max_length=500)


class RevealIn(StrictModel):
    reason: SafeText = Field(min_length=3, max_length=500)


class LinkIn(StrictModel):
    main_id: uuid.UUID
    note: OptionalSafeText = Field(default=None, max_length=500)


class LinkManyIn(StrictModel):
    item_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    note: OptionalSafeText = Field(default=None, max_length=500)


class UnlinkIn(StrictModel):
    note: OptionalSafeText = Field(default=None, max_length=500)


class SimilarItem(BaseModel):
    """A candidate main item (or incident) for the item asked about."""

    item: ItemSummary
    # 0–1: mostly the texts' likeness, plus the same category and the same place.
    score: float
    text_similarity: float
    same_category: bool
    same_place: bool
