"""The `feedback-router` command line."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from service.config import MULTIPROC_ENV, get_settings, private_dir

USAGE = """feedback-router COMMAND ...

commands:
  run                      embedded set-up: migrate, load catalog, start API + worker
  api [--host H --port P]  the HTTP API (uvicorn)
  worker                   the arq worker
  migrate                  apply database migrations
  catalog load DIR         load or update the catalog from CSV files
  users create --role R --authority CODE --name NAME
  route ...                route one message or evaluate a CSV (route --help)
  sla deadline ...         compute a deadline on a calendar (sla --help)
  classifier train|eval    train or evaluate the text classifier
"""


def _no_options(command: str, description: str, argv: list[str]) -> None:
    """Commands without options still answer --help (and refuse what they do not know)
    rather than run."""
    argparse.ArgumentParser(prog=f"feedback-router {command}", description=description).parse_args(
        argv
    )


def cmd_run(argv: list[str]) -> int:
    from service.runner import run

    _no_options("run", "embedded set-up: migrate, load the catalog, start the API and worker", argv)
    return run()


def cmd_api(argv: list[str]) -> int:
    import uvicorn

    settings = get_settings()
    p = argparse.ArgumentParser(prog="feedback-router api")
    p.add_argument("--host", default=settings.api_host)
    p.add_argument("--port", type=int, default=settings.api_port)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    # The app (in this process or uvicorn's workers) reads its settings from the environment:
    # the address given here is the one its links (a report's status_url) must name.
    os.environ["API_HOST"], os.environ["API_PORT"] = a.host, str(a.port)
    get_settings.cache_clear()  # read above, before the options
    if a.workers > 1:
        os.environ[MULTIPROC_ENV] = str(_metrics_dir(settings.var_dir, a.port))
    uvicorn.run(
        "service.main:app_factory",
        factory=True,
        host=a.host,
        port=a.port,
        workers=a.workers,
        access_log=False,
        log_level=settings.log_level.lower(),
    )
    return 0


def _metrics_dir(var_dir: Path, port: int) -> Path:
    """Where the API processes write their metrics for `/metrics` to sum, emptied at the start:
    the counts of a previous run are not this run's (Prometheus reads a restart as a reset)."""
    configured = os.environ.get(MULTIPROC_ENV)
    path = Path(configured) if configured else var_dir / "metrics" / f"api-{port}"
    private_dir(path.parent)
    private_dir(path)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path


def cmd_worker(argv: list[str]) -> int:
    from workers.main import run_worker

    _no_options("worker", "the arq worker: routing, SLA checks, alerts, replies", argv)
    if not get_settings().redis_url:
        return _fail("REDIS_URL is not set (`feedback-router run` starts an embedded Redis)")
    run_worker()
    return 0


def cmd_migrate(argv: list[str]) -> int:
    from service.bootstrap import migrate

    _no_options("migrate", "apply the database migrations (DATABASE_URL)", argv)
    migrate(get_settings())
    print("migrations applied")
    return 0


def cmd_catalog(argv: list[str]) -> int:
    from service.catalog.service import load_catalog_dir
    from service.db import one_off_session

    p = argparse.ArgumentParser(prog="feedback-router catalog")
    sub = p.add_subparsers(dest="action", required=True)
    load = sub.add_parser("load", help="load or update the catalog from a directory of CSVs")
    load.add_argument("directory", type=Path)
    a = p.parse_args(argv)

    async def go() -> dict[str, int]:
        async with one_off_session(get_settings(), "cli") as session:
            report = await load_catalog_dir(session, a.directory)
            await session.commit()
        return report.as_dict()

    try:
        print(json.dumps(asyncio.run(go())))
    except KeyError as exc:
        return _fail(f"a catalog CSV has no column {exc}")
    except IntegrityError as exc:
        return _fail(f"the catalog refers to a code it does not define: {str(exc.orig)[:200]}")
    return 0


def cmd_users(argv: list[str]) -> int:
    from schemas.users import AdminEvent
    from service.db import one_off_session
    from service.errors import AppError
    from service.users.service import create_user

    p = argparse.ArgumentParser(prog="feedback-router users")
    sub = p.add_subparsers(dest="action", required=True)
    c = sub.add_parser("create", help="create a user; prints the bearer token on the last line")
    c.add_argument(
        "--role", required=True, choices=["responder", "supervisor", "operator", "admin", "service"]
    )
    c.add_argument("--authority", required=True)
    c.add_argument("--name", required=True)
    a = p.parse_args(argv)

    async def go() -> str:
        async with one_off_session(get_settings(), "cli") as session:
            user, token = await create_user(
                session, name=a.name, role=a.role, authority_code=a.authority
            )
            session.add(
                AdminEvent(
                    actor="cli",
                    action="users create",
                    target={"user_id": str(user.id)},
                    fields=["authority", "name", "role"],
                )
            )
            await session.commit()
            print(f"created user {user.id} {a.name!r} ({a.role}, {a.authority})")
            return token

    try:
        print(asyncio.run(go()))
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    return 0


def _delegate(module: str) -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        main: Callable[[list[str]], int] = importlib.import_module(module).main
        return main(argv)

    return run


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "run": cmd_run,
    "api": cmd_api,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "catalog": cmd_catalog,
    "users": cmd_users,
    "route": _delegate("service.routing.cli"),
    "sla": _delegate("service.sla.cli"),
    "classifier": _delegate("service.classifier.cli"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or args[0] not in COMMANDS:
        print(USAGE, file=sys.stderr if args and args[0] not in ("-h", "--help") else sys.stdout)
        return 0 if not args or args[0] in ("-h", "--help") else 2
    try:
        return COMMANDS[args[0]](args[1:])
    except (FileNotFoundError, NotADirectoryError) as exc:
        return _fail(f"{exc.strerror}: {exc.filename}")
    except ValidationError as exc:  # the environment's settings
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        return _fail(f"setting {where}: {first['msg']}")
    except OperationalError as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return _fail("the database has no tables yet: run `feedback-router migrate` first")
        return _fail(f"the database is unavailable: {str(exc.orig)[:200]}")
    except OSError as exc:  # a server that refuses the connection (asyncpg does not wrap it)
        return _fail(f"cannot connect: {exc.strerror or exc}")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
