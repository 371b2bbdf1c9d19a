"""`feedback-router classifier train|eval` (argv excludes the leading "classifier")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.classifier.altai import DEFAULT_CAP, LABEL_COLUMN, altai_examples
from service.classifier.artifact import (
    ArtifactMetadata,
    load_model,
    new_model_version,
    save_model,
    utc_now,
)
from service.classifier.data import (
    Examples,
    data_sha256,
    examples_from_rows,
    read_csv_examples,
    read_csv_rows,
)
from service.classifier.evaluate import evaluate
from service.classifier.finer import finer_label_column
from service.classifier.model import ModelConfig
from service.classifier.train import config_for_size, train
from service.config import REAL_DATA_DIR

AUTO = "auto"


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
    tr.add_argument(
        "--aux-label-column",
        default=AUTO,
        help="a finer label known at training time only (e.g. reason under category); "
        "default: a CSV column found to refine the label, 'none' for no finer label",
    )
    tr.add_argument(
        "--place-features",
        choices=(AUTO, "on", "off"),
        nargs="?",
        const="on",
        default=AUTO,
        help="features for the places a text names (helps responsible-body labels); "
        "default: kept if they score higher on held-back rows",
    )
    al = sub.add_parser(
        "altai", help="train the router's Altai category model from real appeals (taxonomy map)"
    )
    al.add_argument("--data", type=Path, default=REAL_DATA_DIR, help="dir of real CSVs")
    al.add_argument("--out", type=Path, help="artifact path (default: the worker's model path)")
    al.add_argument("--cap", type=int, default=DEFAULT_CAP, help="most rows per category")
    al.add_argument("--from-db", action="store_true", help="add categories set by people")
    al.add_argument("--holdout", type=float, default=0.2, help="held-out share for the metrics")
    al.add_argument("--seed", type=int, default=42)
    al.add_argument("--if-missing", action="store_true", help="do nothing if the artifact exists")
    ev = sub.add_parser("eval", help="measure a model artifact on a labelled CSV")
    ev.add_argument("--model", type=Path, required=True)
    ev.add_argument("--input", type=Path, required=True)
    for command in (tr, ev):
        command.add_argument("--text-column", required=True)
        command.add_argument("--label-column", required=True)
        command.add_argument("--context-column", action="append", default=[], dest="context")
    return parser


def _csv_examples(args: argparse.Namespace) -> Examples:
    """The CSV's examples; resolves `--aux-label-column auto` to a column name or None."""
    header, rows = read_csv_rows(args.input)
    if args.aux_label_column == AUTO:
        skip = [args.text_column, *args.context]
        args.aux_label_column = finer_label_column(header, rows, args.label_column, skip)
    elif args.aux_label_column == "none":
        args.aux_label_column = None
    return examples_from_rows(
        args.input,
        header,
        rows,
        args.text_column,
        args.label_column,
        args.context,
        args.aux_label_column,
    )


def _training_examples(args: argparse.Namespace) -> Examples:
    if args.input is None and not args.from_db:
        raise ValueError("train needs --input CSV and/or --from-db")
    parts: list[Examples] = []
    if args.input is not None:
        parts.append(_csv_examples(args))
    elif args.aux_label_column in (AUTO, "none"):
        args.aux_label_column = None
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
        # Rows without a finer label (people's decisions) stand for themselves.
        aux=[a for p in parts for a in (p.aux or p.labels)] if args.aux_label_column else None,
    )


def _altai_examples(args: argparse.Namespace) -> Examples:
    examples = altai_examples(args.data, args.cap)
    if args.from_db:
        from service.classifier.db_examples import load_db_examples

        people = Examples.from_rows(load_db_examples("category"), ())
        examples = Examples(
            examples.texts + people.texts,
            examples.labels + people.labels,
            examples.contexts + people.contexts,
        )
    if not examples.texts:
        raise ValueError(f"no mapped examples: is {args.data} the directory of the real CSVs?")
    return examples


def _altai(args: argparse.Namespace) -> dict[str, Any]:
    from service.config import get_settings

    out = args.out or get_settings().effective_category_model_path
    if out is None:
        raise ValueError("the category model is disabled (CATEGORY_MODEL_ENABLED); pass --out")
    if args.if_missing and out.exists():
        return {"model": str(out), "skipped": "the artifact exists"}
    if args.if_missing and not args.data.is_dir():
        # A checkout away from ../shared has no real appeals to learn from: rules only, no error.
        print(f"no real data at {args.data}: the router runs on its keyword rules", file=sys.stderr)
        return {"model": None, "skipped": f"no real data at {args.data}"}
    if args.if_missing:
        print(f"training the category model into {out} (about a minute, once)", file=sys.stderr)
    args.out, args.text_column, args.label_column, args.context = out, "text", LABEL_COLUMN, []
    # A category label: place features cost such labels accuracy (docs/classifier.md).
    args.aux_label_column, args.place_features = None, "off"
    return _fit_and_save(args, _altai_examples(args), ModelConfig())


def _train(args: argparse.Namespace) -> dict[str, Any]:
    return _fit_and_save(args, _training_examples(args), ModelConfig(svm_c=args.svm_c))


def _fit_and_save(
    args: argparse.Namespace, examples: Examples, config: ModelConfig
) -> dict[str, Any]:
    config = config_for_size(len(examples), config)
    result = train(
        examples,
        config=config,
        context_columns=args.context,
        holdout=args.holdout,
        seed=args.seed,
        places={AUTO: None, "on": True, "off": False}[args.place_features],
    )
    config = result.model.config
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
        aux_label_column=args.aux_label_column or "",
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
        "aux_label_column": args.aux_label_column,
        "place_features": config.features.place_weight > 0,
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
        summary = {"train": _train, "altai": _altai, "eval": _eval}[args.command](args)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
