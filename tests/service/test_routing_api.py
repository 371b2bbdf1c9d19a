"""The router inside the product: worker decisions, triage by operators, overrides, examples."""

from __future__ import annotations

from sqlmodel import select

from schemas.routing import LabelledExample
from tests.builders import SETTLEMENT, SETTLEMENT_PAGE, run_worker_burst, widget_report


async def routed(client, settings, staff, **body):
    r = await widget_report(client, **body)
    assert r.status_code == 202, r.text
    await run_worker_burst(settings)
    return (await client.get(f"/api/v1/items/{r.json()['id']}", headers=staff)).json()


async def examples(sessionmaker) -> list[LabelledExample]:
    async with sessionmaker() as s:
        return list((await s.exec(select(LabelledExample))).all())


async def test_hospital_under_village_page_goes_to_ministry(client, settings, make_user):
    op = await make_user("operator", "op_tsur")
    item = await routed(
        client,
        settings,
        op,
        text="в поликлинике в алейске запись к лору на месяц вперёд, невозможно попасть",
    )
    assert item["authority_code"] == "min_health" and item["status"] == "routed"
    d = item["decision"]
    assert d["category"] == item["category"] == "health_appointments"
    for key in (
        "actionable",
        "priority",
        "place",
        "confidence",
        "runner_up",
        "reasons",
        "version",
        "suggestions",
    ):
        assert key in d
    assert d["reasons"] and d["version"].startswith("rules-")


async def test_chatter_is_rejected_without_deadline(client, settings, make_user):
    op = await make_user("operator", "op_tsur")
    item = await routed(client, settings, op, text="Спасибо вам огромное за работу! С праздником!")
    assert item["status"] == "rejected" and item["actionable"] is False
    assert item["first_response_due_at"] is None and item["resolution_due_at"] is None
    events = (await client.get(f"/api/v1/items/{item['id']}/events", headers=op)).json()
    assert events[-1]["kind"] == "rejected" and events[-1]["data"]["reason"]


async def test_outage_is_high_priority(client, settings, make_user):
    op = await make_user("operator", "op_tsur")
    item = await routed(
        client, settings, op, text="в зональном со вчера нет воды", page_id="vk:club_d_shipunovsky"
    )
    assert item["priority"] == "high" and item["authority_code"] == "d_zonalny"


async def test_triage_then_operator_assigns(client, settings, make_user, sessionmaker):
    op = await make_user("operator", "op_tsur")
    item = await routed(
        client,
        settings,
        op,
        page_id="vk:club_gov_altai",
        text="на нашей улице яма посреди дороги, третий месяц не засыпают",
    )
    assert item["status"] == "triage" and item["authority_code"] == "op_tsur"
    assert item["first_response_due_at"] is not None  # the clock runs while it waits
    queue = (await client.get("/api/v1/triage", headers=op)).json()["items"]
    assert [i["id"] for i in queue] == [item["id"]]
    assert queue[0]["decision"]["suggestions"]
    responder = await make_user("responder", SETTLEMENT)
    body = {"authority_code": "c_biysk", "category": "roads_potholes"}
    denied = await client.post(f"/api/v1/items/{item['id']}/assign", json=body, headers=responder)
    assert denied.status_code in (403, 404)
    r = await client.post(f"/api/v1/items/{item['id']}/assign", json=body, headers=op)
    assert r.status_code == 200 and r.json()["status"] == "routed"
    assert r.json()["authority_code"] == "c_biysk"
    [ex] = await examples(sessionmaker)
    assert (ex.source, ex.authority_code, ex.category) == ("triage", "c_biysk", "roads_potholes")
    again = await client.post(f"/api/v1/items/{item['id']}/assign", json=body, headers=op)
    assert again.status_code == 409
    bad = await client.post(
        f"/api/v1/items/{item['id']}/assign",
        headers=op,
        json={"authority_code": "c_biysk", "category": "roads"},
    )
    assert bad.status_code in (409, 422)


async def test_redirect_records_labelled_example(client, settings, make_user, sessionmaker):
    staff = await make_user("responder", SETTLEMENT)
    item = await routed(client, settings, staff, text="фонарь у клуба не горит")
    await client.post(
        f"/api/v1/items/{item['id']}/redirect",
        headers=staff,
        json={"authority_code": "d_aleysky", "reason": "сети района"},
    )
    [ex] = await examples(sessionmaker)
    assert (ex.source, ex.authority_code, ex.previous_authority_code) == (
        "redirect",
        "d_aleysky",
        SETTLEMENT,
    )


