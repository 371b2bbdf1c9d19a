"""Shared fixtures: one catalog and one router per session (building a router takes ~1 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import get_settings
from service.routing.catalog import Catalog, load_catalog_dir
from service.routing.engine import Router
from service.routing.gazetteer import Gazetteer
from service.routing.location import LocationResolver
from service.routing.morph import Morphology

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog_dir(get_settings().catalog_dir)


@pytest.fixture(scope="session")
def morph() -> Morphology:
    return Morphology()


@pytest.fixture(scope="session")
def router(catalog: Catalog, morph: Morphology) -> Router:
    return Router(catalog, morph=morph)


@pytest.fixture(scope="session")
def gazetteer(catalog: Catalog, morph: Morphology) -> Gazetteer:
    return Gazetteer(catalog.places, morph)


@pytest.fixture(scope="session")
def resolver(catalog: Catalog, gazetteer: Gazetteer) -> LocationResolver:
    return LocationResolver(catalog, gazetteer, max_distance_km=25.0)


@pytest.fixture(autouse=True)
def _clean() -> None:
    """Overrides the suite-wide database clean-up: the routing engine touches no database."""
