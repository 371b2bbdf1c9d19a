"""The routing rule of routing.md, level by level, and the decision contract."""

from __future__ import annotations

import copy
import json

import pytest

from service.routing.decision import Decision, RouteInput
from service.routing.engine import Router


def go(router: Router, text: str, **kwargs: object) -> Decision:
    return router.route(RouteInput(text=text, **kwargs))  # type: ignore[arg-type]


# (page, text, extra input, category, authority or None for triage, priority)
WORKED_EXAMPLES = [
    (
        "vk:club_s_aleysky_kirovsky",
        "к лору в поликлинике в алейске запись на месяц вперёд",
        {},
        "health_appointments",
        "min_health",
        "normal",
    ),
    (
        "site:d-kalmansky.altai.example",
        "на нашей улице не горят фонари",
        {"channel": "widget", "lat": 52.89917, "lon": 83.54333},
        "blag_lighting",
        "d_kalmansky",
        "normal",
    ),
    (
        None,
        "улицы не чистят от снега",
        {
            "channel": "platform",
            "address": "Алейский район, с. Кашино",
            "category_hint": "roads_potholes",
        },
        "roads_snow",
        "s_aleysky_kashinsky",
        "normal",
    ),
    (
        None,
        "на центральной улице ямы",
        {"channel": "platform", "address": "Алейский район, с. Кашино"},
        "roads_potholes",
        "d_aleysky",
        "normal",
    ),
    (
        "vk:club_d_shipunovsky",
        "в зональном со вчера нет воды",
        {},
        "zhkh_water_outage",
        "d_zonalny",
        "high",
    ),
    (
        "vk:club_s_shipunovsky_samsonovsky",
        "на нашей улице опять темно, фонари не горят",
        {},
        "blag_lighting",
        "s_shipunovsky_samsonovsky",
        "normal",
    ),
    (
        "vk:club_s_shipunovsky_samsonovsky",
        "в школе нет учителя математики",
        {},
        "edu_schools",
        "d_shipunovsky",
        "normal",
    ),
    (
        "vk:club_gov_altai",
        "на нашей улице яма посреди дороги, третий месяц не засыпают",
        {},
        "roads_potholes",
        None,
        "normal",
    ),
    (
        "vk:club_gov_altai",
        "в бийске на нашей улице яма посреди дороги, третий месяц не засыпают",
        {},
        "roads_potholes",
        "c_biysk",
        "normal",
    ),
]


@pytest.mark.parametrize(
    ("page", "text", "extra", "category", "authority", "priority"), WORKED_EXAMPLES
)
def test_worked_examples_of_routing_md(
    router: Router,
    page: str | None,
    text: str,
    extra: dict[str, object],
    category: str,
    authority: str | None,
    priority: str,
) -> None:
    decision = go(router, text, page_id=page, **extra)
    assert decision.category == category
    assert decision.priority == priority
    assert decision.authority_code == authority
    assert decision.status == ("routed" if authority else "triage")


def test_regional_category_ignores_location(router: Router) -> None:
    decision = go(router, "в Кашино закрыли ФАП, фельдшера нет", page_id="vk:club_d_aleysky")
    assert (decision.category, decision.authority_code) == ("health_clinics", "min_health")
    assert decision.place == "Кашино"


def test_municipal_goes_to_the_district_of_a_settlement(router: Router) -> None:
    decision = go(router, "в Кашино нет воды третий день")
    assert (decision.authority_code, decision.priority) == ("d_aleysky", "high")


def test_settlement_level_falls_back_to_district_or_okrug(router: Router) -> None:
    assert go(router, "в Павловске не горят фонари").authority_code == "d_pavlovsky"
    assert go(router, "в Зональном не горят фонари").authority_code == "d_zonalny"
    assert go(router, "в Барнауле не горят фонари").authority_code == "c_barnaul"


def test_city_okrug_is_not_part_of_the_district_of_that_name(router: Router) -> None:
    decision = go(router, "Алейск, ул. Пионерская — нет воды", page_id="vk:club_d_aleysky")
    assert decision.authority_code == "c_aleysk"


def test_text_place_beats_page_and_page_is_the_fallback(router: Router) -> None:
    page = "vk:club_s_tselinny_marushinsky"
    assert go(router, "сломаны качели на детской площадке", page_id=page).authority_code == page[8:]
    moved = go(router, "в Шипуново сломаны качели на детской площадке", page_id=page)
    assert moved.authority_code == "d_shipunovsky"
    assert moved.place_source == "text"


