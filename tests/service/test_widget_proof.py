"""The optional ALTCHA-style proof of work of the widget."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from service.main import create_app
from service.widget.proof import check_solution, new_challenge
from tests.builders import widget_report

SECRET = b"test-secret"


def solve(challenge: dict, *, number: int | None = None) -> str:
    """What the browser widget does: find the number, send the base64 JSON."""
    if number is None:
        number = next(
            n
            for n in range(challenge["maxnumber"] + 1)
            if hashlib.sha256(f"{challenge['salt']}{n}".encode()).hexdigest()
            == challenge["challenge"]
        )
    payload = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps({**payload, "number": number}).encode()).decode()


@pytest.fixture
async def guarded(settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"widget_pow_max_number": 2000}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_off_by_default(client):
    assert (await client.get("/api/v1/widget/challenge")).status_code == 404
    assert (await widget_report(client)).status_code == 202


async def test_a_solved_challenge_admits_one_report(guarded, redis):
    challenge = (await guarded.get("/api/v1/widget/challenge")).json()
    assert challenge["algorithm"] == "SHA-256" and challenge["maxnumber"] == 2000
    payload = solve(challenge)
    first = await widget_report(guarded, key="pow-1", altcha=payload)
    assert first.status_code == 202, first.text
    # The same report retried (same key, same solution): the original answer.
    again = await widget_report(guarded, key="pow-1", altcha=payload)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    # Another report with the used solution: refused.
    other = await widget_report(guarded, key="pow-2", altcha=payload)
    assert other.status_code == 403
    assert "already used" in other.json()["detail"]


async def test_without_a_key_a_solution_admits_one_report(guarded):
    payload = solve((await guarded.get("/api/v1/widget/challenge")).json())
    assert (await widget_report(guarded, altcha=payload)).status_code == 202
    # The very same body again: without a key it would be a second item for one proof.
    again = await widget_report(guarded, altcha=payload)
    assert again.status_code == 403 and "already used" in again.json()["detail"]


async def test_missing_or_wrong_solutions_are_refused(guarded):
    assert (await widget_report(guarded)).status_code == 403
    challenge = (await guarded.get("/api/v1/widget/challenge")).json()
    wrong = solve(challenge, number=challenge["maxnumber"] + 1)
    r = await widget_report(guarded, altcha=wrong)
    assert r.status_code == 403 and "does not solve" in r.json()["detail"]
    forged = {**challenge, "signature": "0" * 64}
    assert (await widget_report(guarded, altcha=solve(forged))).status_code == 403
    assert (await widget_report(guarded, altcha="not base64!")).status_code == 403
    # Non-ASCII where hex is expected: refused, not a 500 from the constant-time comparison.
    for field in ("signature", "challenge"):
        odd = solve({**challenge, field: "Я" * 64}, number=1)
        assert (await widget_report(guarded, altcha=odd)).status_code == 403, field


def test_expired_challenges_are_refused() -> None:
    challenge = new_challenge(SECRET, 50, ttl_s=60)
    payload = solve(challenge)
    assert check_solution(SECRET, payload) == challenge["challenge"]
    expires = int(challenge["salt"].partition("?expires=")[2])
    with pytest.raises(Exception, match="expired"):
        check_solution(SECRET, payload, now=expires + 1)
    with pytest.raises(Exception, match="not issued here"):
        check_solution(b"another-secret", payload)
