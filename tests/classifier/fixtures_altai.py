"""A tiny Altai category model: words the keyword rules do not know, so the model must decide."""

from __future__ import annotations

import random
from pathlib import Path

from service.classifier.artifact import ArtifactMetadata, save_model
from service.classifier.data import Examples, data_sha256
from service.classifier.model import TextClassifier

# The rules find no category in these words (checked by test_model_routing).
PHRASES = {
    "blag_yards": ["творится безобразие", "сплошное безобразие", "безобразие у подъезда"],
    "zhkh_heating": ["дома холодина", "в квартирах холодина", "холодина невыносимая"],
    "culture_clubs": ["праздник отменили", "праздник перенесли", "сорвали праздник"],
}
SILENT_TEXT = "В Бийске по улице Ленина 5 уже неделю творится безобразие, сделайте что-нибудь"


def altai_examples(seed: int = 0, n: int = 150) -> Examples:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        code = sorted(PHRASES)[i % len(PHRASES)]
        texts.append(f"{rng.choice(PHRASES[code])} уже {i % 7 + 1} день, примите меры")
        labels.append(code)
    return Examples(texts, labels, [{} for _ in texts])


def save_altai_model(path: Path, version: str, examples: Examples | None = None) -> None:
    examples = examples or altai_examples()
    model = TextClassifier().fit(examples.texts, examples.labels)
    model.temperature = 0.2  # a sure model: the fixture is separable
    meta = ArtifactMetadata(
        model_version=version,
        created_at="2026-11-28T00:00:00+00:00",
        data_sha256=data_sha256(examples),
        n_rows=len(examples),
        text_column="text",
        label_column="altai_category",
        context_columns=[],
        labels=list(model.labels),
        metrics={},
        model_config=model.config.to_dict(),
        temperature=model.temperature,
    )
    save_model(model, path, meta)