async def test_overrides_take_precedence(client, settings, make_user):
    admin = await make_user("admin", "op_tsur")
    op = await make_user("operator", "op_tsur")
    text = "на павловском тракте огромные ямы, разбили колесо"
    before = await routed(client, settings, op, text=text, page_id="vk:club_gov_altai")
    assert before["status"] == "triage"
    r = await client.post(
        "/api/v1/admin/routing-overrides",
        headers=admin,
        json={
            "target_authority_code": "c_barnaul",
            "text_pattern": "павловск\\w* тракт",
            "note": "Павловский тракт — улица Барнаула",
        },
    )
    assert r.status_code == 201, r.text
    after = await routed(client, settings, op, text=text, page_id="vk:club_gov_altai")
    assert after["authority_code"] == "c_barnaul" and after["status"] == "routed"
    assert any("override" in reason for reason in after["decision"]["reasons"])
    gone = await client.delete(f"/api/v1/admin/routing-overrides/{r.json()['id']}", headers=admin)
    assert gone.json()["active"] is False
    last = await routed(client, settings, op, text=text, page_id="vk:club_gov_altai")
    assert last["status"] == "triage"


async def test_invalid_overrides_are_422(client, make_user):
    admin = await make_user("admin", "op_tsur")
    for body in (
        {"target_authority_code": "nope", "place": "Бийск"},
        {"target_authority_code": "c_biysk"},
        {"target_authority_code": "c_biysk", "text_pattern": "(("},
        {"target_authority_code": "c_biysk", "place": "Атлантида"},
        # Each matches every text: one typo would send every appeal of the region to Бийск.
        {"target_authority_code": "c_biysk", "text_pattern": ""},
        {"target_authority_code": "c_biysk", "text_pattern": ".*"},
        {"target_authority_code": "c_biysk", "text_pattern": "яма|"},
    ):
        r = await client.post("/api/v1/admin/routing-overrides", headers=admin, json=body)
        assert r.status_code == 422, (body, r.text)
    staff = await make_user("responder", SETTLEMENT)
    r = await client.get("/api/v1/admin/routing-overrides", headers=staff)
    assert r.status_code == 403


async def test_page_owner_queue_for_settlement_lighting(client, settings, make_user):
    staff = await make_user("responder", SETTLEMENT)
    item = await routed(
        client,
        settings,
        staff,
        text="на нашей улице опять темно, фонари не горят",
        page_id=SETTLEMENT_PAGE,
    )
    assert item["authority_code"] == SETTLEMENT and item["category"] == "blag_lighting"


async def test_labelled_examples_feed_training(client, settings, make_user):
    from service.classifier.db_examples import load_async

    op = await make_user("operator", "op_tsur")
    staff = await make_user("responder", SETTLEMENT)
    item = await routed(
        client,
        settings,
        op,
        page_id="vk:club_gov_altai",
        text="на нашей улице яма посреди дороги, третий месяц не засыпают",
    )
    await client.post(
        f"/api/v1/items/{item['id']}/assign",
        headers=op,
        json={"authority_code": SETTLEMENT, "category": "roads_potholes"},
    )
    await client.post(
        f"/api/v1/items/{item['id']}/redirect",
        headers=staff,
        json={"authority_code": "d_aleysky", "reason": "дороги — район"},
    )
    by_authority = await load_async("authority", settings)
    assert [(t[:10], label) for t, label, _ in by_authority] == [("на нашей у", "d_aleysky")]
    [(_, label, context)] = await load_async("category", settings)
    assert label == "roads_potholes" and context["channel"] == "widget"


async def test_override_ids_beyond_the_key_column_are_422_not_a_driver_error(client, make_user):
    admin = await make_user("admin", "op_tsur")
    huge = "2903964983680903413760"
    body = {"target_authority_code": "c_biysk", "place": "Бийск"}
    put = await client.put(f"/api/v1/admin/routing-overrides/{huge}", headers=admin, json=body)
    delete = await client.delete(f"/api/v1/admin/routing-overrides/{huge}", headers=admin)
    assert put.status_code == delete.status_code == 422, (put.text, delete.text)
    largest = await client.delete(f"/api/v1/admin/routing-overrides/{2**31 - 1}", headers=admin)
    assert largest.status_code == 404
    past = await client.delete(f"/api/v1/admin/routing-overrides/{2**31}", headers=admin)
    assert past.status_code == 422
