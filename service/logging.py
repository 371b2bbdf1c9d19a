"""Structured JSON logs (structlog) for the API and the worker."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

# The id of the HTTP request being served (service/middleware.py), on every log line it causes.
# One variable of our own: structlog's bind_contextvars costs ~5 µs a request.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def add_request_id(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL carries the bot token. arq logs
    # each job's start and end and its health record at INFO (two lines per sweep every 2 s:
    # ~60 lines a minute of an idle worker); our own lines say what each job did, and arq's
    # failures are errors, so they still show.
    for noisy in ("httpx", "httpcore", "arq.worker", "arq.jobs", "arq.connections"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
