"""SLA through the API: policies, pinned clocks, pauses, redirects, calendars, reports."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from schemas.items import Item
from tests.builders import SETTLEMENT, routed_item


def policy(**extra):
    return {
        "name": f"p-{uuid.uuid4().hex[:6]}",
        "match": {"authority_code": SETTLEMENT},
        "calendar": "24x7",
        "first_response": {"duration": 2, "unit": "hours"},
        "resolution": {"duration": 10, "unit": "hours"},
        **extra,
    }


async def item_row(sessionmaker, item_id) -> Item:
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
    assert item is not None
    return item


def hours_between(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 3600


class TestPolicies:
    async def test_create_list_update_version(self, client, make_user):
        admin = await make_user("admin", "op_tsur")
        r = await client.post("/api/v1/admin/sla-policies", json=policy(), headers=admin)
        assert r.status_code == 201
        body = r.json()
        assert body["version"] == 1 and body["warn_at"] == 0.75
        assert body["on_redirect"] == "continue" and body["escalation"]
        upd = await client.put(
            f"/api/v1/admin/sla-policies/{body['id']}",
            json=policy(name=body["name"], warn_at=0.5),
            headers=admin,
        )
        assert upd.json()["version"] == 2
        listed = await client.get("/api/v1/admin/sla-policies", headers=admin)
        assert [p["id"] for p in listed.json()] == [body["id"]]

    @pytest.mark.parametrize(
        "bad",
        [
            {"calendar": "mars"},
            {"warn_at": 1.5},
            {"on_redirect": "teleport"},
            {"first_response": {"duration": 0, "unit": "hours"}},
            {"first_response": {"duration": 1.5, "unit": "working_days"}},
            {"match": {"category": "nope"}},
            {"match": {"authority_code": "nope"}},
            {"resolution": {"duration": 1, "unit": "fortnights"}},
            {"first_response": {"duration": 2, "unit": "working_days"}},  # after resolution
            # Accepted, it failed every routing job of the items it matched (they stayed `new`).
            {"escalation": [{"after": {"duration": 0.5, "unit": "working_days"}}]},
        ],
    )
    async def test_invalid_policies_are_422(self, client, make_user, bad):
        admin = await make_user("admin", "op_tsur")
        r = await client.post("/api/v1/admin/sla-policies", json=policy(**bad), headers=admin)
        assert r.status_code == 422, r.text
        created = await client.post("/api/v1/admin/sla-policies", json=policy(), headers=admin)
        r = await client.put(
            f"/api/v1/admin/sla-policies/{created.json()['id']}",
            json=policy(**bad),
            headers=admin,
        )
        assert r.status_code == 422, r.text

    async def test_a_bad_escalation_step_is_named(self, client, make_user):
        admin = await make_user("admin", "op_tsur")
        steps = [{"after": {"duration": 1, "unit": "hours"}}]
        steps.append({"after": {"duration": 0.5, "unit": "working_days"}})
        r = await client.post(
            "/api/v1/admin/sla-policies", json=policy(escalation=steps), headers=admin
        )
        assert r.status_code == 422 and "escalation.1.after" in r.text, r.text

    async def test_only_admins(self, client, make_user):
        op = await make_user("operator", "op_tsur")
        r = await client.post("/api/v1/admin/sla-policies", json=policy(), headers=op)
        assert r.status_code == 403

    async def test_renaming_onto_another_policys_name_is_409(self, client, make_user):
        admin = await make_user("admin", "op_tsur")
        first = (
            await client.post("/api/v1/admin/sla-policies", json=policy(), headers=admin)
        ).json()
        second = (
            await client.post("/api/v1/admin/sla-policies", json=policy(), headers=admin)
        ).json()
        r = await client.put(
            f"/api/v1/admin/sla-policies/{second['id']}",
            json=policy(name=first["name"]),
            headers=admin,
        )
        assert r.status_code == 409 and first["name"] in r.json()["detail"], r.text

    @pytest.mark.parametrize("policy_id", ["0", "2147483648", "9223372036854775806", "3" * 22])
    async def test_ids_outside_the_key_column_are_422(self, client, make_user, policy_id):
        admin = await make_user("admin", "op_tsur")
        r = await client.put(
            f"/api/v1/admin/sla-policies/{policy_id}", json=policy(), headers=admin
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"


class TestClocks:
    async def test_policy_pinned_and_deadlines_stored(
        self, client, settings, make_user, sessionmaker
    ):
        admin = await make_user("admin", "op_tsur")
        created = (
            await client.post("/api/v1/admin/sla-policies", json=policy(), headers=admin)
        ).json()
        item_id = await routed_item(client, settings)
        item = await item_row(sessionmaker, item_id)
        assert item.sla is not None and item.sla["policy_id"] == created["id"]
        assert item.sla["policy_version"] == 1
        assert hours_between(item.received_at, item.first_response_due_at) == pytest.approx(2)
        assert hours_between(item.received_at, item.resolution_due_at) == pytest.approx(10)
        await client.put(
            f"/api/v1/admin/sla-policies/{created['id']}",
            headers=admin,
            json=policy(name=created["name"], first_response={"duration": 9, "unit": "hours"}),
        )
        again = await item_row(sessionmaker, item_id)
        assert again.first_response_due_at == item.first_response_due_at  # pinned

    async def test_default_from_category_on_authority_calendar(
        self, client, settings, sessionmaker
    ):
        item_id = await routed_item(client, settings)
        item = await item_row(sessionmaker, item_id)
        assert item.sla["name"] == "default:blag_lighting"
        assert item.sla["calendar_code"] == "altai"
        assert hours_between(item.received_at, item.first_response_due_at) == pytest.approx(24)
        local = item.resolution_due_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
        assert local.hour in (17, 18) and local.minute == 0  # end of business in Barnaul

    async def test_first_reply_stops_first_clock_final_stops_both(
        self, client, settings, make_user, sessionmaker
    ):
        staff = await make_user("responder", SETTLEMENT)
        item_id = await routed_item(client, settings)
        await client.post(
            f"/api/v1/items/{item_id}/reply",
            headers=staff,
            json={"text": "Принято", "final": False},
        )
        item = await item_row(sessionmaker, item_id)
        assert item.sla["clocks"]["first_response"]["stopped_at"] is not None
        assert item.sla["clocks"]["resolution"]["stopped_at"] is None
        assert item.next_due_at == item.resolution_due_at
        await client.post(
            f"/api/v1/items/{item_id}/reply", headers=staff, json={"text": "Готово", "final": True}
        )
        item = await item_row(sessionmaker, item_id)
        assert item.sla["clocks"]["resolution"]["stopped_at"] is not None
        assert item.sla_next_check_at is None

    async def test_request_info_pauses_resolution_clock(
        self, client, settings, make_user, sessionmaker
    ):
        admin = await make_user("admin", "op_tsur")
        await client.post("/api/v1/admin/sla-policies", json=policy(), headers=admin)
        staff = await make_user("responder", SETTLEMENT)
        item_id = await routed_item(client, settings)
        await client.post(f"/api/v1/items/{item_id}/claim", headers=staff)
        before = (await item_row(sessionmaker, item_id)).resolution_due_at
        await client.post(
            f"/api/v1/items/{item_id}/request-info",
            headers=staff,
            json={"question": "Уточните номер дома"},
        )
        paused = await item_row(sessionmaker, item_id)
        assert paused.sla["clocks"]["resolution"]["paused_at"] is not None
        # The question is the citizen's first answer: that clock stops.
        assert paused.sla["clocks"]["first_response"]["stopped_at"] is not None
        assert paused.first_responded_at is not None
        assert paused.sla_next_check_at is not None  # the pause's expiry
        # Pretend the citizen took an hour: move the pause start back, then resume.
        async with sessionmaker() as s:
            row = await s.get(Item, paused.id)
            sla = dict(row.sla)
            clocks = {k: dict(v) for k, v in sla["clocks"].items()}
            start = dt.datetime.fromisoformat(clocks["resolution"]["paused_at"])
            clocks["resolution"]["paused_at"] = (start - dt.timedelta(hours=1)).isoformat()
            row.sla = {**sla, "clocks": clocks}
            s.add(row)
            await s.commit()
        await client.post(f"/api/v1/items/{item_id}/claim", headers=staff)
        after = await item_row(sessionmaker, item_id)
        assert hours_between(before, after.resolution_due_at) == pytest.approx(1, abs=0.01)
        assert after.sla["clocks"]["resolution"]["paused_at"] is None

    @pytest.mark.parametrize("mode", ["continue", "restart", "pause"])
    async def test_redirect_modes(self, client, settings, make_user, sessionmaker, mode):
        admin = await make_user("admin", "op_tsur")
        await client.post(
            "/api/v1/admin/sla-policies", json=policy(on_redirect=mode), headers=admin
        )
        staff = await make_user("responder", SETTLEMENT)
        item_id = await routed_item(client, settings)
        before = await item_row(sessionmaker, item_id)
        r = await client.post(
            f"/api/v1/items/{item_id}/redirect",
            headers=staff,
            json={"authority_code": "d_aleysky", "reason": "районное"},
        )
        assert r.status_code == 200
        after = await item_row(sessionmaker, item_id)
        clock = after.sla["clocks"]["resolution"]
        if mode == "continue":
            assert after.resolution_due_at == before.resolution_due_at
        elif mode == "restart":
            assert after.resolution_due_at > before.resolution_due_at
            assert clock["generation"] == 2
        else:
            assert clock["paused_at"] is not None
            district = await make_user("responder", "d_aleysky")
            await client.post(f"/api/v1/items/{item_id}/claim", headers=district)
            resumed = await item_row(sessionmaker, item_id)
            assert resumed.sla["clocks"]["resolution"]["paused_at"] is None
            assert resumed.resolution_due_at >= before.resolution_due_at

    async def test_bounce_goes_to_common_parent(self, client, settings, make_user):
        a = await make_user("responder", SETTLEMENT)
        b = await make_user("responder", "s_aleysky_kirovsky")
        item_id = await routed_item(client, settings)
        await client.post(
            f"/api/v1/items/{item_id}/redirect",
            headers=a,
            json={"authority_code": "s_aleysky_kirovsky", "reason": "ваше"},
        )
        r = await client.post(
            f"/api/v1/items/{item_id}/redirect",
            headers=b,
            json={"authority_code": SETTLEMENT, "reason": "нет, ваше"},
        )
        body = r.json()
        assert body["authority_code"] == "d_aleysky" and body["redirect_count"] == 2
        events = (
            await client.get(
                f"/api/v1/items/{item_id}/events", headers=await make_user("operator", "op_tsur")
            )
        ).json()
        assert events[-1]["data"]["bounce"] is True


class TestCalendarsAndReports:
    async def test_calendar_override_moves_deadlines(self, client, make_user):
        admin = await make_user("admin", "op_tsur")
        r = await client.post(
            "/api/v1/admin/calendars/altai/overrides",
            headers=admin,
            json={"date": "2026-12-01", "kind": "non_working", "note": "региональный выходной"},
        )
        assert r.status_code == 200
        assert r.json()["spec"]["overrides"][0]["date"] == "2026-12-01"
        cals = (await client.get("/api/v1/admin/calendars", headers=admin)).json()
        assert {c["code"] for c in cals} >= {"altai", "24x7"}
        bad = await client.put("/api/v1/admin/calendars/x", headers=admin, json={"tz": "Mars/X"})
        assert bad.status_code == 422
        gone = await client.delete(
            "/api/v1/admin/calendars/altai/overrides/2026-12-01", headers=admin
        )
        assert gone.json()["spec"]["overrides"] == []
        again = await client.delete(
            "/api/v1/admin/calendars/altai/overrides/2026-12-01", headers=admin
        )
        assert again.status_code == 404, again.text

    @pytest.mark.parametrize("code", ["24x7", "altai", "closed"])
    async def test_a_calendar_with_no_working_time_is_refused(self, client, make_user, code):
        """Every item of an authority on it would fail its routing job and stay `new`."""
        admin = await make_user("admin", "op_tsur")
        week = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        r = await client.put(
            f"/api/v1/admin/calendars/{code}",
            headers=admin,
            json={"code": code, "tz": "Asia/Barnaul", "weekly": week},
        )
        assert r.status_code == 422 and "no working time" in r.text, r.text
        cals = (await client.get("/api/v1/admin/calendars", headers=admin)).json()
        assert code not in {c["code"] for c in cals if c["version"]}

    async def test_report_json_and_csv(self, client, settings, make_user):
        staff = await make_user("responder", SETTLEMENT)
        sup = await make_user("supervisor", "d_aleysky")
        item_id = await routed_item(client, settings)
        await routed_item(client, settings)
        await client.post(
            f"/api/v1/items/{item_id}/reply", headers=staff, json={"text": "ok", "final": True}
        )
        r = await client.get("/api/v1/reports/sla", headers=sup)
        [row] = r.json()["rows"]
        assert row["group"] == SETTLEMENT and row["received"] == 2
        assert row["first_response_on_time"] == 1 and row["on_time_share"] == 1.0
        assert row["median_first_response_min"] is not None
        csv = await client.get("/api/v1/reports/sla", headers=sup, params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0].startswith("authority,received,")
        other = await make_user("supervisor", "d_shipunovsky")
        assert (await client.get("/api/v1/reports/sla", headers=other)).json()["rows"] == []
        breaches = await client.get("/api/v1/sla/breaches", headers=sup)
        assert breaches.status_code == 200 and breaches.json() == []
