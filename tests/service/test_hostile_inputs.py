"""Requests a fuzzing round (session 11) turned into 500s or silent acceptance: each is now a
clear 4xx problem+json, the same on both databases."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.builders import SETTLEMENT, SETTLEMENT_PAGE, comment
from tests.service.test_widget_proof import guarded  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("redis")
PROBLEM = "application/problem+json"
DEEP = "[" * 2000


def is_problem(r, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["detail"]


async def test_a_cursor_nested_past_the_parsers_depth(client, make_user):
    staff = await make_user("responder", SETTLEMENT)
    deep = base64.urlsafe_b64encode(DEEP[:150].encode()).decode()
    is_problem(await client.get("/api/v1/queue", params={"cursor": deep}, headers=staff), 422)
    deeper = base64.urlsafe_b64encode(DEEP.encode()).decode()
    is_problem(await client.get("/api/v1/queue", params={"cursor": deeper}, headers=staff), 422)


async def test_admin_writes_with_a_body_that_is_not_json(client, make_user):
    admin = await make_user("admin", "op_tsur")
    headers = {**admin, "Content-Type": "text/plain"}
    r = await client.patch(
        "/api/v1/admin/categories/blag_lighting", content=DEEP.encode(), headers=headers
    )
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "body",
    [
        {"weekly": []},
        {"weekly": ["mon"]},
        {"name": 5},
        {"overrides": {"2026-01-01": "holiday"}},
        {"overrides": ["2026-01-01"]},
        {"weekly": {"mon": [[9, 18]]}},
        {"weekly": {"mon": [[None, None]]}},
        {"overrides": [{"date": "2027-01-04", "kind": "custom", "intervals": [[9, 13]]}]},
    ],
)
async def test_a_calendar_of_the_wrong_shape(client, make_user, body):
    admin = await make_user("admin", "op_tsur")
    is_problem(await client.put("/api/v1/admin/calendars/odd", json=body, headers=admin), 422)


async def test_a_pattern_with_clashing_regex_flags(client, make_user):
    admin = await make_user("admin", "op_tsur")
    body = {"target_authority_code": "c_barnaul", "text_pattern": "(?V1)x"}
    r = await client.post("/api/v1/admin/routing-overrides", json=body, headers=admin)
    is_problem(r, 422)


@pytest.mark.parametrize(
    "payload",
    [
        DEEP,
        json.dumps(
            {"algorithm": "SHA-256", "challenge": "x", "number": 1, "salt": "s?expires=\u00b2"}
            | {"signature": "x"}
        ),
        json.dumps(
            {"algorithm": "SHA-256", "challenge": "x", "number": 1}
            | {"salt": f"s?expires={int(time.time()) + 600}", "signature": "\ud800"}
        ),
        json.dumps({"algorithm": "SHA-256", "challenge": 5, "number": 1, "salt": 7}),
    ],
)
async def test_a_proof_of_work_that_was_never_issued(guarded, payload):  # noqa: F811
    altcha = base64.b64encode(payload.encode("utf-8", "surrogatepass")).decode()
    body = {"page_id": SETTLEMENT_PAGE, "text": "Не горит фонарь", "altcha": altcha}
    is_problem(await guarded.post("/api/v1/widget/reports", json=body), 403)


async def test_clocks_too_long_to_lay_out(client, make_user):
    admin = await make_user("admin", "op_tsur")
    sparse = {"weekly": {"sun": ["00:00-00:01"]}, "production_calendar": None}
    r = await client.put("/api/v1/admin/calendars/sparse", json=sparse, headers=admin)
    assert r.status_code == 200, r.text
    policy = {
        "name": "forever",
        "match": {"authority_code": SETTLEMENT},
        "calendar": "sparse",
        "first_response": {"duration": 100000, "unit": "working_hours"},
        "resolution": {"duration": 100000, "unit": "working_days"},
    }
    started = time.monotonic()
    r = await client.post("/api/v1/admin/sla-policies", json=policy, headers=admin)
    is_problem(r, 422)
    assert "ten years" in r.json()["detail"] and time.monotonic() - started < 2
    # Within the caps, but the sparse calendar puts the deadline past the stored range.
    policy |= {"first_response": {"duration": 1, "unit": "working_hours"}}
    policy |= {"resolution": {"duration": 20000, "unit": "working_hours"}}
    r = await client.post("/api/v1/admin/sla-policies", json=policy, headers=admin)
    is_problem(r, 422)
    assert "after 2998" in r.json()["detail"]


async def test_a_calendar_edit_that_would_break_a_policy_is_refused(client, make_user):
    """Otherwise the policy's next item fails its routing job and stays `new`."""
    admin = await make_user("admin", "op_tsur")
    week = {"weekly": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    assert (await client.put("/api/v1/admin/calendars/cx", json=week, headers=admin)).is_success
    policy = {
        "name": "long",
        "match": {"authority_code": SETTLEMENT},
        "calendar": "cx",
        "first_response": {"duration": 2, "unit": "working_days"},
        "resolution": {"duration": 20000, "unit": "working_hours"},
    }
    r = await client.post("/api/v1/admin/sla-policies", json=policy, headers=admin)
    assert r.status_code == 201, r.text
    sparse = {"weekly": {"sun": ["00:00-00:01"]}, "production_calendar": None}
    r = await client.put("/api/v1/admin/calendars/cx", json=sparse, headers=admin)
    is_problem(r, 422)
    assert "'long'" in r.json()["detail"] and "resolution" in r.json()["detail"]


async def test_a_refused_cors_preflight_is_a_problem(client):
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    r = await client.options("/api/v1/widget/reports", headers=preflight)
    is_problem(r, 400)
    assert "origin" in r.json()["detail"] and "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("comment_id", "5\x00"),
        ("post_id", "1\n2"),
        ("page_id", SETTLEMENT_PAGE + "\x00"),
        ("reply_to", "9\x00"),
        ("author", {"id": "4\x002", "name": "Мария"}),
    ],
)
async def test_identifiers_with_control_characters(client, make_user, field, value):
    svc = await make_user("service", "op_tsur")
    r = await client.post("/api/v1/ingest/comments", json=comment(**{field: value}), headers=svc)
    is_problem(r, 422)
    assert "control characters" in r.text


