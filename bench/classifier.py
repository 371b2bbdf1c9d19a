"""Classifier benchmark: our model beside a plain TF-IDF + LinearSVC reference on the same split.

    .venv/bin/python bench/classifier.py [--data DIR] [--tasks a,b] [--repeats N]
                                         [--probe-runs 3] [--json PATH]

Trains on the real labelled data (never copied into the repo), measures accuracy and macro-F1 on
a de-duplicated held-out split, then loads each saved model in fresh single-threaded processes
(`--probe-runs`, medians reported) to measure load time, items/s and peak RSS. Small datasets
are split several times (different seeds) and the quality figures averaged, because one 400-row
test split moves by ±2 points.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from service.classifier.artifact import ArtifactMetadata, save_model, utc_now
from service.classifier.data import Examples, group_split, read_csv_examples
from service.classifier.evaluate import evaluate
from service.classifier.model import ModelConfig
from service.classifier.train import config_for_size, fit_calibrated
from service.config import REAL_DATA_DIR

DEFAULT_DATA = REAL_DATA_DIR
SMALL_DATASET = 5_000
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Task:
    name: str
    file: str
    text: str
    label: str
    context: tuple[str, ...] = ()
    target: float = 0.0
    # A finer label used by our model at training time only (the reference ignores it).
    aux: str | None = None


TASKS = (
    Task("spb_category", "spb_train.csv", "text", "category", (), 0.93, "reason"),
    Task("spb_executor_district", "spb_train.csv", "text", "executor", ("district",)),
    Task(
        "spb_executor_context",
        "spb_train.csv",
        "text",
        "executor",
        ("district", "category", "reason"),
        0.88,
    ),
    Task("kursk_body", "kursk_train.csv", "Текст Сообщения", "Ответственное лицо", (), 0.60),
    Task("kursk_topic", "kursk_train.csv", "Текст Сообщения", "Тематика", (), 0.62),
)


class Reference:
    """The plain baseline: raw-text word 1-2 + char_wb 2-5 TF-IDF, one-hot context, LinearSVC."""

    def __init__(self, context: tuple[str, ...]) -> None:
        self.context = context
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
        )
        self.onehot = OneHotEncoder(handle_unknown="ignore")
        self.svm = LinearSVC(C=1.0)

    def _matrix(self, ex: Examples, fit: bool) -> Any:
        blocks = [
            (self.word.fit_transform if fit else self.word.transform)(ex.texts),
            (self.char.fit_transform if fit else self.char.transform)(ex.texts),
        ]
        if self.context:
            values = [[c.get(col, "") for col in self.context] for c in ex.contexts]
            blocks.append((self.onehot.fit_transform if fit else self.onehot.transform)(values))
        return sp.hstack(blocks).tocsr()

    def fit(self, ex: Examples) -> Reference:
        self.svm.fit(self._matrix(ex, True), ex.labels)
        return self

    def predict(self, ex: Examples) -> list[str]:
        return [str(p) for p in self.svm.predict(self._matrix(ex, False))]


def reference_scores(ref: Reference, test: Examples) -> dict[str, float]:
    predicted = ref.predict(test)
    return {
        "accuracy": float(accuracy_score(test.labels, predicted)),
        "macro_f1": float(f1_score(test.labels, predicted, average="macro")),
    }


PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
kind, path, test_path = sys.argv[1:4]
import joblib
from service.classifier import load_model
from service.classifier.data import Examples
imported = time.perf_counter()
if kind == "ours":
    model = load_model(path).model
else:
    # The reference class was pickled from bench/classifier.py run as __main__.
    import __main__
    sys.path.insert(0, sys.argv[4])
    from classifier import Reference
    __main__.Reference = Reference
    model = joblib.load(path)
loaded = time.perf_counter()
test = Examples(*joblib.load(test_path))
def hwm_mb():
    # ru_maxrss survives exec and would report the parent's peak; VmHWM is this process's own.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
rss_loaded = hwm_mb()
batches = [test.subset(range(i, min(i + 256, len(test)))) for i in range(0, len(test), 256)]
def run():
    start = time.perf_counter()
    for b in batches:
        model.predict_proba(b.texts, b.contexts) if kind == "ours" else model.predict(b)
    return len(test) / (time.perf_counter() - start)
cold = run()
warm = run()
one = test.subset(range(min(len(test), 2000)))
def one_by_one():
    start = time.perf_counter()
    for i in range(len(one)):
        if kind == "ours":
            model.predict_one(one.texts[i], one.contexts[i])
        else:
            model.predict(one.subset([i]))
    return len(one) / (time.perf_counter() - start)
# Three passes, the middle one reported: a pass over a small test split lasts ~0.2 s.
single = sorted(one_by_one() for _ in range(3))[1]
print(json.dumps({
    "load_s": round(loaded - imported, 3), "import_s": round(imported - t0, 3),
    "items_per_s_cold": round(cold, 1), "items_per_s_warm": round(warm, 1),
    "items_per_s_single": round(single, 1), "rss_loaded_mb": round(rss_loaded, 1),
    "rss_peak_mb": round(hwm_mb(), 1),
}))
"""


def probe(kind: str, model_path: Path, test_path: Path, runs: int) -> dict[str, Any]:
    """Load and run a saved model in `runs` fresh single-threaded processes (what a worker
    would see): the median of each speed and of the load time, the largest RSS. A cold pass
    happens once per process and takes a fraction of a second, so one process alone is noise."""
    rows = [_probe_once(kind, model_path, test_path) for _ in range(runs)]
    merged = {key: float(np.median([r[key] for r in rows])) for key in rows[0]}
    for key in ("rss_loaded_mb", "rss_peak_mb"):
        merged[key] = max(r[key] for r in rows)
    merged["probe_runs"] = runs
    return merged


