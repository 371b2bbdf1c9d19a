"""`feedback-router route …`: check the router by hand or in bulk (argv excludes "route")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.routing.catalog import load_catalog_dir
from service.routing.decision import RouteInput
from service.routing.engine import Router
from service.routing.evaluate import evaluate


def _default_catalog() -> Path:
    from service.config import get_settings

    return get_settings().catalog_dir


def _router(catalog_dir: str | None) -> Router:
    from service.config import get_settings

    settings = get_settings()
    catalog = load_catalog_dir(Path(catalog_dir) if catalog_dir else _default_catalog())
    return Router(
        catalog,
        triage_confidence=settings.triage_confidence,
        max_distance_km=settings.place_max_distance_km,
    )


def _route_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedback-router route")
    parser.add_argument("--text", required=True)
    parser.add_argument("--channel", default="comment", choices=("comment", "widget", "platform"))
    parser.add_argument("--page-id")
    parser.add_argument("--lat", type=float)
    parser.add_argument("--lon", type=float)
    parser.add_argument("--address")
    parser.add_argument("--category-hint")
    parser.add_argument("--catalog", help="directory with the catalog CSVs")
    return parser


def _eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedback-router route eval")
    parser.add_argument("--input", required=True, help="labelled CSV")
    parser.add_argument("--catalog", help="directory with the catalog CSVs")
    return parser


def main(argv: list[str]) -> int:
    if argv and argv[0] == "eval":
        args = _eval_parser().parse_args(argv[1:])
        result = evaluate(Path(args.input), _router(args.catalog))
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    args = _route_parser().parse_args(argv)
    if (args.lat is None) != (args.lon is None):
        sys.stderr.write("--lat and --lon go together\n")
        return 2
    item = RouteInput(
        text=args.text,
        channel=args.channel,
        page_id=args.page_id,
        lat=args.lat,
        lon=args.lon,
        address=args.address,
        category_hint=args.category_hint,
    )
    decision = _router(args.catalog).route(item)
    sys.stdout.write(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
