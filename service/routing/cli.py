"""`feedback-router route …`: check the router by hand or in bulk (argv excludes "route")."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from service.classifier.serving import ArtifactTextModel
from service.config import Settings
from service.routing.catalog import Catalog, load_catalog_dir
from service.routing.decision import RouteInput
from service.routing.engine import Router
from service.routing.evaluate import BadInput, evaluate
from service.routing.overrides import RoutingOverride


def _default_catalog() -> Path:
    from service.config import get_settings

    return get_settings().catalog_dir


def _router(args: argparse.Namespace) -> Router:
    from service.config import get_settings

    settings = get_settings()
    overrides: list[RoutingOverride] = []
    if args.from_db:
        catalog, overrides = asyncio.run(_live_catalog(settings))
    else:
        catalog = load_catalog_dir(Path(args.catalog) if args.catalog else _default_catalog())
    return Router(
        catalog,
        overrides=overrides,
        triage_confidence=settings.triage_confidence,
        max_distance_km=settings.place_max_distance_km,
        model=_model(args, settings),
    )


async def _live_catalog(settings: Settings) -> tuple[Catalog, list[RoutingOverride]]:
    """What the worker routes with: the catalog and the active overrides in the database."""
    from service.db import one_off_session
    from service.routing.service import active_overrides, db_catalog

    async with one_off_session(settings, "cli") as session:
        catalog = await db_catalog(session)
        if not catalog.authorities:
            sys.stderr.write(
                "error: the database has no catalog: run `feedback-router catalog load`"
                " (or `make run`) first\n"
            )
            raise SystemExit(2)
        return catalog, await active_overrides(session)


def _model(args: argparse.Namespace, settings: Settings) -> ArtifactTextModel | None:
    """The trained category model the worker would use, unless told otherwise."""
    if args.no_model:
        return None
    path = args.model or settings.effective_category_model_path
    if path is None:
        return None
    if args.model and not path.exists():
        raise SystemExit(f"error: no model artifact at {path}")
    return ArtifactTextModel(path)


def _model_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--catalog", help="directory with the catalog CSVs")
    source.add_argument(
        "--from-db",
        action="store_true",
        help="the catalog and routing overrides in the database (DATABASE_URL), as the worker",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--model", type=Path, help="category model artifact (default: the worker's, if present)"
    )
    group.add_argument("--no-model", action="store_true", help="keyword rules only")


def _route_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedback-router route")
    parser.add_argument("--text", required=True)
    parser.add_argument("--channel", default="comment", choices=("comment", "widget", "platform"))
    parser.add_argument("--page-id")
    parser.add_argument("--lat", type=float)
    parser.add_argument("--lon", type=float)
    parser.add_argument("--address")
    parser.add_argument("--category-hint")
    _model_options(parser)
    return parser


def _eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedback-router route eval")
    parser.add_argument("--input", required=True, help="labelled CSV")
    _model_options(parser)
    return parser


def main(argv: list[str]) -> int:
    if argv and argv[0] == "eval":
        args = _eval_parser().parse_args(argv[1:])
        try:
            result = evaluate(Path(args.input), _router(args))
        except BadInput as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
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
    decision = _router(args).route(item)
    sys.stdout.write(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
