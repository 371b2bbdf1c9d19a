"""Standard Webhooks v1 (symmetric HMAC-SHA256) signing and verification.

Signed content is `f"{webhook-id}.{webhook-timestamp}.".encode() + raw_body`, exactly what
`/work/shared/checks/e2e_sla.py` recomputes. Several secrets give several space-separated
signatures, so an endpoint can rotate its secret without a gap (SPEC §5, reliability C6).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Iterable, Mapping, Sequence

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"

Secrets = str | Sequence[str]


class SignatureError(ValueError):
    """A delivery that must not be trusted: bad signature, stale timestamp or missing header."""


def secret_key(secret: str) -> bytes:
    """Key bytes of a `whsec_<base64>` secret, or the UTF-8 bytes of any other string."""
    if not secret:
        raise ValueError("a webhook secret must not be empty")
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode("utf-8")
    encoded = secret.removeprefix(SECRET_PREFIX)
    # The reference library tolerates missing padding; so do we.
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a whsec_ secret must be followed by base64") from exc
    if not key:
        raise ValueError("a whsec_ secret must not be empty")
    return key


def check_secret(secret: str, *, min_bytes: int = MIN_SECRET_BYTES) -> None:
    """Save-time validation: the key must decode and carry at least `min_bytes` bytes."""
    if len(secret_key(secret)) < min_bytes:
        raise ValueError(f"a webhook secret needs at least {min_bytes} bytes of key material")


def generate_secret(nbytes: int = 32) -> str:
    if not MIN_SECRET_BYTES <= nbytes <= MAX_SECRET_BYTES:
        raise ValueError(f"secret size must be {MIN_SECRET_BYTES}..{MAX_SECRET_BYTES} bytes")
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(nbytes)).decode("ascii")


def _as_list(secrets: Secrets) -> list[str]:
    # A bare str is itself a Sequence[str]; never split it into characters.
    items = [secrets] if isinstance(secrets, str) else list(secrets)
    if not items:
        raise ValueError("at least one webhook secret is required")
    return items


def _check_id(msg_id: str) -> None:
    if not msg_id or "." in msg_id or any(c.isspace() for c in msg_id):
        raise ValueError("webhook-id must be non-empty, without '.' or whitespace")


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def sign(secrets: Secrets, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` per secret, space-separated (the `webhook-signature` header value)."""
    _check_id(msg_id)
    return " ".join(
        f"{SIGNATURE_VERSION},{_digest(secret_key(s), msg_id, timestamp, body)}"
        for s in _as_list(secrets)
    )


def webhook_headers(
    secrets: Secrets, msg_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers; the timestamp is that of this attempt."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: sign(secrets, msg_id, ts, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    # Plain dicts are case-sensitive, httpx/Starlette headers are not: normalise either way.
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(f"missing {name} header")


def _parse_timestamp(raw: str, *, now: float, tolerance_s: int) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise SignatureError("webhook-timestamp must be integer Unix seconds")
    ts = int(raw)
    if abs(now - ts) > tolerance_s:
        raise SignatureError("webhook-timestamp is outside the tolerance")
    return ts


def _candidates(header: str) -> Iterable[str]:
    for entry in header.split():
        version, _, value = entry.partition(",")
        if version == SIGNATURE_VERSION and value:
            yield value


def verify(
    secrets: Secrets,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Check a delivery against any of `secrets`; return its webhook-id or raise SignatureError."""
    msg_id = _header(headers, HEADER_ID)
    ts = _parse_timestamp(
        _header(headers, HEADER_TIMESTAMP),
        now=time.time() if now is None else now,
        tolerance_s=tolerance_s,
    )
    received = list(_candidates(_header(headers, HEADER_SIGNATURE)))
    for secret in _as_list(secrets):
        expected = _digest(secret_key(secret), msg_id, ts, body)
        if any(hmac.compare_digest(expected.encode(), r.encode()) for r in received):
            return msg_id
    raise SignatureError("no webhook-signature entry matches")
