"""The SLA compliance report counts in the database exactly what each clock did."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from schemas.items import Item
from schemas.sla import Alert
from tests.builders import SETTLEMENT, SIBLING_SETTLEMENT, routed_item

pytestmark = pytest.mark.usefixtures("redis")

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=30)
H = dt.timedelta(hours=1)

# authority, first response (due, done), resolution (due, answered), breach alerts
CASES = [
    (SETTLEMENT, (T0 + H, T0 + H / 2), (T0 + 240 * H, T0 + 48 * H), 0),  # both on time
    (SETTLEMENT, (T0 + H, T0 + 2 * H), (T0 + 24 * H, None), 2),  # late, and still open past due
    (SETTLEMENT, (T0 + 2000 * H, None), (T0 + 3000 * H, None), 0),  # not due yet: neither
    (SIBLING_SETTLEMENT, (T0 + H, None), (T0 + 24 * H, None), 1),  # open past both deadlines
]


async def test_counts_per_authority(client, settings, make_user, sessionmaker):
    for authority, (fr_due, fr_done), (res_due, answered), breaches in CASES:
        item_id = uuid.UUID(await routed_item(client, settings))
        async with sessionmaker() as s:
            item = await s.get(Item, item_id)
            assert item is not None and item.sla is not None
            item.authority_code, item.received_at = authority, T0
            item.first_response_due_at, item.first_responded_at = fr_due, fr_done
            item.resolution_due_at, item.answered_at = res_due, answered
            s.add(item)
            for level in ["breach"] * breaches + ["warning"]:  # warnings are not counted
                s.add(
                    Alert(
                        item_id=item_id,
                        clock=f"first_response#{uuid.uuid4().hex[:4]}",
                        level=level,
                        type=f"sla.{level}",
                        authority_code=authority,
                        target_authority_code=authority,
                        due_at=fr_due,
                    )
                )
            await s.commit()
    sup = await make_user("supervisor", "d_aleysky")
    period = {"from": (T0 - 24 * H).isoformat(), "to": (T0 + 24 * H).isoformat()}
    rows = (await client.get("/api/v1/reports/sla", headers=sup, params=period)).json()["rows"]
    keys = ["group", "received", "first_response_on_time", "first_response_late"]
    keys += ["resolution_on_time", "resolution_late", "breaches"]
    keys += ["median_first_response_min", "on_time_share"]
    assert [[r[k] for k in keys] for r in rows] == [
        [SETTLEMENT, 3, 1, 1, 1, 1, 2, 75.0, 0.5],
        [SIBLING_SETTLEMENT, 1, 0, 1, 0, 1, 1, None, 0.0],
    ]
    outside = {"from": (T0 + 24 * H).isoformat(), "to": (T0 + 48 * H).isoformat()}
    assert (await client.get("/api/v1/reports/sla", headers=sup, params=outside)).json()[
        "rows"
    ] == []


@pytest.mark.parametrize("path", ["/api/v1/reports/sla", "/api/v1/sla/breaches"])
async def test_a_period_that_ends_before_it_starts_is_422(client, make_user, path):
    sup = await make_user("supervisor", "d_aleysky")
    period = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    r = await client.get(path, headers=sup, params=period)
    assert r.status_code == 422 and "after" in r.json()["detail"], r.text
