"""The routing report: how often the router's choices stood, judged by what people did next."""

from __future__ import annotations

import csv
import io

from tests.builders import DISTRICT, SETTLEMENT, SIBLING_SETTLEMENT
from tests.service.test_routing_api import routed

REPORT = "/api/v1/reports/routing"


async def test_kept_moved_triaged_and_undone_rejections(client, settings, make_user):
    op = await make_user("operator", "op_tsur")
    kept = await routed(client, settings, op)
    moved = await routed(client, settings, op, text="Не горит фонарь на Садовой, дом 3")
    chatter = await routed(client, settings, op, text="Спасибо вам огромное за работу!")
    unsure = await routed(
        client,
        settings,
        op,
        page_id="vk:club_gov_altai",
        text="на нашей улице яма посреди дороги, третий месяц не засыпают",
    )
    assert (kept["status"], moved["status"]) == ("routed", "routed")
    assert (chatter["status"], unsure["status"]) == ("rejected", "triage")
    responder = await make_user("responder", SETTLEMENT)
    r = await client.post(
        f"/api/v1/items/{moved['id']}/redirect",
        headers=responder,
        json={"authority_code": SIBLING_SETTLEMENT, "reason": "это Кировский сельсовет"},
    )
    assert r.status_code == 200, r.text
    assert (
        await client.post(f"/api/v1/items/{chatter['id']}/reopen", headers=op)
    ).status_code == 200

    by_authority = (await client.get(REPORT, params={"group_by": "authority"}, headers=op)).json()
    rows = {row["group"]: row for row in by_authority["rows"]}
    assert rows[SETTLEMENT] | {"mean_confidence": None} == {
        "group": SETTLEMENT,
        "decided": 2,
        "routed": 2,
        "triaged": 0,
        "rejected": 0,
        "moved": 1,
        "rejections_undone": 0,
        "routed_kept_share": 0.5,
        "triage_share": 0.0,
        "mean_confidence": None,
    }
    everything = (await client.get(REPORT, headers=op)).json()["rows"]
    totals = {k: sum(row[k] for row in everything) for k in ("decided", "routed", "moved")}
    assert totals == {"decided": 4, "routed": 2, "moved": 1}
    assert sum(row["triaged"] for row in everything) == 1
    assert sum(row["rejections_undone"] for row in everything) == 1
    assert {row["group"] for row in everything} <= {"rules", "model", "hint", "none"}

    r = await client.get(REPORT, params={"format": "csv", "group_by": "authority"}, headers=op)
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert {t["authority"] for t in table} >= {SETTLEMENT}


async def test_scoped_and_closed_to_responders(client, settings, make_user):
    op = await make_user("operator", "op_tsur")
    await routed(client, settings, op)
    stranger = await make_user("supervisor", "d_shipunovsky")
    assert (await client.get(REPORT, headers=stranger)).json()["rows"] == []
    own = await make_user("supervisor", DISTRICT)
    assert [r["decided"] for r in (await client.get(REPORT, headers=own)).json()["rows"]] == [1]
    responder = await make_user("responder", SETTLEMENT)
    assert (await client.get(REPORT, headers=responder)).status_code == 403
    bad = await client.get(
        REPORT, params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, headers=op
    )
    assert bad.status_code == 422 and bad.json()["field"] == "from"


async def test_a_supervisor_sees_the_misroutes_to_their_authorities(client, settings, make_user):
    op = await make_user("operator", "op_tsur")
    item = await routed(client, settings, op)
    assert item["authority_code"] == SETTLEMENT
    r = await client.post(
        f"/api/v1/items/{item['id']}/redirect",
        headers=op,
        json={"authority_code": "d_shipunovsky", "reason": "это Шипуновский район"},
    )
    assert r.status_code == 200, r.text
    own = await make_user("supervisor", DISTRICT)
    rows = (await client.get(REPORT, params={"group_by": "authority"}, headers=own)).json()["rows"]
    assert [(r["group"], r["routed"], r["moved"]) for r in rows] == [(SETTLEMENT, 1, 1)]