async def test_a_platform_message_id_with_a_nul(client, make_user):
    svc = await make_user("service", "op_tsur")
    body = {"external_id": "pos-\x00", "text": "Яма на дороге"}
    r = await client.post("/api/v1/ingest/platform-messages", json=body, headers=svc)
    is_problem(r, 422)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"page_id": "x", "text": "\xff\xfe"}',
        ("[" * 5000).encode(),
        b'{"page_id": "x", "text": "t", "location": {"lat": ' + b"9" * 5000 + b', "lon": 1}}',
    ],
)
async def test_a_body_that_cannot_be_decoded_is_a_clear_422(client, raw):
    headers = {"Content-Type": "application/json"}
    r = await client.post("/api/v1/widget/reports", content=raw, headers=headers)
    is_problem(r, 422)
    assert "UTF-8" in r.json()["detail"] or "JSON" in r.text


async def test_an_unknown_priority_filter(client, make_user):
    staff = await make_user("responder", SETTLEMENT)
    r = await client.get("/api/v1/queue", params={"priority": "urgent"}, headers=staff)
    is_problem(r, 422)


async def test_an_escalation_step_is_checked_from_the_deadline_it_follows(client, make_user):
    """The engine times escalation steps from the clock's deadline, not from its start: a step
    that fits from the start may run past the stored range from there."""
    admin = await make_user("admin", "op_tsur")
    rare = {"weekly": {"mon": ["09:00-09:01"]}, "production_calendar": None}
    assert (await client.put("/api/v1/admin/calendars/rare", json=rare, headers=admin)).is_success
    policy = {
        "name": "late escalation",
        "match": {"authority_code": SETTLEMENT},
        "calendar": "rare",
        "first_response": {"duration": 1, "unit": "working_hours"},
        "resolution": {"duration": 838, "unit": "working_hours"},
        "escalation": [{"after": {"duration": 200, "unit": "working_hours"}, "to": "parent"}],
    }
    r = await client.post("/api/v1/admin/sla-policies", json=policy, headers=admin)
    is_problem(r, 422)
    assert r.json()["field"] == "escalation.0.after"


async def test_a_number_is_no_date_in_a_query(client, make_user):
    boss = await make_user("supervisor", SETTLEMENT)
    for value in ("0.5", "2026", "-1"):
        r = await client.get("/api/v1/reports/sla", params={"to": value}, headers=boss)
        is_problem(r, 422)
    r = await client.get("/api/v1/reports/sla", params={"to": "2026-11-01"}, headers=boss)
    assert r.status_code == 200, r.text


async def test_alert_targets_and_origins_out_of_range(client, make_user):
    admin = await make_user("admin", "op_tsur")
    body = {"authority_code": SETTLEMENT, "kind": "telegram", "target": str(2**63)}
    r = await client.post("/api/v1/admin/alert-endpoints", json=body, headers=admin)
    is_problem(r, 422)
    body["target"] = str(-(2**62))
    r = await client.post("/api/v1/admin/alert-endpoints", json=body, headers=admin)
    assert r.status_code == 201, r.text
    for origin in ("https://x.ru:99999", "https://x.ru:0", "https://x.ru:065535"):
        r = await client.patch(
            f"/api/v1/admin/pages/{SETTLEMENT_PAGE}",
            json={"allowed_origins": [origin]},
            headers=admin,
        )
        is_problem(r, 422)
