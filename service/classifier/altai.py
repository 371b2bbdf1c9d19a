"""The Altai category corpus: real appeals from other regions relabelled with Altai codes.

St Petersburg reasons and Kursk topics are mapped to Altai subcategory codes through
``data/taxonomy_map.csv``. Only ``high`` and ``medium`` mappings are kept (a ``low`` mapping
teaches the model a guess), and every code is capped so that St Petersburg's flood of
apartment-block complaints does not drown the rural topics a ЦУР in Altai Krai mostly sees.
Categories without real examples stay with the keyword rules of the router.
"""

from __future__ import annotations

import csv
import random
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from service.classifier.data import Examples
from service.classifier.taxonomy import DEFAULT_MAP_PATH

LABEL_COLUMN = "altai_category"
KEEP_CONFIDENCE = frozenset({"high", "medium"})
DEFAULT_CAP = 1500
SEED = 42


@dataclass(frozen=True)
class Source:
    """One labelled file of ../shared/data/real and the columns the taxonomy map reads."""

    name: str  # the `source` value of taxonomy_map.csv
    file: str
    text_column: str
    label_column: str


SOURCES = (
    Source("spb_reason", "spb_train.csv", "text", "reason"),
    Source("kursk_topic", "kursk_train.csv", "Текст Сообщения", "Тематика"),
)


def confident_map(path: Path = DEFAULT_MAP_PATH) -> dict[tuple[str, str], str]:
    """(source, label) → Altai code, for the mappings trusted enough to train on."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["source"], row["source_label"]): row["altai_code"].strip()
            for row in csv.DictReader(handle)
            if row["altai_code"].strip() and row["confidence"] in KEEP_CONFIDENCE
        }


def _read_source(directory: Path, source: Source) -> Iterable[tuple[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with (directory / source.file).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield row.get(source.text_column) or "", row.get(source.label_column) or ""


def mapped_rows(directory: Path, mapping: Mapping[tuple[str, str], str]) -> dict[str, list[str]]:
    """Texts per Altai code from every source file present in `directory`."""
    by_code: dict[str, list[str]] = defaultdict(list)
    for source in SOURCES:
        if not (directory / source.file).exists():
            continue
        for text, label in _read_source(directory, source):
            code = mapping.get((source.name, label.strip()))
            if code and text.strip():
                by_code[code].append(text)
    return by_code


def capped(by_code: Mapping[str, list[str]], cap: int, seed: int = SEED) -> Examples:
    """At most `cap` texts per code, sampled reproducibly; codes sorted for a stable hash."""
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    for code in sorted(by_code):
        rows = list(by_code[code])
        if len(rows) > cap:
            rows = rng.sample(rows, cap)
        texts.extend(rows)
        labels.extend([code] * len(rows))
    return Examples(texts, labels, [{} for _ in texts])


def altai_examples(directory: Path, cap: int = DEFAULT_CAP) -> Examples:
    """The training corpus of the Altai category model (empty if no source file is there)."""
    return capped(mapped_rows(directory, confident_map()), cap)
