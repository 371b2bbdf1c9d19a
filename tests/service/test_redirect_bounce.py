"""The A→B→A bounce rule (SPEC §5) sends a disputed item up to the lowest authority above both;
that arbiter, or the ЦУР, must then be able to place it, including with A or B."""

from __future__ import annotations

import pytest

from tests.builders import DISTRICT, SETTLEMENT, SIBLING_SETTLEMENT, routed_item

pytestmark = pytest.mark.usefixtures("redis")


async def redirect(client, item_id, staff, to) -> dict:
    r = await client.post(
        f"/api/v1/items/{item_id}/redirect",
        headers=staff,
        json={"authority_code": to, "reason": "не наше"},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def bounced_to_district(client, settings, make_user) -> str:
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    s2 = await make_user("responder", SIBLING_SETTLEMENT)
    await redirect(client, item_id, s1, SIBLING_SETTLEMENT)
    back = await redirect(client, item_id, s2, SETTLEMENT)
    assert back["authority_code"] == DISTRICT
    return item_id


@pytest.mark.parametrize("chosen", [SETTLEMENT, SIBLING_SETTLEMENT])
async def test_the_parent_places_a_bounced_item_with_either_settlement(
    client, settings, make_user, chosen
):
    item_id = await bounced_to_district(client, settings, make_user)
    district = await make_user("responder", DISTRICT)
    placed = await redirect(client, item_id, district, chosen)
    assert placed["authority_code"] == chosen
    # The settlement that declined it before sends it away again: back up to the district.
    staff = await make_user("responder", chosen)
    other = SIBLING_SETTLEMENT if chosen == SETTLEMENT else SETTLEMENT
    assert (await redirect(client, item_id, staff, other))["authority_code"] == DISTRICT


async def test_the_operator_places_an_item_where_it_was_declined(client, settings, make_user):
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    await redirect(client, item_id, s1, SIBLING_SETTLEMENT)
    operator = await make_user("operator", "op_tsur")
    assert (await redirect(client, item_id, operator, SETTLEMENT))["authority_code"] == SETTLEMENT


async def test_a_bounce_between_a_district_and_its_settlement_goes_above_the_district(
    client, settings, make_user
):
    item_id = await routed_item(client, settings)
    s1 = await make_user("responder", SETTLEMENT)
    district = await make_user("responder", DISTRICT)
    await redirect(client, item_id, s1, DISTRICT)
    await redirect(client, item_id, district, SETTLEMENT)  # the parent hands it down: stands
    back = await redirect(client, item_id, s1, DISTRICT)
    assert back["authority_code"] == "gov_altai"
