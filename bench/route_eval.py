"""Routing throughput and accuracy on one core, beside a trivial reference in the same run.

    .venv/bin/python bench/route_eval.py [--input tests/data/altai_dev.csv] [--repeat 3]
                                         [--model var/models/altai_category.joblib | --no-model]

The reference only lower-cases and tokenises each text (the floor any router pays), so
the ratio is comparable across machines. `cold` is the first pass over fresh caches,
as `route eval` measures it; `warm` repeats the texts, as a long-running worker sees
recurring vocabulary. With the category model (the worker's artifact, if present) the
router asks it only where the rules are unsure; `model_calls` says how often that was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.classifier.serving import ArtifactTextModel, ModelReading  # noqa: E402
from service.config import get_settings  # noqa: E402
from service.routing.catalog import load_catalog_dir  # noqa: E402
from service.routing.engine import Router  # noqa: E402
from service.routing.evaluate import read_examples, score  # noqa: E402

_WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"cpu{core}"
    return "unpinned"


def reference_rate(texts: list[str], repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        for text in texts:
            _WORD.findall(text.lower())
    return len(texts) * repeat / max(time.process_time() - started, 1e-9)


class CountingModel:
    def __init__(self, inner: ArtifactTextModel) -> None:
        self.inner, self.calls = inner, 0

    def read(self, text: str) -> ModelReading | None:
        self.calls += 1
        return self.inner.read(text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default=str(ROOT / "tests" / "data" / "altai_dev.csv"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=get_settings().effective_category_model_path)
    parser.add_argument("--no-model", action="store_true")
    args = parser.parse_args()
    core = pin_to_one_core()
    examples = read_examples(Path(args.input))
    started = time.process_time()
    model = None
    if not args.no_model and args.model is not None and args.model.exists():
        model = CountingModel(ArtifactTextModel(args.model))
    router = Router(load_catalog_dir(get_settings().catalog_dir), model=model)
    build_s = time.process_time() - started
    started = time.process_time()
    decisions = [router.route(e.item) for e in examples]
    cold = len(examples) / (time.process_time() - started)
    started = time.process_time()
    for _ in range(args.repeat):
        for example in examples:
            router.route(example.item)
    warm = len(examples) * args.repeat / (time.process_time() - started)
    reference = reference_rate([e.item.text for e in examples], max(args.repeat, 20))
    report = {
        **score(examples, decisions),
        "core": core,
        "model": str(args.model) if model else None,
        "model_calls": model.calls if model else 0,
        "router_build_s": round(build_s, 2),
        "items_per_s_cold": round(cold),
        "items_per_s_warm": round(warm),
        "reference_items_per_s": round(reference),
        "cold_vs_reference": round(cold / reference, 4),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_items_per_s": 2000,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