def test_destination_is_not_the_location(router: Router) -> None:
    decision = go(
        router,
        "в Рубцовск ездим за продуктами, а у нас в селе магазин закрыли",
        page_id="vk:club_d_egorevsky",
    )
    assert (decision.category, decision.authority_code) == ("econ_trade", "d_egorevsky")
    assert decision.place_source == "page"


def test_point_beats_address_and_text(router: Router) -> None:
    decision = go(
        router,
        "в Бийске не горят фонари",
        channel="widget",
        lat=52.158,
        lon=82.217,
        address="г. Барнаул",
    )
    assert (decision.place, decision.place_source) == ("Шипуново", "point")
    assert decision.distance_km is not None
    assert decision.authority_code == "d_shipunovsky"


def test_other_misc_always_goes_to_triage(router: Router) -> None:
    decision = go(
        router, "прошу рассмотреть вопрос о переименовании улицы", page_id="vk:club_c_biysk"
    )
    assert (decision.category, decision.status, decision.authority_code) == (
        "other_misc",
        "triage",
        None,
    )


def test_low_confidence_goes_to_triage_with_suggestions(router: Router) -> None:
    strict = copy.copy(router)
    strict.triage_confidence = 0.999
    decision = strict.route(RouteInput("в Шипуново ямы на дороге"))
    assert decision.status == "triage"
    assert decision.authority_code is None
    assert decision.suggestions[0].authority_code == "d_shipunovsky"
    assert go(router, "в Шипуново ямы на дороге").status == "routed"


def test_ambiguous_place_without_context_is_triaged(router: Router) -> None:
    decision = go(router, "в Дружбинском сельсовете не горят фонари")
    assert decision.status == "triage"
    assert {s.authority_code for s in decision.suggestions[:2]} == {
        "s_aleysky_druzhbinsky",
        "s_tselinny_druzhbinsky",
    }


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("батареи холодные, в квартире 14 градусов", "zhkh_heating"),
        ("третий день без воды", "zhkh_water_outage"),
        ("отключили свет с утра, сидим без электричества", "zhkh_power_outage"),
        ("в подъезде сильно пахнет газом", "zhkh_gas"),
        ("провод оборвался и лежит на тротуаре", "safety_danger"),
        ("открытый люк у школы", "safety_danger"),
        ("скорая ехала три часа", "health_ambulance"),
        ("подтопило улицу, вода подходит к домам", "safety_emergency"),
    ],
)
def test_outages_and_danger_are_high_priority(router: Router, text: str, category: str) -> None:
    decision = go(router, text, page_id="vk:club_c_barnaul")
    assert (decision.category, decision.priority) == (category, "high")


def test_hot_water_is_not_an_outage(router: Router) -> None:
    decision = go(router, "нет горячей воды неделю", page_id="vk:club_c_barnaul")
    assert (decision.category, decision.priority) == ("zhkh_hot_water", "normal")


def test_decision_is_json_ready(router: Router) -> None:
    payload = go(router, "в Кашино нет воды").to_dict()
    decoded = json.loads(json.dumps(payload, ensure_ascii=False))
    for key in ("actionable", "category", "priority", "place", "authority_code", "confidence"):
        assert key in decoded
    assert {"runner_up", "reasons", "status", "suggestions", "version"} <= decoded.keys()
    assert decoded["version"].startswith("rules-")
    assert 0.0 <= decoded["confidence"] <= 1.0
    assert decoded["reasons"]


@pytest.mark.parametrize(
    "item",
    [
        RouteInput(""),
        RouteInput("\x00\x00"),
        RouteInput("<script>alert(1)</script>"),
        RouteInput("🔥🔥🔥"),
        RouteInput("нет воды", lat=float("nan"), lon=83.0),
        RouteInput("нет воды", lat=200.0, lon=500.0),
        RouteInput("нет воды", page_id="vk:club_unknown", address="   ", category_hint=" "),
        RouteInput("яма " * 1500),
    ],
)
def test_odd_input_never_raises(router: Router, item: RouteInput) -> None:
    decision = router.route(item)
    assert decision.status in {"routed", "triage", "rejected"}
    json.dumps(decision.to_dict(), ensure_ascii=False)
