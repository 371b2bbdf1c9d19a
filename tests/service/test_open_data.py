"""Per-authority SLA compliance as open data: public, a month at a time, counts only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from service.sla import open_data
from tests.builders import LAMP_TEXT, SETTLEMENT, routed_item

URL = "/api/v1/public/compliance"


@pytest.fixture(autouse=True)
def fresh_cache():
    open_data._cache.clear()
    yield
    open_data._cache.clear()


def this_month() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Barnaul")).strftime("%Y-%m")


async def test_counts_per_authority_without_a_token_and_without_personal_data(
    client, settings, make_user
):
    answered = await routed_item(client, settings, contact={"name": "Иван Петров"}, consent=True)
    await routed_item(client, settings, text=LAMP_TEXT + " Второй.")
    responder = await make_user("responder", SETTLEMENT)
    body = {"text": "Заменили", "final": True}
    assert (
        await client.post(f"/api/v1/items/{answered}/reply", headers=responder, json=body)
    ).status_code == 200
    r = await client.get(URL, params={"month": this_month()})
    assert r.status_code == 200, r.text
    [row] = [x for x in r.json()["rows"] if x["authority_code"] == SETTLEMENT]
    assert row["received"] == 2 and row["authority_name"]
    assert (row["first_response_on_time"], row["resolution_on_time"]) == (1, 1)
    assert r.json()["time_zone"] == "Asia/Barnaul"
    assert "Петров" not in r.text and "фонарь" not in r.text.lower() and answered not in r.text
    table = list(
        csv.DictReader(
            io.StringIO(
                (await client.get(URL, params={"month": this_month(), "format": "csv"})).text
            )
        )
    )
    assert [t["received"] for t in table if t["authority_code"] == SETTLEMENT] == ["2"]


async def test_a_month_is_cached_for_a_while(client, settings):
    await routed_item(client, settings)
    first = (await client.get(URL, params={"month": this_month()})).json()
    await routed_item(client, settings, text=LAMP_TEXT + " Ещё один.")
    assert (await client.get(URL, params={"month": this_month()})).json() == first
    open_data._cache.clear()
    again = (await client.get(URL, params={"month": this_month()})).json()
    assert (
        sum(r["received"] for r in again["rows"]) == sum(r["received"] for r in first["rows"]) + 1
    )


async def test_the_month_is_checked(client):
    for wrong in ("2026-13", "1999-01", "abc", "2999-01"):
        r = await client.get(URL, params={"month": wrong})
        assert r.status_code == 422 and r.json()["field"] == "month", (wrong, r.text)
    default = (await client.get(URL)).json()
    first = dt.datetime.now(ZoneInfo("Asia/Barnaul")).date().replace(day=1)
    assert default["month"] == (first - dt.timedelta(days=1)).strftime("%Y-%m")
