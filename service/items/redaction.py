"""Contact details inside texts, erased with the contact at the end of retention (152-FZ).

The appeal's text is kept (archive rules), but citizens write their phone, e-mail and name into
it ("звоните 8 913 123-45-67, Иванова"), and officials address them by name in replies. The
purge masks, in every text of the item: the contact's own name, e-mail and phone wherever they
appear; and in what the citizen wrote, any e-mail address and Russian phone number. An
official's own phone in a reply is the authority's and stays.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from schemas.items import Contact, Item, ItemEvent
from schemas.routing import LabelledExample

MASK = "[скрыто]"
TEXT_KEYS = ("text", "previous_text", "question")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +7 / 8 and ten digits with the usual separators, or a bare ten-digit mobile number.
_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+7|8)[\s(.-]*)?\(?9\d{2}\)?[\s.-]*\d{3}[\s.-]*\d{2}[\s.-]*\d{2}(?!\d)"
    r"|(?<![\d+])(?:\+7|8)[\s(.-]*\d{3,5}[\s).-]*\d{1,3}[\s.-]*\d{2}[\s.-]*\d{2}(?!\d)"
)
_VOWEL_END = "аеёиоуыэюяйь"
# Noun and adjective case endings of Russian names; a longer tail is another word
# («Ивановка», a village, is not «Иванова»).
_ENDINGS = "|".join(
    ["а", "я", "у", "ю", "е", "ы", "и", "ой", "ей", "ом", "ем", "ым", "им", "ых", "их", "ою"]
    + ["ею", "ами", "ями", "ов", "ев", "ий", "ый", "ая", "ую", "ого", "его", "ому", "ему"]
)
_SEPARATORS = r"[\s().+-]*"


def _name_pattern(name: str) -> re.Pattern[str] | None:
    """Each word of the name (3+ letters) and its inflected forms («Иванова», «Марии»)."""
    stems = []
    for word in re.findall(r"[^\W\d_]{3,}", name):
        stem = word[:-1] if len(word) > 4 and word[-1].lower() in _VOWEL_END else word
        stems.append(re.escape(stem) + f"(?:{_ENDINGS})?")
    if not stems:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(stems) + r")(?!\w)", re.IGNORECASE)


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    """The contact's number however it is written: the last ten digits, or the last seven."""
    digits = re.sub(r"\D", "", phone)
    forms = [d for d in (digits[-10:], digits[-7:]) if len(d) >= 5]
    if not forms:
        return None
    prefix = r"(?:(?:\+?7|8)" + _SEPARATORS + ")?"
    alternatives = [prefix + _SEPARATORS.join(f) for f in dict.fromkeys(forms)]
    return re.compile(r"(?<!\d)(?:" + "|".join(alternatives) + r")(?!\d)")


def redactor(contact: Contact) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """Two maskers: for any text of the item (the contact's own details), and for the
    citizen's own words (those, and any e-mail or phone number)."""
    own = [
        p
        for p in (
            re.compile(re.escape(contact.email), re.IGNORECASE) if contact.email else None,
            _phone_pattern(contact.phone) if contact.phone else None,
            _name_pattern(contact.name) if contact.name else None,
        )
        if p is not None
    ]

    def any_text(text: str) -> str:
        for pattern in own:
            text = pattern.sub(MASK, text)
        return text

    def citizens(text: str) -> str:
        return any_text(_PHONE.sub(MASK, _EMAIL.sub(MASK, text)))

    return any_text, citizens


async def redact_texts(session: AsyncSession, item: Item, contact: Contact) -> int:
    """Mask contact details in the item's texts; how many texts changed."""
    any_text, citizens = redactor(contact)
    changed = 0
    masked = citizens(item.text)
    if masked != item.text:
        item.text, changed = masked, changed + 1
    events = (await session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id))).all()
    for event in events:
        mask = citizens if event.actor == "citizen" else any_text
        data = {
            k: mask(v) if k in TEXT_KEYS and isinstance(v, str) else v
            for k, v in event.data.items()
        }
        if data != event.data:
            event.data, changed = data, changed + 1
            session.add(event)
    changed += await _redact_examples(session, item.id, citizens)
    return changed


async def _redact_examples(
    session: AsyncSession, item_id: uuid.UUID, mask: Callable[[str], str]
) -> int:
    stmt = select(LabelledExample).where(col(LabelledExample.item_id) == item_id)
    changed = 0
    for example in (await session.exec(stmt)).all():
        masked = mask(example.text)
        if masked != example.text:
            example.text, changed = masked, changed + 1
            session.add(example)
    return changed
