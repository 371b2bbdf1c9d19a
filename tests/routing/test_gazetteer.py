"""Place resolution: inflections, typos, longest match, streets, roles, coordinates, addresses."""

from __future__ import annotations

import pytest

from service.routing.gazetteer import Gazetteer, Mention
from service.routing.location import LocationResolver
from service.routing.text import tokenize


def found(gazetteer: Gazetteer, text: str) -> list[Mention]:
    return gazetteer.mentions(tokenize(text))


def names(gazetteer: Gazetteer, text: str, role: str = "location") -> list[str]:
    return [m.places[0].place for m in found(gazetteer, text) if m.role == role]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("в Шипуново нет воды", "Шипуново"),
        ("дорога Алейского района", "Алейский район"),
        ("у нас в Алейске", "Алейск"),
        ("в зональном со вчера нет воды", "Зональное"),
        ("в кашине и около", "Кашино"),
        ("живем в новых зорях", "Новые Зори"),
        ("в камне-на-оби", "Камень-на-Оби"),
        ("в КАМНЕ НА ОБИ", "Камень-на-Оби"),
        ("в Краснощеково", "Краснощёково"),
        ("в черёмном", "Черёмное"),
        ("р.п. Тальменка", "Тальменка"),
        ("в поселке Алейском", "посёлок Алейский"),
        ("Гилев-Логовской сельсовет", "Гилёв-Логовской сельсовет"),
        ("в ключах", "Ключи"),
    ],
)
def test_inflected_and_folded_forms(gazetteer: Gazetteer, text: str, place: str) -> None:
    assert names(gazetteer, text) == [place]


@pytest.mark.parametrize(
    ("text", "place"),
    [("в шипуного фонари", "Шипуново"), ("в барнуле", "Барнаул"), ("в рубцовкске", "Рубцовск")],
)
def test_typos_are_corrected_and_marked(gazetteer: Gazetteer, text: str, place: str) -> None:
    (mention,) = found(gazetteer, text)
    assert (mention.places[0].place, mention.method) == (place, "fuzzy")
    assert mention.score < 1.0


def test_longest_match_wins(gazetteer: Gazetteer) -> None:
    assert names(gazetteer, "в Усть-Калманском районе") == ["Усть-Калманский район"]
    assert names(gazetteer, "в усть калманском районе") == ["Усть-Калманский район"]
    assert names(gazetteer, "в Бийском районе") == ["Бийский район"]
    assert names(gazetteer, "в Советском районе") == ["Советский район"]


@pytest.mark.parametrize(
    "text",
    [
        "на павловском тракте яма",
        "Павловский тракт 180",
        "ул. Советская 5",
        "на Змеиногорском тракте",
        "Правительство Алтайского края",
        "на Комсомольском проспекте",
        "потеряли ключи от подъезда",
        "на родине предков",
        "советское наследие",
    ],
)
def test_streets_and_common_words_are_not_places(gazetteer: Gazetteer, text: str) -> None:
    assert found(gazetteer, text) == []


def test_nouns_followed_by_an_address_stay_places(gazetteer: Gazetteer) -> None:
    assert names(gazetteer, "г. Барнаул, ул. Попова 5") == ["Барнаул"]
    assert names(gazetteer, "Алейский район, с. Кашино, ул. Советская, 12") == [
        "Алейский район",
        "Кашино",
    ]


@pytest.mark.parametrize(
    ("text", "place", "role"),
    [
        ("к хирургу ездим в Заринск", "Заринск", "destination"),
        ("автобус до Барнаула", "Барнаул", "destination"),
        ("сделайте как в Барнауле", "Барнаул", "comparison"),
        ("приехали из Рубцовска", "Рубцовск", "origin"),
        ("в Заринске ямы", "Заринск", "location"),
    ],
)
def test_mention_roles(gazetteer: Gazetteer, text: str, place: str, role: str) -> None:
    assert names(gazetteer, text, role) == [place]


def test_repeated_name_gives_all_candidates(gazetteer: Gazetteer) -> None:
    (mention,) = found(gazetteer, "Дружбинский сельсовет")
    assert {p.authority_code for p in mention.places} == {
        "s_aleysky_druzhbinsky",
        "s_tselinny_druzhbinsky",
    }


def test_point_resolves_nearest_place_with_distance(resolver: LocationResolver) -> None:
    location, reason = resolver.from_point(52.90, 83.55)
    assert location is not None
    assert location.best.place == "Калманка"
    assert location.distance_km is not None
    assert 0.3 < location.distance_km < 1.0
    assert "Калманка" in reason


def test_point_far_from_any_place_gives_no_location(resolver: LocationResolver) -> None:
    location, reason = resolver.from_point(53.25, 86.3)
    assert location is None
    assert "25 km" in reason


def test_address_prefers_most_specific_place(resolver: LocationResolver) -> None:
    location = resolver.from_address("Алейский район, с. Кашино", page_district=None)
    assert location is not None
    assert location.best.authority_code == "s_aleysky_kashinsky"
    location = resolver.from_address("Целинный район, Дружбинский сельсовет", page_district=None)
    assert location is not None
    assert location.best.authority_code == "s_tselinny_druzhbinsky"


def test_page_district_disambiguates_repeated_names(resolver: LocationResolver) -> None:
    location = resolver.from_address("Дружбинский сельсовет", page_district="d_aleysky")
    assert location is not None
    assert location.best.authority_code == "s_aleysky_druzhbinsky"
    undecided = resolver.from_address("Дружбинский сельсовет", page_district=None)
    assert undecided is not None
    assert len(undecided.options) == 2
    assert {o.weight for o in undecided.options} == {0.5}
