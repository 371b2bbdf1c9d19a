from __future__ import annotations

import pytest

from service.classifier.cleaning import (
    EMAIL_TOKEN,
    MASK_TOKEN,
    PHONE_TOKEN,
    URL_TOKEN,
    clean_text,
    tokenize,
)


def test_html_markup_and_entities_are_removed() -> None:
    raw = "<p style=`color:red`>Яма&nbsp;на&nbsp;дороге</p><p>ул.&laquo;Ленина&raquo;&amp;Co</p>"
    assert clean_text(raw) == 'яма на дороге ул."ленина"&co'


def test_block_tags_separate_words_inline_tags_do_not() -> None:
    assert clean_text("первый<br>второй") == "первый второй"
    assert clean_text("сло<span>во</span>") == "слово"


def test_escaped_markup_written_by_a_citizen_stays_text() -> None:
    assert clean_text("&lt;script&gt;") == "<script>"


def test_masked_fragments_become_one_token() -> None:
    assert (
        clean_text("Звонил [скрыто], ответа нет [Скрыто]")
        == f"звонил {MASK_TOKEN} , ответа нет {MASK_TOKEN}"
    )


def test_contacts_are_replaced() -> None:
    text = clean_text(
        "Пишите a.b@mail.ru или звоните +7 (912) 345-67-89, 8 912 345 67 89; www.x.ru HTTPS://t.me/x"
    )
    assert "mail.ru" not in text and "912" not in text and "t.me" not in text
    assert text.count(PHONE_TOKEN) == 2 and text.count(URL_TOKEN) == 2 and EMAIL_TOKEN in text


def test_emoji_case_yo_and_spaces_are_normalised() -> None:
    assert clean_text("  ЁЛКА  упала 😡😡\ufffc\n\n во  дворе ") == "елка упала во дворе"


def test_house_numbers_survive_cleaning() -> None:
    assert tokenize(clean_text("ул. Ленина, д. 5А")) == ["ул", "ленина", "д", "5", "а"]


def test_empty_and_markup_only_texts() -> None:
    assert clean_text("") == ""
    assert clean_text("<p>&nbsp;</p>") == ""


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("89123456789", 1),
        ("+7 912 345-67-89", 1),
        ("тел.8(912)3456789.", 1),
        ("189123456789", 0),  # a digit before: an id, not a phone
        ("5+79123456789", 0),
        ("891234567890", 0),  # a digit after
        ("8 912 345 67 8", 0),
        ("дом 8 кв 912 подъезд 3", 0),
    ],
)
def test_phone_numbers_only_where_no_digit_touches_them(text: str, phones: int) -> None:
    assert clean_text(text).count(PHONE_TOKEN) == phones


def test_all_kinds_of_whitespace_collapse_to_one_space() -> None:
    assert clean_text("a\u2003\u00a0b\t\r\nc\u3000 d\x1c e\u2028") == "a b c d e"
