"""Public widget payloads: what a citizen sends and what the status page shows (no PII)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, EmailStr, Field, StrictBool, model_validator

from schemas.common import Location, OptionalSafeText, SafeText, StrictModel


class Contact(StrictModel):
    name: OptionalSafeText = Field(default=None, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()\-]{5,32}$")

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone)


class WidgetReportIn(StrictModel):
    page_id: str = Field(min_length=1, max_length=200)
    text: SafeText = Field(min_length=1, max_length=5000)
    category: str | None = Field(default=None, max_length=64)
    location: Location | None = None
    address: OptionalSafeText = Field(default=None, max_length=500)
    contact: Contact | None = None
    # A real JSON true: "yes" or 1 is no consent to process personal data (152-FZ).
    consent: StrictBool = False
    # Honeypot: invisible in the widget form, so only bots fill it in.
    website: str | None = Field(default=None, max_length=500)
    # The ALTCHA proof of work, base64 JSON, when the widget requires one (WIDGET_POW_MAX_NUMBER).
    altcha: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _consent_with_contact(self) -> WidgetReportIn:
        if self.contact is not None and not self.contact.is_empty() and not self.consent:
            raise ValueError("consent must be true when contact details are given (152-FZ)")
        return self


class WidgetReportAccepted(BaseModel):
    id: uuid.UUID
    status: str
    tracking_token: str
    status_url: str


class PublicMessage(BaseModel):
    at: datetime
    kind: str
    text: str
    final: bool = False


class WidgetStatus(BaseModel):
    id: uuid.UUID
    status: str
    received_at: datetime
    category: str | None
    expected_response_by: datetime | None
    expected_resolution_by: datetime | None
    messages: list[PublicMessage]


class CitizenMessageIn(StrictModel):
    text: SafeText = Field(min_length=1, max_length=5000)
