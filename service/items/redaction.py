"""Contact details inside texts, erased with the contact at the end of retention (152-FZ).

The appeal's text is kept (archive rules), but citizens write their phone, e-mail and name into
it ("звоните 8 913 …, Иванова"), and officials address them by name in replies. The purge masks,
in every text of the item, the contact's own name (every case form), e-mail and phone wherever
they appear; and in what the citizen wrote, any e-mail address and Russian phone number. An
official's own phone in a reply is the authority's and stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from schemas.items import Contact
from service.classifier.lemmas import morph_analyzer

MASK = "[скрыто]"
# A match may only start where a token starts: from inside a long word the engine would retry
# every position (quadratic on a 10,000-character token).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# +7 / 7 / 8 and a ten-digit number with the usual separators (a mobile may come bare).
_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+7|7|8)[\s(.-]*)?\(?9\d{2}\)?[\s.-]*\d{3}[\s.-]*\d{2}[\s.-]*\d{2}(?!\d)"
    r"|(?<![\d+])(?:\+7|8)[\s(.-]*\d{3,5}[\s).-]*\d{1,3}[\s.-]*\d{2}[\s.-]*\d{2}(?!\d)"
)
# Numbers that look like phones but are an organisation's codes or an account.
_NOT_A_PHONE = re.compile(r"(?:инн|огрн|кпп|бик|окпо|сч[её]т\w*|р/с|л/с|№)\W{0,3}$", re.IGNORECASE)
_SEPARATORS = r"[\s().+-]*"
NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


def _either_e(word: str) -> str:
    # «Пётр» is written «Петр» as often as not.
    return "".join("[её]" if ch in "её" else re.escape(ch) for ch in word)


def name_forms(name: str) -> set[str]:
    """Every case form of each word of the name, lower-cased: pymorphy3's lexemes of its name
    readings («Андрей» → «Андрея», «Андрею» …; «Вишневский» → «Вишневской» …)."""
    morph = morph_analyzer()
    forms: set[str] = set()
    for word in re.findall(r"[^\W\d_]{2,}", name):
        parses = morph.parse(word)
        named = [p for p in parses if NAME_TAGS & set(p.tag.grammemes)] or parses[:1]
        forms.add(word.lower())
        for parse in named:
            forms.update(f.word for f in parse.lexeme)
    return forms


def _name_masker(name: str) -> Callable[[str], str] | None:
    forms = sorted(name_forms(name), key=len, reverse=True)
    if not forms:
        return None
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(_either_e(f) for f in forms) + r")(?!\w)", re.IGNORECASE
    )

    def mask(match: re.Match[str]) -> str:
        # Only as a name is written: «Вера» goes, «вера в справедливость» stays.
        word = match.group()
        return MASK if word[0].isupper() else word

    return lambda text: pattern.sub(mask, text)


def _phone_masker(phone: str) -> Callable[[str], str] | None:
    """The contact's number however it is written: the last ten digits, or the last seven."""
    digits = re.sub(r"\D", "", phone)
    forms = [d for d in (digits[-10:], digits[-7:]) if len(d) >= 5]
    if not forms:
        return None
    prefix = r"(?:(?:\+?7|8)" + _SEPARATORS + r")?\(?"
    alternatives = [prefix + _SEPARATORS.join(f) for f in dict.fromkeys(forms)]
    pattern = re.compile(r"(?<!\d)(?:" + "|".join(alternatives) + r")(?!\d)")
    return lambda text: pattern.sub(MASK, text)


def _any_phone(match: re.Match[str]) -> str:
    before = match.string[max(match.start() - 12, 0) : match.start()]
    return match.group() if _NOT_A_PHONE.search(before) else MASK


@dataclass(frozen=True)
class Maskers:
    own: tuple[Callable[[str], str], ...]

    def any_text(self, text: str) -> str:
        """The contact's own details, in any text of the item."""
        for mask in self.own:
            text = mask(text)
        return text

    def citizens(self, text: str) -> str:
        """What the citizen wrote: their details, and any e-mail or phone number."""
        return self.any_text(_PHONE.sub(_any_phone, _EMAIL.sub(MASK, text)))


def redactor(contact: Contact) -> Maskers:
    email = contact.email
    own = (
        (lambda text: re.sub(re.escape(email), MASK, text, flags=re.IGNORECASE)) if email else None,
        _phone_masker(contact.phone) if contact.phone else None,
        _name_masker(contact.name) if contact.name else None,
    )
    return Maskers(tuple(m for m in own if m is not None))
