"""Optional proof of work for the widget, in the ALTCHA format (off unless configured).

`GET /api/v1/widget/challenge` hands out {algorithm, challenge, maxnumber, salt, signature}: the
challenge is SHA-256(salt + number) for a secret random number up to `maxnumber`, the salt
carries its expiry (`?expires=UNIX`), and the signature is an HMAC of the challenge with the
service's secret, so nothing is stored until a solution comes back. The browser finds the number
(tens of milliseconds for a person, real cost for a bot posting thousands) and sends
base64(JSON {algorithm, challenge, number, salt, signature}) as the report's `altcha` field.

A solution is good for one report: its challenge is remembered in Redis until it expires, tied to
the report's Idempotency-Key, so a retry of the same report passes and another report with the
same solution does not. Redis down: the check of reuse fails open, like the rate limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import structlog

from service.clients.redis import QueueClient
from service.errors import Forbidden
from service.queue import INTAKE_REDIS_TIMEOUT_S

log = structlog.get_logger()
ALGORITHM = "SHA-256"


def _sign(secret: bytes, challenge: str) -> str:
    return hmac.new(secret, challenge.encode(), hashlib.sha256).hexdigest()


def _hash(salt: str, number: int) -> str:
    return hashlib.sha256(f"{salt}{number}".encode()).hexdigest()


def new_challenge(secret: bytes, max_number: int, ttl_s: int) -> dict[str, Any]:
    salt = f"{secrets.token_hex(12)}?expires={int(time.time()) + ttl_s}"
    challenge = _hash(salt, secrets.randbelow(max_number + 1))
    return {
        "algorithm": ALGORITHM,
        "challenge": challenge,
        "maxnumber": max_number,
        "salt": salt,
        "signature": _sign(secret, challenge),
    }


def _decode(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise Forbidden("the proof of work (altcha) is not base64 JSON") from None
    if not isinstance(data, dict):
        raise Forbidden("the proof of work (altcha) is not a JSON object")
    return data


def _ascii(data: dict[str, Any], key: str) -> str:
    # What we issued is ASCII; anything else («²» passes isdigit, a lone surrogate cannot be
    # encoded) was not issued here.
    value = data.get(key)
    if not isinstance(value, str) or not value.isascii():
        raise Forbidden(f"the proof of work (altcha) has no {key}")
    return value


def check_solution(secret: bytes, payload: str | None, now: float | None = None) -> str:
    """The solved challenge, or 403 saying what is wrong with the solution."""
    if not payload:
        raise Forbidden("this widget needs a proof of work: GET /api/v1/widget/challenge")
    data = _decode(payload)
    number = data.get("number")
    if data.get("algorithm") != ALGORITHM or not isinstance(number, int):
        raise Forbidden("the proof of work (altcha) has no SHA-256 number")
    challenge, salt, signature = (_ascii(data, k) for k in ("challenge", "salt", "signature"))
    expires = salt.partition("?expires=")[2]
    if not expires.isdigit() or int(expires) < (now or time.time()):
        raise Forbidden("the proof-of-work challenge has expired: fetch a new one")
    # Bytes: compare_digest refuses str with non-ASCII characters, which a client may send.
    if not hmac.compare_digest(_sign(secret, challenge).encode(), signature.encode()):
        raise Forbidden("the proof-of-work challenge was not issued here")
    if not hmac.compare_digest(_hash(salt, number).encode(), challenge.encode()):
        raise Forbidden("the proof of work does not solve its challenge")
    return challenge


async def claim(queue: QueueClient, challenge: str, holder: str, ttl_s: int) -> None:
    """One report per solution: the first holder keeps it; a retry by the same holder passes."""
    key = f"altcha:{challenge}"
    try:
        async with asyncio.timeout(INTAKE_REDIS_TIMEOUT_S):
            redis = await queue.pool()
            if await redis.set(key, holder, ex=ttl_s, nx=True):
                return
            owner = await redis.get(key)
    except Exception as exc:  # a TimeoutError too: a paused Redis must not hold intake
        log.warning("altcha.replay_check_unavailable", error=repr(exc)[:200])
        return
    if owner is None or owner.decode() != holder:
        raise Forbidden("this proof of work was already used: fetch a new challenge")
