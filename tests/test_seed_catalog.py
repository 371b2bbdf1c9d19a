"""The packaged seed catalog runs the service anywhere, and matches ../shared when it is there."""

from __future__ import annotations

import filecmp

import pytest

from service.config import SEED_CATALOG, SHARED_DATA
from service.routing.catalog import load_catalog_dir

FILES = ("authorities.csv", "calendar.csv", "categories.csv", "pages.csv", "places.csv")


def test_packaged_seed_loads() -> None:
    catalog = load_catalog_dir(SEED_CATALOG)
    assert len(catalog.authorities) > 100 and len(catalog.places) > 200
    assert any(c.code == "blag_lighting" for c in catalog.categories)
    assert all((SEED_CATALOG / name).is_file() for name in FILES)


def test_packaged_seed_has_not_drifted_from_shared() -> None:
    shared = SHARED_DATA / "altai"
    if not shared.is_dir():
        pytest.skip(f"{shared} is not beside this checkout: the packaged copy is the only source")
    changed = [n for n in FILES if not filecmp.cmp(shared / n, SEED_CATALOG / n, shallow=False)]
    assert changed == [], f"update service/catalog/seed from {shared}: {changed}"
