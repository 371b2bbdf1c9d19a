"""Category evidence, the citizen's hint, and not-actionable detection."""

from __future__ import annotations

import pytest

from service.routing.decision import RouteInput
from service.routing.engine import Router


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Спасибо администрации за новую детскую площадку!", "thanks"),
        ("Огромное спасибо коммунальщикам, быстро починили трубу!", "thanks"),
        ("С Днём села, дорогие земляки!", "congratulation"),
        ("Здравствуйте", "greeting"),
        ("Продам дрова, доставка по району, пишите в лс", "spam"),
        ("заработок от 5000 в день, переходи по ссылке", "spam"),
        ("все вы там воры, одни выборы на уме", "politics"),
        ("ну и уроды же вы все", "abuse"),
        ("тест", "test"),
        ("Тестовое обращение, прошу не рассматривать", "test"),
        ("ывапыва ролдж", "gibberish"),
        ("👍👍", "empty"),
    ],
)
def test_not_actionable_with_reason(router: Router, text: str, reason: str) -> None:
    decision = router.route(RouteInput(text, page_id="vk:club_d_aleysky"))
    assert decision.actionable is False
    assert decision.status == "rejected"
    assert decision.not_actionable_reason == reason
    assert (decision.category, decision.authority_code, decision.priority) == (None, None, None)


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо за дорогу, но на улице Мира ямы так и не засыпали",
        "Здравствуйте, у нас третий день нет воды",
        "Подскажите пожалуйста, когда включат отопление?",
        "власть ничего не делает, дорогу не ремонтируют пятый год",
    ],
)
def test_polite_or_angry_problems_stay_actionable(router: Router, text: str) -> None:
    assert router.route(RouteInput(text, page_id="vk:club_d_aleysky")).actionable


def test_hint_decides_when_text_is_silent(router: Router) -> None:
    decision = router.route(
        RouteInput("прошу принять меры", channel="platform", category_hint="blag_stray_animals")
    )
    assert decision.category == "blag_stray_animals"


def test_wrong_hint_is_overruled_by_the_text(router: Router) -> None:
    decision = router.route(
        RouteInput(
            "на улице разбит асфальт, яма на яме",
            channel="platform",
            address="г. Бийск",
            category_hint="blag_lighting",
        )
    )
    assert (decision.category, decision.authority_code) == ("roads_potholes", "c_biysk")
    assert any("blag_lighting" in r for r in decision.reasons)


def test_top_level_hint_maps_to_a_subcategory(router: Router) -> None:
    decision = router.route(RouteInput("помогите решить вопрос", category_hint="tko"))
    assert decision.category is not None
    assert decision.category.startswith("tko_")


def test_unknown_hint_is_ignored(router: Router) -> None:
    decision = router.route(RouteInput("в Шипуново ямы", category_hint="no_such_code"))
    assert decision.category == "roads_potholes"


def test_landmarks_do_not_set_the_topic(router: Router) -> None:
    decision = router.route(RouteInput("у школы стерлась разметка пешеходного перехода"))
    assert decision.category == "roads_marking"
