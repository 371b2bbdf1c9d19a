"""Points in time from clients: only years the service can store pass, and a body's times need
an offset (a query's bare date or time is the region's); else a 422, never a 500."""

from __future__ import annotations

import pytest

from tests.builders import comment

NO_UTC_FORM = "0001-01-01T00:00:00+00:01"  # converting it to UTC leaves year 1
PAST_SENTINEL = "9999-12-31T23:59:59-01:00"
NAIVE = "2026-01-01T00:00:00"
BAD = [NO_UTC_FORM, PAST_SENTINEL, NAIVE, "1969-12-31T23:59:59Z"]


@pytest.mark.parametrize("value", [NO_UTC_FORM, PAST_SENTINEL, "1969-12-31T23:59:59Z"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/queue?due_before={}", "/api/v1/sla/breaches?from={}", "/api/v1/reports/sla?to={}"],
)
async def test_query_dates(client, make_user, path, value):
    op = await make_user("operator", "op_tsur")
    r = await client.get(path.format(value.replace("+", "%2B")), headers=op)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_query_dates_with_an_offset_pass(client, make_user):
    op = await make_user("operator", "op_tsur")
    for path in ("/api/v1/queue?due_before=", "/api/v1/sla/breaches?from="):
        r = await client.get(path + "2026-11-20T10:00:00%2B07:00", headers=op)
        assert r.status_code == 200, r.text


async def test_a_bare_date_in_a_query_is_the_regions_midnight(client, make_user):
    op = await make_user("operator", "op_tsur")
    r = await client.get("/api/v1/reports/sla?from=2026-11-01&to=2026-12-01T00:00", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["from"] == "2026-11-01T00:00:00+07:00"
    assert r.json()["to"] == "2026-12-01T00:00:00+07:00"
    for path in ("/api/v1/queue?due_before=", "/api/v1/sla/breaches?from="):
        assert (await client.get(path + NAIVE, headers=op)).status_code == 200


@pytest.mark.parametrize("value", BAD)
async def test_body_dates(client, make_user, value):
    service = await make_user("service", "op_tsur")
    r = await client.post(
        "/api/v1/ingest/comments", json=comment(created_at=value), headers=service
    )
    assert r.status_code == 422, r.text
    assert "created_at" in r.json()["detail"]
    platform = {"external_id": "pos-d", "text": "Яма на дороге", "deadline": value}
    r = await client.post("/api/v1/ingest/platform-messages", json=platform, headers=service)
    assert r.status_code == 422, r.text
    assert "deadline" in r.json()["detail"]
