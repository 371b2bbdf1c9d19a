"""Small synthetic labelled data: fast to train on, with a context column that matters."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from service.classifier.data import Examples
from service.classifier.model import TextClassifier

TOPICS = {
    "roads": [
        "яма на дороге",
        "разбитый асфальт у дома",
        "провал дорожного покрытия",
        "ямы во дворе",
    ],
    "light": ["не горит фонарь", "нет освещения на улице", "темно во дворе, фонари не работают"],
    "waste": ["не вывозят мусор", "свалка за гаражами", "переполнены мусорные контейнеры"],
}
FILLERS = ["уже неделю", "просьба принять меры", "здравствуйте!", "<p>срочно</p>", "[скрыто]", ""]
DISTRICTS = ["Центральный", "Заречный"]


def make_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    """Rows whose executor depends on topic *and* district, so context has to be used."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = rng.choice(sorted(TOPICS))
        district = rng.choice(DISTRICTS)
        text = f"{rng.choice(FILLERS)} {rng.choice(TOPICS[topic])} {rng.choice(FILLERS)} #{i}"
        executor = f"{topic}-{district}" if topic != "waste" else "waste-city"
        rows.append({"text": text, "topic": topic, "district": district, "executor": executor})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def as_examples(rows: list[dict[str, str]], label: str, context: tuple[str, ...] = ()) -> Examples:
    triples = [(r["text"], r[label], r) for r in rows]
    return Examples.from_rows(triples, context)


@pytest.fixture(scope="session")
def rows() -> list[dict[str, str]]:
    return make_rows(240)


@pytest.fixture(scope="session")
def csv_path(tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "fixture.csv", rows)


def assert_paths_agree(model: TextClassifier, texts: list[str]) -> None:
    """The one-item path (a gather of weight rows) must give what the batch path gives."""
    batch = model.predict_proba(texts)
    single = np.vstack([model.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)
