"""Map labels of the real labelled sources onto the Altai Krai subcategory codes.

The mapping is data, kept in ``data/taxonomy_map.csv`` next to this module, with the columns
``source,source_label,altai_code,confidence,note``:

- ``source`` is ``spb_reason`` (the ``reason`` column of the St Petersburg portal data) or
  ``kursk_topic`` (the ``Тематика`` column of the Kursk data);
- ``source_label`` is the exact original label;
- ``altai_code`` is a subcategory code of the Altai ``categories.csv``, or empty when no Altai
  category fits (such labels map to ``None``);
- ``confidence`` is ``high``, ``medium`` or ``low``; ``note`` is a short rationale.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DEFAULT_MAP_PATH = Path(__file__).resolve().parent / "data" / "taxonomy_map.csv"
SOURCES = ("spb_reason", "kursk_topic")
CONFIDENCES = ("high", "medium", "low")
COLUMNS = ("source", "source_label", "altai_code", "confidence", "note")

TaxonomyMap = dict[tuple[str, str], str | None]


def load_taxonomy_map(path: Path | str | None = None) -> TaxonomyMap:
    """Read the mapping CSV into ``{(source, source_label): altai_code or None}``.

    Raises ``ValueError`` on a missing column, an unknown source or confidence, or a repeated
    ``(source, source_label)`` pair.
    """
    csv_path = Path(path) if path is not None else DEFAULT_MAP_PATH
    mapping: TaxonomyMap = {}
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{csv_path}: missing columns {missing}")
        for line, row in enumerate(reader, start=2):
            source, label = row["source"], row["source_label"]
            if source not in SOURCES:
                raise ValueError(f"{csv_path}:{line}: unknown source {source!r}")
            if row["confidence"] not in CONFIDENCES:
                raise ValueError(f"{csv_path}:{line}: unknown confidence {row['confidence']!r}")
            key = (source, label)
            if key in mapping:
                raise ValueError(f"{csv_path}:{line}: duplicate row for {key!r}")
            code = row["altai_code"].strip()
            mapping[key] = code or None
    return mapping


@lru_cache(maxsize=1)
def _default_map() -> TaxonomyMap:
    return load_taxonomy_map()


def map_label(source: str, label: str) -> str | None:
    """The Altai subcategory code for a source label, or ``None``.

    ``None`` means either that the label is mapped to no Altai category or that it is not in the
    packaged mapping at all.
    """
    return _default_map().get((source, label))
