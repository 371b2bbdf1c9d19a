"""Text normalisation and tokenisation shared by the gazetteer and the rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?\n]")


@dataclass(frozen=True, slots=True)
class Token:
    norm: str
    # Upper-case first letter where a sentence does not start: a proper-name hint.
    capital: bool


def normalize(text: str) -> str:
    """Lower-case and fold ё to е, the way citizens and the gazetteer disagree most."""
    return text.lower().replace("ё", "е")


def tokenize(text: str) -> tuple[Token, ...]:
    """Split into word tokens; hyphens, slashes and dots separate tokens."""
    tokens: list[Token] = []
    last_end = 0
    for match in _WORD.finditer(text):
        raw = match.group()
        gap = text[last_end : match.start()]
        sentence_start = not tokens or bool(_SENTENCE_BREAK.search(gap))
        capital = raw[0].isupper() and not sentence_start and not raw.isupper()
        tokens.append(Token(norm=normalize(raw), capital=capital))
        last_end = match.end()
    return tuple(tokens)


def norm_tokens(text: str) -> tuple[str, ...]:
    return tuple(t.norm for t in tokenize(text))
