"""arq worker settings: jobs, the periodic sweep, and clients built once per process."""

from __future__ import annotations

import gc
from typing import Any, cast

import httpx
import structlog
from arq import cron, func
from arq.worker import Worker
from prometheus_client import start_http_server

from schemas.jobs import (
    DELIVER_ALERT,
    DELIVER_REPLY,
    POLL_PLATFORM,
    PURGE_PII,
    REPLIES_SWEEP,
    ROUTE_ITEM,
    SLA_CHECK,
    SLA_SWEEP,
    SWEEP,
    WORKER_STOP_GRACE_S,
)
from service.alerts.mail import EmailSender
from service.alerts.pacing import TelegramPacer
from service.alerts.senders import Senders, TelegramSender, WebhookSender
from service.alerts.transport import make_alert_client
from service.clients.redis import deserialize, redis_settings, serialize
from service.config import Settings, get_settings
from service.db import make_engine, make_sessionmaker
from service.logging import configure_logging
from service.routing.service import text_model_for
from workers import items, replies, sla
from workers.context import WorkerContext
from workers.metrics import measured
from workers.retry import retried

log = structlog.get_logger()


def _startup(settings: Settings) -> Any:
    async def on_startup(ctx: WorkerContext) -> None:
        ctx["settings"] = settings
        ctx["engine"] = make_engine(settings, name="worker")
        ctx["sessionmaker"] = make_sessionmaker(ctx["engine"])
        ctx["alert_client"] = make_alert_client(allow_private=settings.alert_allow_private_targets)
        ctx["telegram_pacer"] = TelegramPacer()
        ctx["senders"] = build_senders(settings, ctx["alert_client"], ctx["telegram_pacer"])
        ctx["http"] = httpx.AsyncClient(timeout=httpx.Timeout(10, connect=3))
        # Load the category model now (≤ 2 s), not inside the first routing job.
        model = text_model_for(settings)
        loaded = model.current() if model is not None else None
        if settings.worker_metrics_port:
            start_http_server(settings.worker_metrics_port, addr=settings.api_host)
        gc.freeze()  # see service/main.py: keeps full collections short
        # Said at start: without a model the worker routes on keyword rules alone.
        version = loaded.metadata.model_version if loaded else "none: keyword rules only"
        log.info("worker.started", category_model=version)

    return on_startup


def build_senders(settings: Settings, client: Any, pacer: TelegramPacer | None) -> Senders:
    private = settings.alert_allow_private_targets
    telegram = None
    if settings.telegram_bot_token:
        telegram = TelegramSender(
            client, settings.telegram_bot_token, api_base=settings.telegram_api_base, pacer=pacer
        )
    email = None
    if settings.smtp_host:
        email = EmailSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
        )
    return Senders(
        webhook=WebhookSender(client, allow_private=private), email=email, telegram=telegram
    )


async def on_shutdown(ctx: WorkerContext) -> None:
    await ctx["alert_client"].aclose()
    await ctx["http"].aclose()
    await ctx["engine"].dispose()
    log.info("worker.stopped")


_DIVISORS_OF_60 = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)


def _every(seconds: int) -> dict[str, Any]:
    """arq cron fields for "every `seconds`": evenly spaced, so the interval is rounded down to
    a divisor of a minute (under 60 s) or of an hour (in whole minutes above)."""
    if seconds < 60:
        step = max(d for d in _DIVISORS_OF_60 if d <= max(seconds, 1))
        return {"second": set(range(0, 60, step))}
    step = max(d for d in _DIVISORS_OF_60 if d <= seconds // 60)
    return {"minute": set(range(0, 60, step)), "second": {0}}


# Every job's timeout, and so arq's "in progress" lock: arq keeps a job it started locked for
# the longest timeout of all its functions (+10 s), and a job whose worker was killed runs again
# only once its lock expires. With the purge's 600 s, an item being routed at a kill -9 waited
# ten minutes; longer work (the poll, the purge) stops within its time budget and goes on at
# the next run.
JOB_TIMEOUT_S = 30


def _sweep(job: Any, name: str, every_s: int) -> Any:
    # Crons keep max_tries=1 and unique=True; the DB constraints make a double run harmless.
    # Not `retried`: a cron's next run is its retry.
    return cron(
        cast(Any, measured(name, job)),
        name=name,
        **_every(every_s),
        run_at_startup=True,
        timeout=JOB_TIMEOUT_S,
        unique=True,
        max_tries=1,
    )


def cron_jobs(settings: Settings) -> list[Any]:
    common: dict[str, Any] = {"unique": True, "max_tries": 1}
    return [
        _sweep(items.sweep, SWEEP, settings.sweep_interval_s),
        _sweep(sla.sweep, SLA_SWEEP, settings.sla_sweep_interval_s),
        _sweep(replies.sweep, REPLIES_SWEEP, settings.sweep_interval_s),
        cron(
            cast(Any, measured(POLL_PLATFORM, items.poll_platform)),
            name=POLL_PLATFORM,
            **_every(settings.platform_poll_interval_s),
            timeout=JOB_TIMEOUT_S,
            **common,
        ),
        cron(  # hourly, a batch at a time within its budget: a backlog goes on next hour
            cast(Any, measured(PURGE_PII, items.purge_personal_data)),
            name=PURGE_PII,
            minute={17},
            second={0},
            timeout=JOB_TIMEOUT_S,
            **common,
        ),
    ]


def _func(name: str, job: Any, *, max_tries: int) -> Any:
    return func(
        cast(Any, measured(name, retried(name, job))),
        name=name,
        max_tries=max_tries,
        timeout=JOB_TIMEOUT_S,
    )


def worker_options(settings: Settings) -> dict[str, Any]:
    return {
        "functions": [
            _func(ROUTE_ITEM, items.route, max_tries=10),
            _func(SLA_CHECK, sla.check, max_tries=10),
            # An attempt is capped at 15 s by the senders; the lease outlives the job timeout.
            # Ten tries, like the rest: arq's retries of a database outage (2, 4 … 10 s apart)
            # must outlast one, or the failed result holds the id from the sweep for 60 s.
            _func(DELIVER_ALERT, sla.deliver, max_tries=10),
            _func(DELIVER_REPLY, replies.deliver, max_tries=10),
        ],
        "cron_jobs": cron_jobs(settings),
        "on_startup": _startup(settings),
        "on_shutdown": on_shutdown,
        "redis_settings": redis_settings(settings.redis_url),
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        # Results are not business data; keep them briefly so the sweep can re-enqueue by id.
        "keep_result": 60,
        "poll_delay": 0.1,
        "max_jobs": 20,
        "health_check_interval": 15,
        "handle_signals": True,
        # On SIGTERM (a deploy) stop taking jobs and let those running finish, a delivery
        # included (its attempt is capped at 15 s), rather than cancel them mid-send and leave
        # them to be sent again when their lease runs out. Within Kubernetes' default 30 s.
        "job_completion_wait": WORKER_STOP_GRACE_S,
    }


def create_worker(settings: Settings | None = None, **overrides: Any) -> Worker:
    settings = settings or get_settings()
    return Worker(**{**worker_options(settings), **overrides})


def run_worker() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    create_worker(settings).run()
