from __future__ import annotations

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
