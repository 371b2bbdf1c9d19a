"""Pure fixtures for the alert delivery tests: fake receivers on 127.0.0.1, no database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from .fakes import FakeTelegram, TelegramServer, WebhookReceiver
from .helpers import FAST_TIMEOUT, Secret, make_secret


@pytest.fixture(autouse=True)
def _clean() -> None:
    """Overrides the database clean-up of tests/conftest.py: nothing here touches the DB."""


@pytest.fixture
def secret() -> Secret:
    return make_secret()


@pytest.fixture(scope="session")
def _receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    server.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver(_receiver: WebhookReceiver, secret: Secret) -> Iterator[WebhookReceiver]:
    _receiver.reset(secret.key)
    yield _receiver
    _receiver.release.set()


@pytest.fixture(scope="session")
def _telegram() -> Iterator[TelegramServer]:
    server = TelegramServer(FakeTelegram())
    server.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def telegram(_telegram: TelegramServer) -> TelegramServer:
    _telegram.fake.reset()
    return _telegram


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # A plain client on purpose: the senders must guard and time out on their own.
    async with httpx.AsyncClient(timeout=FAST_TIMEOUT) as c:
        yield c
