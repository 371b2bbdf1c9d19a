"""The router with a trained category model: rules, model and the citizen's hint combined,
and the decision says which of them chose the category."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service.classifier.serving import ArtifactTextModel, ModelReading
from service.routing.catalog import Catalog
from service.routing.decision import RouteInput
from service.routing.engine import Router
from service.routing.morph import Morphology
from tests.classifier.fixtures_altai import SILENT_TEXT, save_altai_model


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "altai.joblib"
    save_altai_model(path, "altai-test-v1")
    return path


class Counting:
    """Wraps the real model to count how often the router asks it."""

    def __init__(self, inner: ArtifactTextModel) -> None:
        self.inner, self.calls = inner, 0

    def read(self, text: str) -> ModelReading | None:
        self.calls += 1
        return self.inner.read(text)


@pytest.fixture
def model(artifact: Path) -> Counting:
    return Counting(ArtifactTextModel(artifact))


@pytest.fixture
def learned(catalog: Catalog, morph: Morphology, model: Counting) -> Router:
    return Router(catalog, morph=morph, model=model)


def test_model_decides_what_the_rules_cannot_read(router: Router, learned: Router) -> None:
    alone = router.route(RouteInput(text=SILENT_TEXT))
    assert (alone.status, alone.decided_by) == ("triage", "none")
    decision = learned.route(RouteInput(text=SILENT_TEXT))
    assert decision.category == "blag_yards"
    assert decision.decided_by == "model"
    assert decision.status == "routed" and decision.authority_code == "c_biysk"
    assert decision.version.endswith("+altai-test-v1")
    assert any(r.startswith("text model: blag_yards") for r in decision.reasons)
    assert decision.to_dict()["decided_by"] == "model"


def test_strong_rule_evidence_is_not_put_to_the_model(learned: Router, model: Counting) -> None:
    decision = learned.route(
        RouteInput(text="Яма на дороге по улице Ленина в Бийске, колесо пробил")
    )
    assert decision.decided_by == "rules"
    assert model.calls == 0
    assert "+" not in decision.version.removeprefix(learned.version)


def test_model_cannot_outvote_a_category_it_never_learned(learned: Router, model: Counting) -> None:
    # Weak rule evidence for zhkh_mkd, a category the fixture model does not know.
    decision = learned.route(RouteInput(text="В Бийске безобразие у подъезда уже 3 день"))
    assert model.calls == 1
    assert decision.category == "zhkh_mkd"
    assert decision.decided_by == "rules"


def test_hint_decides_when_nothing_else_speaks(router: Router) -> None:
    decision = router.route(RouteInput(text=SILENT_TEXT, category_hint="blag_lighting"))
    assert decision.category == "blag_lighting"
    assert decision.decided_by == "hint"


def test_rejected_items_are_decided_by_rules(learned: Router) -> None:
    decision = learned.route(RouteInput(text="Спасибо большое за праздник!"))
    assert decision.status == "rejected"
    assert decision.decided_by == "rules"


def test_missing_artifact_means_rules_only_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.joblib"
    model = ArtifactTextModel(path, check_interval_s=0.0)
    assert model.read(SILENT_TEXT) is None
    save_altai_model(path, "altai-test-late")
    reading = model.read(SILENT_TEXT)
    assert reading is not None and reading.version == "altai-test-late"
    assert reading.top[0][0] == "blag_yards" and reading.top[0][1] > 0.5


def test_corrupt_first_artifact_leaves_the_rules_in_charge(tmp_path: Path) -> None:
    path = tmp_path / "broken.joblib"
    path.write_bytes(b"not a model")
    model = ArtifactTextModel(path, check_interval_s=0.0)
    assert model.read(SILENT_TEXT) is None
    os.remove(path)
    save_altai_model(path, "altai-test-fixed")
    reading = model.read(SILENT_TEXT)
    assert reading is not None and reading.version == "altai-test-fixed"
