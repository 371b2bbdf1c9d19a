"""SLA end to end through the API and real workers, to a webhook receiver over real HTTP."""

from __future__ import annotations

import time

from sqlmodel import func, select

from schemas.sla import Alert, AlertDelivery
from tests.builders import (
    SETTLEMENT,
    one_minute_policy,
    run_worker_burst,
    run_workers_for,
    widget_report,
)
from tests.receiver import receiver


async def endpoint(client, admin, url, secret, authority=SETTLEMENT):
    r = await client.post(
        "/api/v1/admin/alert-endpoints",
        headers=admin,
        json={
            "authority_code": authority,
            "kind": "webhook",
            "target": url,
            "secret": secret,
            "levels": ["warning", "breach", "escalation"],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def count(sessionmaker, model) -> int:
    async with sessionmaker() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


async def test_warning_and_breach_reach_the_receiver_once_each(client, settings, make_user):
    admin = await make_user("admin", "op_tsur")
    with receiver(fail_first=1) as rec:
        await one_minute_policy(client, admin, seconds=4)
        await endpoint(client, admin, rec.url, rec.secret)
        t0 = time.time()
        item_id = (await widget_report(client)).json()["id"]
        await run_workers_for(settings, 18)  # the retry comes 8-12 s after the failure
        warnings, breaches = rec.of_type("sla.warning"), rec.of_type("sla.breach")
        assert len(warnings) == 1 and len(breaches) == 1, rec.accepted
        assert all(len(v) == 1 for v in rec.accepted.values())  # one accepted per webhook-id
        assert rec.bad_signatures == 0
        first_id = rec.attempts[0][1]
        assert rec.attempts[0][2]["type"] == "sla.warning"
        assert first_id in rec.accepted  # the failed delivery was retried under the same id
        breach = breaches[0]
        assert breach["item_id"] == item_id and breach["clock"] == "first_response"
        assert breach["authority_code"] == SETTLEMENT and breach["level"] == "breach"
        breach_attempt = next(t for t, _, p in rec.attempts if p["type"] == "sla.breach")
        assert breach_attempt - t0 < 4 + 5  # deadline at +4 s, first attempt within seconds


async def test_two_workers_raise_no_duplicate_alert(client, settings, make_user, sessionmaker):
    admin = await make_user("admin", "op_tsur")
    with receiver() as rec:
        # Generous moments: each worker builds its router (about a second) before routing.
        await one_minute_policy(client, admin, seconds=6)
        await endpoint(client, admin, rec.url, rec.secret)
        for _ in range(5):
            await widget_report(client)
        await run_workers_for(settings, 9, count=2)
        assert await count(sessionmaker, Alert) == 10  # 5 items x (warning, breach)
        assert len(rec.accepted) == 10
        assert all(len(v) == 1 for v in rec.accepted.values())
        assert len(rec.attempts) == 10


async def test_redis_flushed_midway_still_alerts(client, settings, make_user, redis):
    admin = await make_user("admin", "op_tsur")
    with receiver() as rec:
        # Warning at +3 s, breach at +6 s: room for a slow machine to start the workers before
        # the deadline (a warning found only after its deadline is superseded by the breach).
        await one_minute_policy(client, admin, seconds=6)
        await endpoint(client, admin, rec.url, rec.secret)
        await widget_report(client)
        await run_worker_burst(settings, cron=False)  # routed; its SLA checks wait in Redis
        await redis.flushdb()  # ... and Redis forgets them
        await run_workers_for(settings, 9)  # only the sweep over the due column can find them
        assert len(rec.of_type("sla.warning")) == 1
        assert len(rec.of_type("sla.breach")) == 1


async def test_dead_letter_listed_and_replayed(client, settings, make_user, sessionmaker):
    admin = await make_user("admin", "op_tsur")
    op = await make_user("operator", "op_tsur")
    await one_minute_policy(client, admin, seconds=1)
    with receiver() as rec:
        url = rec.url
    # The receiver is gone: connection refused is transient; force a permanent failure instead.
    ep = await endpoint(client, admin, url.replace("/hook", "/gone"), "whsec_" + "a" * 40)
    await widget_report(client)
    await run_workers_for(settings, 3)
    async with sessionmaker() as s:
        rows = (await s.exec(select(AlertDelivery))).all()
        for d in rows:
            d.status = "dead"
            s.add(d)
        await s.commit()
    dead = await client.get("/api/v1/admin/alert-deliveries", headers=op)
    assert dead.status_code == 200 and len(dead.json()) == len(rows) >= 1
    assert dead.json()[0]["endpoint_id"] == ep["id"]
    replay = await client.post(f"/api/v1/admin/alert-deliveries/{rows[0].id}/retry", headers=op)
    assert replay.status_code == 200 and replay.json()["status"] == "pending"
    responder = await make_user("responder", SETTLEMENT)
    assert (
        await client.get("/api/v1/admin/alert-deliveries", headers=responder)
    ).status_code == 403


async def test_escalation_climbs_to_parent_then_tsur(client, settings, make_user):
    admin = await make_user("admin", "op_tsur")
    ladder = [
        {"after": {"duration": 1 / 60, "unit": "minutes"}, "to": "parent"},
        {"after": {"duration": 2 / 60, "unit": "minutes"}, "to": "tsur"},
    ]
    with receiver() as parent, receiver() as tsur:
        await one_minute_policy(client, admin, seconds=2, escalation=ladder)
        r = await client.post(
            "/api/v1/admin/alert-endpoints",
            headers=admin,
            json={
                "authority_code": "d_aleysky",
                "kind": "webhook",
                "target": parent.url,
                "secret": parent.secret,
                "levels": ["escalation"],
            },
        )
        assert r.status_code == 201
        await endpoint(client, admin, tsur.url, tsur.secret, authority="op_tsur")
        item_id = (await widget_report(client)).json()["id"]
        await run_workers_for(settings, 7)
        up = parent.of_type("sla.escalation")
        top = tsur.of_type("sla.escalation")
    assert [(e["level"], e["authority_code"], e["item_id"]) for e in up] == [
        ("escalation:1", "d_aleysky", item_id)
    ]
    assert [(e["level"], e["authority_code"]) for e in top] == [("escalation:2", "op_tsur")]
    assert parent.of_type("sla.breach") == []  # the parent gets only what it subscribed to


class _RedisDown:
    async def enqueue_job(self, *args, **kwargs):
        raise ConnectionError("redis is down")


async def test_with_redis_down_one_broken_item_does_not_stop_the_sweep(
    client, settings, make_user, sessionmaker
):
    """The sweep checks due items itself when Redis refuses them; the oldest first, so an item
    whose check fails would otherwise stop every sweep at the same place."""
    import datetime as dt
    import uuid

    from schemas.items import Item
    from tests.builders import routed_item
    from workers import sla as sla_jobs

    broken, fine = [uuid.UUID(await routed_item(client, settings)) for _ in range(2)]
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    async with sessionmaker() as s:
        for item_id, at in ((broken, long_ago), (fine, long_ago + dt.timedelta(minutes=1))):
            item = await s.get(Item, item_id)
            assert item is not None and item.sla is not None
            if item_id == broken:
                item.sla = {**item.sla, "calendar_code": "gone"}  # its check raises
            item.first_response_due_at = item.sla_next_check_at = at
            s.add(item)
        await s.commit()
    ctx = {"settings": settings, "sessionmaker": sessionmaker, "redis": _RedisDown()}
    result = await sla_jobs.sweep(ctx)
    assert result["items"] == 2 and result["inline"] == 1
    async with sessionmaker() as s:
        checked = await s.get(Item, fine)
        assert checked is not None and checked.sla_next_check_at != long_ago + dt.timedelta(
            minutes=1
        )


async def test_a_level_is_recorded_once_however_it_is_raised(
    client, settings, make_user, sessionmaker
):
    """Two checks of one due item at once wait for each other (the row lock); and an alert
    raised again without the item's own marks (what a lost update would do) meets the unique
    constraint and adds nothing."""
    import asyncio
    import datetime as dt
    import uuid

    from schemas.items import Item
    from service.db import UnitOfWork
    from service.sla import engine
    from service.sla.calendars import calendar_registry
    from service.sla.checks import check_item, raise_alert

    admin = await make_user("admin", "op_tsur")
    await one_minute_policy(client, admin, seconds=60)
    with receiver() as rec:
        await endpoint(client, admin, rec.url, rec.secret)
    item_id = uuid.UUID((await widget_report(client)).json()["id"])
    await run_worker_burst(settings, cron=False)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)

    async def check() -> int:
        async with sessionmaker() as s:
            registry = await calendar_registry(s, settings.catalog_dir)
            raised = await check_item(UnitOfWork(s, None), item_id, later, registry)
            await s.commit()
        return raised

    raised = await asyncio.gather(check(), check())
    levels = await count(sessionmaker, Alert)
    assert sorted(raised) == [0, levels] and levels >= 2  # one check raised them all
    async with sessionmaker() as s:
        item = await s.get(Item, item_id)
        assert item is not None and item.sla is not None
        registry = await calendar_registry(s, settings.catalog_dir)
        clock = item.sla["clocks"]["first_response"]
        clock["alerted"] = []  # as if the item's marks were lost
        [breach] = [
            lv
            for lv in engine._levels(item, "first_response", clock, registry)
            if lv.level == "breach"
        ]
        assert await raise_alert(s, item, breach, later) is None
        await s.rollback()
    assert await count(sessionmaker, Alert) == levels


async def test_redis_flushed_while_a_retry_waits_still_delivers_once(
    client, settings, make_user, sessionmaker, redis
):
    """The warning's first attempt fails and its retry waits in Redis as a deferred job; Redis
    forgets it. The sweep over the due deliveries sends it, once, under the same id."""
    import datetime as dt
    import uuid

    from service.db import UnitOfWork
    from service.sla.calendars import calendar_registry
    from service.sla.checks import check_item

    admin = await make_user("admin", "op_tsur")
    with receiver(fail_first=1) as rec:
        await one_minute_policy(client, admin, seconds=60)  # warning at +30 s, breach at +60 s
        await endpoint(client, admin, rec.url, rec.secret)
        item_id = uuid.UUID((await widget_report(client)).json()["id"])
        await run_worker_burst(settings, cron=False)
        async with sessionmaker() as s:  # the warning comes due, as time would bring it
            registry = await calendar_registry(s, settings.catalog_dir)
            later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)
            assert await check_item(UnitOfWork(s, None), item_id, later, registry) == 1
            for delivery in (await s.exec(select(AlertDelivery))).all():
                delivery.next_attempt_at = dt.datetime.now(dt.UTC)  # its moment, come
                s.add(delivery)
            await s.commit()
        await run_worker_burst(settings)  # the sweep sends it: 500, a retry in ~10 s
        assert len(rec.attempts) == 1 and not rec.accepted
        await redis.flushdb()  # ... and Redis forgets the retry
        await run_workers_for(settings, 16)
    assert len(rec.attempts) == 2 and rec.attempts[0][1] == rec.attempts[1][1]
    assert [len(v) for v in rec.accepted.values()] == [1]
