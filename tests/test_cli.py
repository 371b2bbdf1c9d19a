"""The command line: users, catalog load, migrate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from schemas.catalog import Authority
from schemas.items import Item
from tests.builders import widget_report
from tests.conftest import CATALOG_DIR, run_cli

EXE = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "feedback-router"


async def test_users_create_prints_token_last(cli_env, client, make_user):
    out = run_cli(
        cli_env,
        "users",
        "create",
        "--role",
        "responder",
        "--authority",
        "s_aleysky_kashinsky",
        "--name",
        "cli-user",
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("fr_") and " " not in token
    r = await client.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    admin = await make_user("admin", "op_tsur")
    [event] = (await client.get("/api/v1/admin/audit", headers=admin)).json()
    assert (event["actor"], event["action"]) == ("cli", "users create")


def test_a_user_needs_a_name(cli_env) -> None:
    out = run_cli(
        cli_env, "users", "create", "--role", "admin", "--authority", "op_tsur", "--name", " "
    )
    assert out.returncode == 2 and "a user needs a name" in out.stderr, out.stderr


async def test_users_create_errors_are_clear(cli_env):
    out = run_cli(
        cli_env, "users", "create", "--role", "responder", "--authority", "nope", "--name", "x"
    )
    assert out.returncode == 2
    assert "unknown authority" in out.stderr


async def test_catalog_reload_updates_without_touching_items(
    cli_env, client, sessionmaker, tmp_path
):
    item_id = (await widget_report(client)).json()["id"]
    for f in CATALOG_DIR.glob("*.csv"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    auth = tmp_path / "authorities.csv"
    auth.write_text(
        auth.read_text(encoding="utf-8").replace(
            "Кашинский сельсовет,", "Кашинский сельсовет (нов.),"
        ),
        encoding="utf-8",
    )
    out = run_cli(cli_env, "catalog", "load", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["authorities"] == 188
    async with sessionmaker() as s:
        kashino = await s.get(Authority, "s_aleysky_kashinsky")
        items = (await s.exec(select(Item))).all()
    assert kashino is not None and kashino.name.endswith("(нов.)")
    assert [str(i.id) for i in items] == [item_id]
    out = run_cli(cli_env, "catalog", "load", str(CATALOG_DIR))  # restore
    assert out.returncode == 0


def test_migrate_is_repeatable(cli_env):
    out = run_cli(cli_env, "migrate")
    assert out.returncode == 0, out.stderr


def test_route_cli_uses_a_model_artifact(cli_env, tmp_path):
    from tests.classifier.fixtures_altai import SILENT_TEXT, save_altai_model

    path = tmp_path / "altai.joblib"
    save_altai_model(path, "altai-cli-v1")
    with_model = run_cli(cli_env, "route", "--text", SILENT_TEXT, "--model", str(path))
    assert with_model.returncode == 0, with_model.stderr
    decision = json.loads(with_model.stdout)
    assert (decision["decided_by"], decision["category"]) == ("model", "blag_yards")
    assert decision["version"].endswith("+altai-cli-v1")

    # The worker's default path is used when present; --no-model turns it off.
    env = {**cli_env, "CATEGORY_MODEL_PATH": str(path)}
    assert json.loads(run_cli(env, "route", "--text", SILENT_TEXT).stdout)["decided_by"] == "model"
    rules = json.loads(run_cli(env, "route", "--text", SILENT_TEXT, "--no-model").stdout)
    assert (rules["decided_by"], rules["status"]) == ("none", "triage")

    missing = run_cli(cli_env, "route", "--text", "x", "--model", str(tmp_path / "nope.joblib"))
    assert missing.returncode != 0 and "no model artifact" in missing.stderr


def test_request_urls_with_bot_tokens_are_not_logged() -> None:
    import logging

    from service.logging import configure_logging

    configure_logging("INFO", json=True)
    # httpx logs each request URL at INFO; a Telegram Bot API URL carries the token.
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_the_embedded_data_directory_is_its_owners_only(tmp_path) -> None:
    """It holds the SQLite file with citizens' contact details."""
    from service.config import private_dir

    var = tmp_path / "var"
    private_dir(var)
    assert var.stat().st_mode & 0o077 == 0
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_dir(shared)  # a directory someone made is left as they set it
    assert shared.stat().st_mode & 0o777 == 0o755


