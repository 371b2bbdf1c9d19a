"""The responder queue, the state machine and its audit trail."""

from __future__ import annotations

import base64
import json

import pytest

from tests.builders import routed_item, widget_report

pytestmark = pytest.mark.usefixtures("redis")


async def act(client, item_id, action, staff, body=None):
    return await client.post(f"/api/v1/items/{item_id}/{action}", headers=staff, json=body)


async def status_of(client, item_id, staff) -> str:
    r = await client.get(f"/api/v1/items/{item_id}", headers=staff)
    assert r.status_code == 200
    return str(r.json()["status"])


class TestQueue:
    async def test_routed_item_in_owner_queue(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        r = await client.get("/api/v1/queue", headers=staff)
        assert r.status_code == 200
        [item] = r.json()["items"]
        assert item["id"] == item_id and item["status"] == "routed"
        assert item["authority_code"] == "s_aleysky_kashinsky"
        assert item["first_response_due_at"] and item["resolution_due_at"]

    async def test_order_filters_and_cursor(self, client, settings, make_user):
        ids = [await routed_item(client, settings, text=f"фонарь не горит {n}") for n in range(5)]
        staff = await make_user("responder", "s_aleysky_kashinsky")
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            r = (await client.get("/api/v1/queue", headers=staff, params=params)).json()
            seen += [i["id"] for i in r["items"]]
            dues = [i["first_response_due_at"] for i in r["items"]]
            assert dues == sorted(dues)
            cursor = r["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(ids) and len(seen) == 5
        await act(client, ids[0], "claim", staff)
        r = await client.get("/api/v1/queue", headers=staff, params={"status": "in_progress"})
        assert [i["id"] for i in r.json()["items"]] == [ids[0]]
        r = await client.get("/api/v1/queue", headers=staff, params={"cursor": "garbage"})
        assert r.status_code == 422

    @pytest.mark.parametrize(
        "position",
        [
            ["2026-01-01", "00000000-0000-0000-0000-000000000000"],  # no offset
            ["0001-01-01T00:00:00+00:01", "00000000-0000-0000-0000-000000000000"],  # no UTC form
            ["9999-12-31T23:59:59-23:00", "00000000-0000-0000-0000-000000000000"],
            ["2026-01-01T00:00:00+00:00", 5],
            ["2026-01-01T00:00:00+00:00", {"a": 1}],
            ["2026-01-01T00:00:00+00:00"],
        ],
    )
    @pytest.mark.parametrize("path", ["/api/v1/queue", "/api/v1/triage"])
    async def test_a_crafted_cursor_is_422(self, client, make_user, position, path):
        cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
        staff = await make_user("operator", "op_tsur")
        r = await client.get(path, headers=staff, params={"cursor": cursor})
        assert r.status_code == 422 and "cursor" in r.json()["detail"], r.text

    async def test_supervisor_sees_subtree_operator_all(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        sup = await make_user("supervisor", "d_aleysky")
        other_sup = await make_user("supervisor", "d_shipunovsky")
        op = await make_user("operator", "op_tsur")
        for headers, expected in ((sup, [item_id]), (other_sup, []), (op, [item_id])):
            r = await client.get("/api/v1/queue", headers=headers)
            assert [i["id"] for i in r.json()["items"]] == expected

    async def test_requires_token(self, client):
        assert (await client.get("/api/v1/queue")).status_code == 401


class TestLifecycle:
    async def test_claim_reply_resolve_reopen(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        assert (await act(client, item_id, "claim", staff)).json()["status"] == "in_progress"
        r = await act(client, item_id, "reply", staff, {"text": "Разбираемся", "final": False})
        assert r.json()["status"] == "in_progress" and r.json()["first_responded_at"]
        lax = {"text": "Починили", "final": "yes"}  # closes the clock: a JSON true only
        bad = await client.post(f"/api/v1/items/{item_id}/reply", headers=staff, json=lax)
        assert bad.status_code == 422, bad.text
        r = await act(client, item_id, "reply", staff, {"text": "Починили", "final": True})
        assert r.json()["status"] == "answered"
        assert (await act(client, item_id, "resolve", staff)).json()["status"] == "closed"
        assert (await act(client, item_id, "reopen", staff)).json()["status"] == "reopened"
        events = (await client.get(f"/api/v1/items/{item_id}/events", headers=staff)).json()
        kinds = [e["kind"] for e in events]
        assert kinds == ["received", "routed", "claimed", "reply", "reply", "resolved", "reopened"]
        assert [e["to_status"] for e in events][-1] == "reopened"
        assert all(e["from_status"] for e in events[1:])

    async def test_request_info_pauses_and_claim_resumes(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        await act(client, item_id, "claim", staff)
        r = await act(client, item_id, "request-info", staff, {"question": "Какой дом?"})
        assert r.json()["status"] == "awaiting_citizen"
        assert (await act(client, item_id, "claim", staff)).json()["status"] == "in_progress"

    async def test_redirect_moves_to_other_queue(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        district = await make_user("responder", "d_aleysky")
        r = await act(
            client,
            item_id,
            "redirect",
            staff,
            {"authority_code": "d_aleysky", "reason": "дорога районная"},
        )
        assert r.json()["status"] == "routed" and r.json()["redirect_count"] == 1
        assert (await client.get(f"/api/v1/items/{item_id}", headers=staff)).status_code == 404
        q = (await client.get("/api/v1/queue", headers=district)).json()["items"]
        assert [i["id"] for i in q] == [item_id]
        bad = await act(
            client, item_id, "redirect", district, {"authority_code": "nope", "reason": "x"}
        )
        assert bad.status_code == 422

    async def test_reject_needs_reason(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        assert (await act(client, item_id, "reject", staff, {})).status_code == 422
        r = await act(client, item_id, "reject", staff, {"reason": "спам"})
        assert r.json()["status"] == "rejected"


class TestInvalidTransitions:
    @pytest.mark.parametrize(
        ("setup", "action", "body"),
        [
            ([], "resolve", None),
            ([], "reopen", None),
            (["claim", "final"], "claim", None),
            (["claim", "final"], "request-info", {"question": "?"}),
            (["reject"], "reply", {"text": "x", "final": False}),
            (["reject"], "redirect", {"authority_code": "d_aleysky", "reason": "x"}),
        ],
    )
    async def test_409_with_reason(self, client, settings, make_user, setup, action, body):
        item_id = await routed_item(client, settings)
        staff = await make_user("responder", "s_aleysky_kashinsky")
        steps = {
            "claim": ("claim", None),
            "final": ("reply", {"text": "ok", "final": True}),
            "reject": ("reject", {"reason": "спам"}),
        }
        for step in setup:
            name, step_body = steps[step]
            assert (await act(client, item_id, name, staff, step_body)).status_code == 200
        before = await status_of(client, item_id, staff)
        r = await act(client, item_id, action, staff, body)
        assert r.status_code == 409, r.text
        assert "allowed from" in r.json()["detail"]
        assert await status_of(client, item_id, staff) == before

    async def test_claim_by_another_user_conflicts(self, client, settings, make_user):
        item_id = await routed_item(client, settings)
        a = await make_user("responder", "s_aleysky_kashinsky")
        b = await make_user("responder", "s_aleysky_kashinsky")
        assert (await act(client, item_id, "claim", a)).status_code == 200
        assert (await act(client, item_id, "claim", a)).status_code == 200
        assert (await act(client, item_id, "claim", b)).status_code == 409

    async def test_new_item_cannot_be_claimed(self, client, make_user):
        r = await widget_report(client)
        op = await make_user("operator", "op_tsur")
        claim = await act(client, r.json()["id"], "claim", op)
        assert claim.status_code == 409
