from __future__ import annotations

from service.routing.catalog import Authority, Catalog, Category, Page, Place


def test_seed_catalog_loads_and_is_consistent(catalog: Catalog) -> None:
    assert len(catalog.authorities) == 188
    assert len(catalog.places) == 244
    assert len(catalog.categories) == 76
    assert len(catalog.pages) == 352
    assert catalog.validate() == []


def test_lookups(catalog: Catalog) -> None:
    kashino = catalog.place("Кашино")
    assert kashino is not None
    assert (kashino.authority_code, kashino.district_code) == ("s_aleysky_kashinsky", "d_aleysky")
    assert "с. Кашино" in kashino.aliases
    assert catalog.authority("s_aleysky_kashinsky").kind == "settlement"  # type: ignore[union-attr]
    heating = catalog.category("zhkh_heating")
    assert heating is not None
    assert (heating.level, heating.priority, heating.first_response_hours) == (
        "municipal",
        "high",
        4,
    )
    assert catalog.page("vk:club_gov_altai").authority_code == "gov_altai"  # type: ignore[union-attr]
    assert "roads_snow" in catalog.subcategories("roads")
    assert catalog.place("Нигдеево") is None


def test_catalog_from_plain_lists_reports_broken_references() -> None:
    catalog = Catalog(
        authorities=[
            Authority("d_x", "X район", "municipal_district", "gov", None, "Asia/Barnaul")
        ],
        places=[Place("Икс", "village", "d_x", "d_missing", None, None, ("Икс",))],
        categories=[Category("c", "C", "p", "regional", None, "normal", 30, 24, ())],
        pages=[Page("vk:club_x", "vk", "X", "d_x")],
    )
    problems = catalog.validate()
    assert any("d_missing" in p for p in problems)
    assert any("bad regional authority" in p for p in problems)