def _probe_once(kind: str, model_path: Path, test_path: Path) -> dict[str, Any]:
    env = {**os.environ, **SINGLE_THREAD}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            kind,
            str(model_path),
            str(test_path),
            str(Path(__file__).parent),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4)


def run_task(
    task: Task, data: Path, repeats: int, workdir: Path, probe_runs: int
) -> dict[str, Any]:
    """Quality over `repeats` seeded splits, speed and memory from the first split's models."""
    examples = read_csv_examples(data / task.file, task.text, task.label, task.context, task.aux)
    seeds = [42 + i for i in range(repeats if len(examples) < SMALL_DATASET else 1)]
    ours: list[dict[str, Any]] = []
    ref: list[dict[str, float]] = []
    for seed in seeds:
        train_idx, test_idx = group_split(examples, 0.2, seed)
        train, test = examples.subset(train_idx), examples.subset(test_idx)
        started = time.perf_counter()
        config = config_for_size(len(examples), ModelConfig())
        # As `classifier train` does by default: place features kept if they measure better.
        model = fit_calibrated(train, config, task.context, seed, places=None)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        reference = Reference(task.context).fit(train)
        ref_seconds = time.perf_counter() - started
        if seed == seeds[0]:
            # Saved before either scores the test rows: scoring caches the lemmas of their words,
            # and a saved cache would make the probes' cold pass partly warm.
            speed = _save_and_probe(task, model, reference, test, workdir, probe_runs)
        places = model.config.features.place_weight > 0
        ours.append({**evaluate(model, test), "train_s": seconds, "places": places})
        ref.append({**reference_scores(reference, test), "train_s": ref_seconds})
    return _summarise(task, len(examples), seeds, ours, ref, speed)


def _save_and_probe(
    task: Task, model: Any, reference: Reference, test: Examples, workdir: Path, runs: int
) -> dict[str, Any]:
    ours_path, ref_path = workdir / f"{task.name}.joblib", workdir / f"{task.name}.ref.joblib"
    test_path = workdir / f"{task.name}.test.joblib"
    meta = ArtifactMetadata(
        model_version=f"bench-{task.name}",
        created_at=utc_now().isoformat(),
        data_sha256="",
        n_rows=0,
        text_column=task.text,
        label_column=task.label,
        context_columns=list(task.context),
        labels=list(model.labels),
        metrics={},
        model_config=model.config.to_dict(),
        temperature=model.temperature,
    )
    save_model(model, ours_path, meta)
    joblib.dump(reference, ref_path)
    joblib.dump((test.texts, test.labels, test.contexts), test_path)
    return {
        "ours": {**probe("ours", ours_path, test_path, runs), "size_mb": _mb(ours_path)},
        "reference": {**probe("reference", ref_path, test_path, runs), "size_mb": _mb(ref_path)},
    }


def _mb(path: Path) -> float:
    return round(path.stat().st_size / 2**20, 1)


def _summarise(
    task: Task,
    n: int,
    seeds: list[int],
    ours: list[dict[str, Any]],
    ref: list[dict[str, float]],
    speed: dict[str, Any],
) -> dict[str, Any]:
    def quality(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, float]:
        return {k: _mean([r[k] for r in rows]) for k in keys}

    keys = ("accuracy", "macro_f1", "train_s")
    return {
        "task": task.name,
        "n_rows": n,
        "n_test": ours[0]["n"],
        "seeds": seeds,
        "context": list(task.context),
        "target_accuracy": task.target,
        "ours": {**quality(ours, keys + ("top3_accuracy", "ece", "brier")), **speed["ours"]},
        "reference": {**quality(ref, keys), **speed["reference"]},
        "accuracy_per_seed": {
            "ours": [r["accuracy"] for r in ours],
            "reference": [round(r["accuracy"], 4) for r in ref],
        },
        "place_features_per_seed": [r["places"] for r in ours],
    }


def print_table(results: list[dict[str, Any]]) -> None:
    head = (
        f"{'task':24} {'model':5} {'acc':>6} {'mF1':>6} {'ECE':>6} {'it/s cold':>9} "
        f"{'it/s warm':>9} {'it/s 1by1':>9} {'load s':>6} {'RSS MB':>7} {'target':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        for kind in ("ours", "reference"):
            m = r[kind]
            ece = f"{m['ece']:6.3f}" if "ece" in m else f"{'':6}"
            target = (
                f"{r['target_accuracy']:6.2f}" if kind == "ours" and r["target_accuracy"] else ""
            )
            print(
                f"{r['task'] if kind == 'ours' else '':24} {kind[:5]:5} {m['accuracy']:6.3f} "
                f"{m['macro_f1']:6.3f} {ece} {m['items_per_s_cold']:9.0f} "
                f"{m['items_per_s_warm']:9.0f} {m['items_per_s_single']:9.0f} "
                f"{m['load_s']:6.2f} {m['rss_peak_mb']:7.0f} {target:>6}"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tasks", default=",".join(t.name for t in TASKS))
    parser.add_argument("--repeats", type=int, default=5, help="splits for small datasets")
    parser.add_argument(
        "--probe-runs", type=int, default=3, help="fresh processes timing each saved model"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON results here")
    args = parser.parse_args(argv)
    chosen = [t for t in TASKS if t.name in args.tasks.split(",")]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-classifier-") as tmp:
        for task in chosen:
            results.append(run_task(task, args.data, args.repeats, Path(tmp), args.probe_runs))
            print(f"done {task.name}", file=sys.stderr, flush=True)
    print_table(results)
    text = json.dumps(results, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
