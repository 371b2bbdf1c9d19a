"""The mapping from the real labelled sources to the Altai taxonomy is complete and valid."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from service.classifier.taxonomy import (
    CONFIDENCES,
    DEFAULT_MAP_PATH,
    SOURCES,
    load_taxonomy_map,
    map_label,
)
from service.config import REAL_DATA_DIR, default_catalog_dir

ALTAI_CATEGORIES = default_catalog_dir() / "categories.csv"


def _map_rows() -> list[dict[str, str]]:
    with DEFAULT_MAP_PATH.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _distinct(path: Path, column: str) -> set[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def test_columns_and_values() -> None:
    rows = _map_rows()
    assert rows
    assert list(rows[0]) == ["source", "source_label", "altai_code", "confidence", "note"]
    for row in rows:
        assert row["source"] in SOURCES
        assert row["confidence"] in CONFIDENCES
        assert row["source_label"]


def test_one_row_per_source_label() -> None:
    counts = Counter((row["source"], row["source_label"]) for row in _map_rows())
    assert [key for key, n in counts.items() if n > 1] == []
    assert len(load_taxonomy_map()) == len(counts)


def test_codes_are_altai_subcategories() -> None:
    with ALTAI_CATEGORIES.open(encoding="utf-8", newline="") as handle:
        subcategories = {row["code"] for row in csv.DictReader(handle) if row["parent_code"]}
    unknown = {row["altai_code"] for row in _map_rows() if row["altai_code"]} - subcategories
    assert unknown == set()


@pytest.mark.parametrize(
    ("source", "file_name", "column"),
    [("spb_reason", "spb_train.csv", "reason"), ("kursk_topic", "kursk_train.csv", "Тематика")],
)
def test_every_real_label_has_a_row(source: str, file_name: str, column: str) -> None:
    path = REAL_DATA_DIR / file_name
    if not path.exists():
        # Third-party data, never copied into the project: only a checkout beside ../shared has it.
        pytest.skip(f"{path} is missing (the real data is read from ../shared, not packaged)")
    mapped = {label for src, label in load_taxonomy_map() if src == source}
    assert sorted(_distinct(path, column) - mapped) == []


def test_map_label() -> None:
    assert map_label("kursk_topic", "Безнадзорные животные") == "blag_stray_animals"
    assert map_label("spb_reason", "Отсутствие холодной воды") == "zhkh_water_outage"
    assert (
        map_label(
            "spb_reason",
            "Незаконное проживание иностранных граждан в местах общего "
            "пользования многоквартирного дома (подвалы, чердаки)",
        )
        is None
    )
    assert map_label("spb_reason", "no such label") is None


def test_load_rejects_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "source,source_label,altai_code,confidence,note\n"
        "kursk_topic,X,roads_snow,high,\n"
        "kursk_topic,X,roads_potholes,high,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="duplicate"):
        load_taxonomy_map(path)


def test_load_empty_code_is_none(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "source,source_label,altai_code,confidence,note\nspb_reason,Y,,low,none fits\n",
        encoding="utf-8",
    )
    assert load_taxonomy_map(path) == {("spb_reason", "Y"): None}
