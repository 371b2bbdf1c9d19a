"""What the trained category model adds to the router, measured in one run.

    .venv/bin/python bench/router_model.py [--data ../shared/data/real] [--cap 1500] [--json P]

1. Builds the Altai category corpus (real St Petersburg and Kursk appeals relabelled through
   service/classifier/data/taxonomy_map.csv), holds out a de-duplicated 20 %, trains the model on
   the rest.
2. Routes the held-out real texts with the rules alone and with rules + model: category accuracy
   against the mapped label, triage share, which source decided, items/s.
3. Runs `route eval` on the Altai dev and holdout sets with and without the model (these figures
   must not drop), and the model alone on the held-out texts as a reference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from service.classifier.altai import DEFAULT_CAP, altai_examples  # noqa: E402
from service.classifier.data import Examples, group_split  # noqa: E402
from service.classifier.model import ModelConfig, TextClassifier  # noqa: E402
from service.classifier.serving import TOP_K, ModelReading  # noqa: E402
from service.classifier.train import fit_calibrated  # noqa: E402
from service.config import REAL_DATA_DIR, get_settings  # noqa: E402
from service.routing.catalog import load_catalog_dir  # noqa: E402
from service.routing.decision import RouteInput  # noqa: E402
from service.routing.engine import Router  # noqa: E402
from service.routing.evaluate import evaluate  # noqa: E402

DEFAULT_DATA = REAL_DATA_DIR


class InMemoryModel:
    def __init__(self, model: TextClassifier) -> None:
        self.model = model

    def read(self, text: str) -> ModelReading:
        top = self.model.predict_one(text, top_k=TOP_K).top
        return ModelReading("bench", top, self.model.label_set)


def route_real(router: Router, test: Examples) -> dict[str, Any]:
    started = time.perf_counter()
    decisions = [router.route(RouteInput(text=t)) for t in test.texts]
    seconds = time.perf_counter() - started
    right = sum(d.category == label for d, label in zip(decisions, test.labels, strict=True))
    return {
        "category_accuracy": round(right / len(test), 4),
        "triage_share": round(sum(d.status == "triage" for d in decisions) / len(test), 4),
        "rejected_share": round(sum(d.status == "rejected" for d in decisions) / len(test), 4),
        "decided_by": dict(Counter(d.decided_by for d in decisions)),
        "items_per_s": round(len(test) / seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cap", type=int, default=DEFAULT_CAP)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    examples = altai_examples(args.data, args.cap)
    train_idx, test_idx = group_split(examples, 0.2, 42)
    train, test = examples.subset(train_idx), examples.subset(test_idx)
    started = time.perf_counter()
    model = fit_calibrated(train, ModelConfig(), (), 42)
    train_s = time.perf_counter() - started
    model_alone = sum(
        p == label for p, label in zip(model.predict(test.texts), test.labels, strict=True)
    )
    catalog = load_catalog_dir(get_settings().catalog_dir)
    rules, combined = Router(catalog), Router(catalog, model=InMemoryModel(model))
    report: dict[str, Any] = {
        "corpus": {"rows": len(examples), "labels": len(set(examples.labels)), "test": len(test)},
        "train_s": round(train_s, 1),
        "model_alone_accuracy": round(model_alone / len(test), 4),
        "real_heldout": {
            "rules": route_real(rules, test),
            "rules+model": route_real(combined, test),
        },
    }
    for name in ("altai_dev", "altai_holdout"):
        path = ROOT / "tests" / "data" / f"{name}.csv"
        report[name] = {"rules": evaluate(path, rules), "rules+model": evaluate(path, combined)}
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