async def test_api_port_option_is_the_port_its_links_name(cli_env) -> None:
    """`feedback-router api --port P`: a report's status_url must point at P (it named the
    API_PORT default, where nothing listens)."""
    import asyncio

    import httpx

    from service.runner import free_port
    from tests.builders import LAMP_TEXT, SETTLEMENT_PAGE

    port = free_port()
    env = {k: v for k, v in cli_env.items() if k not in ("API_PORT", "PUBLIC_BASE_URL")}
    proc = await asyncio.create_subprocess_exec(
        str(EXE),
        *("api", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(200):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            body = {"page_id": SETTLEMENT_PAGE, "text": LAMP_TEXT}
            r = await http.post("/api/v1/widget/reports", json=body)
        assert r.status_code == 202, r.text
        assert r.json()["status_url"].startswith(f"http://127.0.0.1:{port}/"), r.json()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=20)


def _fresh_env(tmp_path, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    return {**env, "VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "x", **extra}


@pytest.mark.parametrize(
    ("args", "extra", "says"),
    [
        (("catalog", "load", "/nonexistent"), {}, "No such file or directory: /nonexistent/"),
        (("users", "create", "--role", "admin", "--authority", "op_tsur", "--name", "x"), {},
         "run `feedback-router migrate` first"),
        (("migrate",), {"API_PORT": "abc"}, "setting API_PORT: "),
        (("worker",), {}, "REDIS_URL is not set"),
        (("route", "eval", "--input", "/nonexistent.csv"), {}, "No such file or directory"),
    ],
)  # fmt: skip
def test_operator_mistakes_get_one_line_errors(tmp_path, args, extra, says) -> None:
    out = run_cli(_fresh_env(tmp_path, **extra), *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and says in out.stderr, out.stderr


@pytest.mark.parametrize("command", ["run", "migrate", "worker"])
def test_help_shows_help_instead_of_running(tmp_path, command) -> None:
    out = run_cli(_fresh_env(tmp_path), command, "--help")
    assert out.returncode == 0 and out.stdout.startswith(f"usage: feedback-router {command}")
    assert not (tmp_path / "var").exists()  # nothing was started or migrated


def test_run_restarts_what_dies_and_stops_redis_last(tmp_path) -> None:
    """`run` supervises the embedded Redis like the API and the worker: one that dies is
    started again (a dead Redis left the worker crash-looping), and Redis stops after them."""
    import subprocess
    import sys
    import time

    from service.runner import Supervisor

    order = tmp_path / "order"
    script = (
        "import signal, sys, time\n"
        "def bye(*_):\n"
        f"    open({str(order)!r}, 'a').write(sys.argv[1] + '\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "time.sleep(60)\n"
    )

    def starter(name: str):
        return lambda: subprocess.Popen([sys.executable, "-c", script, name])

    sup = Supervisor({n: starter(n) for n in ("redis", "api", "worker")}, last=("redis",))
    for name in ("redis", "api", "worker"):
        sup.start(name)
    try:
        time.sleep(0.5)
        first = sup.procs["redis"].pid
        sup.procs["redis"].kill()
        sup.procs["redis"].wait()
        sup.watch_once()
        assert sup.procs["redis"].pid != first and sup.procs["redis"].poll() is None
        time.sleep(0.5)  # let the new one install its handler
    finally:
        sup.stop()
    assert order.read_text().split()[-1] == "redis"


async def test_route_from_db_sees_the_overrides_the_worker_uses(cli_env, client, make_user):
    admin = await make_user("admin", "op_tsur")
    r = await client.post(
        "/api/v1/admin/routing-overrides",
        headers=admin,
        json={"target_authority_code": "c_barnaul", "text_pattern": "павловск\\w* тракт"},
    )
    assert r.status_code == 201, r.text
    ask = ("route", "--text", "на павловском тракте ямы", "--page-id", "vk:club_gov_altai")
    csv = run_cli(cli_env, *ask, "--no-model")
    live = run_cli(cli_env, *ask, "--no-model", "--from-db")
    assert csv.returncode == 0 and live.returncode == 0, (csv.stderr, live.stderr)
    assert json.loads(csv.stdout)["authority_code"] != "c_barnaul"
    decided = json.loads(live.stdout)
    assert (decided["authority_code"], decided["status"]) == ("c_barnaul", "routed")
    both = run_cli(cli_env, *ask, "--from-db", "--catalog", str(CATALOG_DIR))
    assert both.returncode == 2 and "not allowed with" in both.stderr


async def test_sla_deadline_from_db_sees_calendar_edits(cli_env, client, make_user):
    admin = await make_user("admin", "op_tsur")
    r = await client.post(
        "/api/v1/admin/calendars/altai/overrides",
        headers=admin,
        json={"date": "2026-12-01", "kind": "non_working", "note": "региональный выходной"},
    )
    assert r.status_code == 200, r.text
    ask = ("sla", "deadline", "--start", "2026-11-30T10:00", "--duration", "1")
    built_in = run_cli(cli_env, *ask, "--unit", "working_days")
    live = run_cli(cli_env, *ask, "--unit", "working_days", "--from-db")
    assert (built_in.returncode, live.returncode) == (0, 0), (built_in.stderr, live.stderr)
    assert built_in.stdout.strip() == "2026-12-01T18:00:00+07:00"
    assert live.stdout.strip() == "2026-12-02T18:00:00+07:00"


def test_route_from_db_without_a_catalog_says_so(cli_env, tmp_path):
    env = {**cli_env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    assert run_cli(env, "migrate").returncode == 0
    out = run_cli(env, "route", "--from-db", "--text", "яма на дороге")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "error: the database has no catalog: run `feedback-router catalog load` (or `make run`)"
        " first"
    )


async def test_metrics_of_api_workers_are_summed_over_the_processes(cli_env, tmp_path) -> None:
    """`api --workers 2`: a scrape reaches one process, yet must count every process's requests
    (it read only its own process's before)."""
    import asyncio
    import re

    import httpx

    from service.runner import free_port

    port = free_port()
    env = {**cli_env, "VAR_DIR": str(tmp_path / "var")}
    stale = tmp_path / "var" / "metrics" / f"api-{port}"
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"not this run's")
    proc = await asyncio.create_subprocess_exec(
        str(EXE),
        *("api", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    sent = 0
    try:
        for _ in range(300):
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                    answered = await http.get("/healthz")
                sent += 1
                if answered.status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        for _ in range(40):  # a new connection each, so both processes take some
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/healthz")).status_code == 200
                sent += 1
        counted = re.compile(r'http_requests_total\{[^}]*route="/healthz"[^}]*\} (\S+)')
        totals = []
        for _ in range(8):  # each on a new connection: whichever process takes it
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                text = (await http.get("/metrics")).text
            totals.append(sum(float(v) for v in counted.findall(text)))
        assert totals == [sent] * len(totals), (totals, sent)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=20)


def test_from_db_with_a_server_that_refuses_is_a_one_line_error(cli_env):
    env = {**cli_env, "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"}
    for args in (
        ("route", "--from-db", "--text", "яма"),
        (
            "sla",
            "deadline",
            "--from-db",
            "--start",
            "2026-12-01T10:00",
            "--duration",
            "1",
            "--unit",
            "hours",
        ),
    ):
        out = run_cli(env, *args)
        assert out.returncode == 2, out.stderr
        assert out.stderr.startswith("error: cannot connect: ") and "\n" == out.stderr[-1:]
        assert out.stderr.count("\n") == 1, out.stderr
