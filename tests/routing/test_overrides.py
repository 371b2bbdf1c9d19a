"""Routing overrides win over the rule; the most specific one wins."""

from __future__ import annotations

import pytest

from service.routing.catalog import Catalog
from service.routing.decision import RouteInput
from service.routing.engine import Router
from service.routing.overrides import OverrideTable, RoutingOverride, check_override

TRACT = RoutingOverride("tract", "c_barnaul", text_pattern=r"павловск\w* тракт")


@pytest.fixture(scope="module")
def with_tract(router: Router) -> Router:
    return router.with_overrides([TRACT])


def test_road_name_override_routes_what_the_rule_would_triage(
    router: Router, with_tract: Router
) -> None:
    item = RouteInput("на Павловском тракте яма на яме", page_id="vk:club_gov_altai")
    assert router.route(item).status == "triage"
    decision = with_tract.route(item)
    assert (decision.status, decision.authority_code) == ("routed", "c_barnaul")
    assert decision.override_id == "tract"
    assert any("override tract" in r for r in decision.reasons)


def test_override_without_category_leaves_regional_matters_alone(with_tract: Router) -> None:
    decision = with_tract.route(RouteInput("в поликлинике на Павловском тракте нет талонов"))
    assert decision.authority_code == "min_health"
    assert decision.override_id is None


def test_most_specific_override_wins(router: Router) -> None:
    place_only = RoutingOverride("kashino", "d_aleysky", place="Кашино", priority=9)
    pair = RoutingOverride(
        "kashino-snow", "s_aleysky_borovskoy", category_code="roads_snow", place="Кашино"
    )
    routed = router.with_overrides([place_only, pair])
    snow = routed.route(RouteInput("в Кашино не чистят снег"))
    assert (snow.authority_code, snow.override_id) == ("s_aleysky_borovskoy", "kashino-snow")
    lights = routed.route(RouteInput("в Кашино не горят фонари"))
    assert (lights.authority_code, lights.override_id) == ("d_aleysky", "kashino")


def test_category_override_may_redirect_a_regional_category(router: Router) -> None:
    routed = router.with_overrides(
        [RoutingOverride("ops", "op_tsur", category_code="comms_internet")]
    )
    decision = routed.route(RouteInput("нет интернета неделю"))
    assert decision.authority_code == "op_tsur"


def test_priority_breaks_ties_between_equally_specific_overrides() -> None:
    low = RoutingOverride("a", "x", place="Кашино", priority=1)
    high = RoutingOverride("b", "y", place="Кашино", priority=5)
    table = OverrideTable([low, high])
    found = table.match(
        category="roads_snow", parent_category="roads", level="settlement", place="Кашино", text=""
    )
    assert found is high


def test_override_matching_everything_is_refused() -> None:
    with pytest.raises(ValueError, match="matches everything"):
        OverrideTable([RoutingOverride("all", "c_barnaul")])


def test_with_overrides_does_not_touch_the_original(router: Router, with_tract: Router) -> None:
    assert with_tract is not router
    assert router.route(RouteInput("Павловский тракт, яма")).override_id is None


def test_check_override_reports_unusable_definitions(catalog: Catalog) -> None:
    assert check_override(TRACT, catalog) == []
    bad = RoutingOverride("bad", "nobody", category_code="nope", place="Нигде", text_pattern="(")
    problems = " ".join(check_override(bad, catalog))
    for fragment in ("nobody", "nope", "Нигде", "regular expression"):
        assert fragment in problems
    assert check_override(RoutingOverride("all", "c_barnaul"), catalog)


def test_a_pattern_that_backtracks_for_ever_is_cut_short(router: Router) -> None:
    """An administrator's pattern runs on citizens' text in the worker's event loop: a search
    past its time limit counts as no match instead of stalling routing, SLA checks and alerts
    (with the stdlib `re` this one takes minutes on 40 letters)."""
    import time

    slow = router.with_overrides([RoutingOverride("slow", "c_barnaul", text_pattern="(a|aa)+$")])
    started = time.perf_counter()
    decision = slow.route(RouteInput("яма на дороге " + "a" * 40 + "!"))
    assert time.perf_counter() - started < 2.0
    assert decision.override_id is None
    assert slow.route(RouteInput("яма на дороге aaaa")).override_id == "slow"
