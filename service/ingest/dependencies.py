"""What the ingest endpoints need beyond the intake: the thread joiner for comment answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.ingest.service import Threads


# Async and request-only, so the lean intake handler resolves it without FastAPI's solver.
async def get_threads(request: Request) -> Threads:
    state = request.app.state
    return Threads(state.sessionmaker, state.queue, state.settings)


ThreadsDep = Annotated[Threads, Depends(get_threads)]
