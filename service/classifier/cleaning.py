"""Text normalisation for real citizen messages (portal exports, HTML widgets, social posts)."""

from __future__ import annotations

import html
import re

MASK_TOKEN = "xxmask"
URL_TOKEN = "xxurl"
EMAIL_TOKEN = "xxemail"
PHONE_TOKEN = "xxphone"

# Block-level tags end a sentence; inline ones (span, strong) may sit inside a word.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|br|li|ul|ol|div|h\d|tr|td|blockquote|figure)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
# Portals mask personal data in several spellings: [скрыто], [Скрыто], [удалено], ***.
_MASKED = re.compile(r"\[\s*(?:скрыт\w*|удален\w*|hidden|removed)\s*\]|\*{3,}", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# Russian phone numbers: +7/8 followed by ten digits with optional separators. The "no digit
# before" check sits after the first characters so the pattern starts with a literal, which
# lets the engine skip ahead instead of trying every position (2.5× faster on long texts).
_PHONE = re.compile(
    r"(?:\+7(?<!\d\+7)|8(?<!\d8))[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"
)
# Emoji, pictographs, control characters and the U+FFFC object placeholder carry no routing
# signal; a negated class is far faster than a per-character unicodedata lookup.
_NOISE = re.compile(r"[^\w\s.,:;!?\"'()«»“”„`\-–—/\\№%+=&@#*\[\]<>]")
_TOKEN = re.compile(r"[a-zа-я]+|\d+")
_QUOTES = re.compile(r"[`«»“”„]")


def _strip_markup(text: str) -> str:
    text = _BLOCK_TAG.sub(" ", text)
    text = _ANY_TAG.sub("", text)
    # Unescape after tag removal so an escaped "&lt;p&gt;" in a citizen's text stays text.
    return html.unescape(text)


def clean_text(text: str) -> str:
    """Return a lower-cased, markup-free text with personal fragments replaced by tokens."""
    # The cheap substring guards keep cleaning at a few µs per item for plain texts.
    if "<" in text or "&" in text:
        text = _strip_markup(text)
    text = text.replace("\xa0", " ").lower()
    if "[" in text or "***" in text:
        text = _MASKED.sub(f" {MASK_TOKEN} ", text)
    if "http" in text or "www" in text:
        text = _URL.sub(f" {URL_TOKEN} ", text)
    if "@" in text:
        text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    text = _PHONE.sub(f" {PHONE_TOKEN} ", text)
    text = _NOISE.sub(" ", text)
    text = _QUOTES.sub('"', text).replace("ё", "е")
    # str.split() knows the same whitespace as re's \s and is several times faster.
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    """Split an already cleaned text into word and number tokens."""
    return _TOKEN.findall(text)
