"""`feedback-router classifier train|eval` (argv excludes the leading "classifier")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.classifier.artifact import (
    ArtifactMetadata,
    load_model,
    new_model_version,
    save_model,
    utc_now,
)
from service.classifier.data import Examples, data_sha256, read_csv_examples
from service.classifier.evaluate import evaluate
from service.classifier.model import ModelConfig
from service.classifier.train import train


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedback-router classifier")
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a model artifact from labelled examples")
    tr.add_argument("--input", type=Path, help="CSV with a header row")
    tr.add_argument("--from-db", action="store_true", help="add examples labelled by people")
    tr.add_argument("--out", type=Path, required=True, help="artifact path (sidecar: PATH.json)")
    tr.add_argument("--holdout", type=float, default=0.2, help="held-out share for the metrics")
    tr.add_argument("--seed", type=int, default=42)
    tr.add_argument("--svm-c", type=float, default=ModelConfig().svm_c)
    ev = sub.add_parser("eval", help="measure a model artifact on a labelled CSV")
    ev.add_argument("--model", type=Path, required=True)
    ev.add_argument("--input", type=Path, required=True)
    for command in (tr, ev):
        command.add_argument("--text-column", required=True)
        command.add_argument("--label-column", required=True)
        command.add_argument("--context-column", action="append", default=[], dest="context")
    return parser


def _training_examples(args: argparse.Namespace) -> Examples:
    if args.input is None and not args.from_db:
        raise ValueError("train needs --input CSV and/or --from-db")
    parts: list[Examples] = []
    if args.input is not None:
        parts.append(
            read_csv_examples(args.input, args.text_column, args.label_column, args.context)
        )
    if args.from_db:
        # Imported lazily: the DB layer is optional for CSV-only training and for the worker.
        from service.classifier.db_examples import load_db_examples

        parts.append(Examples.from_rows(load_db_examples(args.label_column), args.context))
    if not any(p.texts for p in parts):
        raise ValueError(
            "no training examples (the CSV is empty, or nobody has triaged or "
            "redirected an item yet for --from-db)"
        )
    return Examples(
        texts=[t for p in parts for t in p.texts],
        labels=[lb for p in parts for lb in p.labels],
        contexts=[c for p in parts for c in p.contexts],
    )


def _train(args: argparse.Namespace) -> dict[str, Any]:
    examples = _training_examples(args)
    config = ModelConfig(svm_c=args.svm_c)
    result = train(
        examples, config=config, context_columns=args.context, holdout=args.holdout, seed=args.seed
    )
    created = utc_now()
    digest = data_sha256(examples)
    metadata = ArtifactMetadata(
        model_version=new_model_version(args.label_column, digest, created),
        created_at=created.isoformat(),
        data_sha256=digest,
        n_rows=len(examples),
        text_column=args.text_column,
        label_column=args.label_column,
        context_columns=list(args.context),
        labels=list(result.model.labels),
        metrics={
            "heldout": result.heldout_metrics,
            "n_train": result.n_train,
            "n_heldout": result.n_heldout,
        },
        model_config=config.to_dict(),
        temperature=result.model.temperature,
    )
    saved = save_model(result.model, args.out, metadata)
    return {
        "model": str(args.out),
        "model_version": saved.model_version,
        "n_rows": saved.n_rows,
        "n_labels": len(saved.labels),
        "heldout": result.heldout_metrics,
        "train_seconds": round(result.seconds, 1),
    }


def _eval(args: argparse.Namespace) -> dict[str, Any]:
    loaded = load_model(args.model)
    missing = [c for c in loaded.model.context_columns if c not in args.context]
    if missing:
        raise ValueError(f"the model was trained with context column(s) {missing}: pass them")
    examples = read_csv_examples(args.input, args.text_column, args.label_column, args.context)
    return {**evaluate(loaded.model, examples), "model_version": loaded.metadata.model_version}


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        summary = _train(args) if args.command == "train" else _eval(args)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
