"""Tracking tokens: an HMAC of the item id, so a repeat of a request returns the same token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid


def tracking_token(secret: bytes, item_id: uuid.UUID) -> str:
    digest = hmac.new(secret, b"track:" + item_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def check_tracking_token(secret: bytes, item_id: uuid.UUID, token: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters (a 500 for a crafted token).
    return hmac.compare_digest(tracking_token(secret, item_id).encode(), token.encode())
