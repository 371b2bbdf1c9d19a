"""The worker routes with the trained category model and picks up a retrained one live."""

from __future__ import annotations

import uuid

from schemas.items import Item
from service.config import Settings
from tests.builders import run_worker_burst, widget_report
from tests.classifier.fixtures_altai import PHRASES, SILENT_TEXT, altai_examples, save_altai_model

# Comments go to the page's authority; a widget report carries the page and our text.
TEXT_COLD = "В Бийске по улице Ленина 5 уже неделю дома холодина, сделайте что-нибудь"


async def _decision(sessionmaker, item_id: str) -> dict:
    async with sessionmaker() as s:
        item = await s.get(Item, uuid.UUID(item_id))
    assert item is not None and item.decision is not None
    return item.decision


async def test_worker_uses_the_model_and_swaps_it_without_restart(
    client, settings: Settings, sessionmaker, tmp_path
):
    path = tmp_path / "models" / "altai.joblib"
    path.parent.mkdir()
    live = settings.model_copy(update={"category_model_path": path, "category_model_check_s": 0})

    first = (await widget_report(client, text=SILENT_TEXT)).json()["id"]
    await run_worker_burst(live)
    decision = await _decision(sessionmaker, first)
    assert decision["decided_by"] == "none"  # no artifact yet: rules only, triage

    save_altai_model(path, "altai-worker-v1")
    second = (await widget_report(client, text=SILENT_TEXT)).json()["id"]
    await run_worker_burst(live)
    decision = await _decision(sessionmaker, second)
    assert decision["decided_by"] == "model"
    assert decision["category"] == "blag_yards"
    assert decision["version"].endswith("+altai-worker-v1")

    # Retrained with «холодина» meaning heating, under a new version: taken without a restart.
    examples = altai_examples(seed=1)
    save_altai_model(path, "altai-worker-v2", examples)
    assert any("холодина" in p for p in PHRASES["zhkh_heating"])
    third = (await widget_report(client, text=TEXT_COLD)).json()["id"]
    await run_worker_burst(live)
    decision = await _decision(sessionmaker, third)
    assert decision["version"].endswith("+altai-worker-v2")
    assert decision["category"] == "zhkh_heating"
