"""TelegramSender against a fake Bot API over real HTTP, and the per-chat pacer."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from service.alerts import Destination, TargetKind, TelegramPacer, TelegramSender
from service.alerts.pacing import Reservation

from .fakes import TelegramServer
from .helpers import FAST_TIMEOUT, make_message


def chat(target: str) -> Destination:
    return Destination(kind=TargetKind.TELEGRAM, target=target)


def bot(client: httpx.AsyncClient, server: TelegramServer, **kwargs: object) -> TelegramSender:
    return TelegramSender(client, server.fake.token, server.url, timeout=FAST_TIMEOUT, **kwargs)  # type: ignore[arg-type]


def error_body(code: int, description: str, **parameters: int) -> tuple[int, dict[str, object]]:
    body: dict[str, object] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


async def test_message_is_sent_as_plain_text(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    message = make_message()
    outcome = await bot(client, telegram).send(message, chat("-1001234567890"))
    assert outcome.ok and outcome.status_code == 200
    [call] = telegram.fake.calls
    assert call.payload["chat_id"] == -1001234567890
    assert "parse_mode" not in call.payload
    assert message.item_id in call.payload["text"] and message.link in call.payload["text"]


async def test_channel_username_is_sent_as_a_string(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    assert (await bot(client, telegram).send(make_message(), chat("@cur_altai"))).ok
    assert telegram.fake.calls[0].payload["chat_id"] == "@cur_altai"


async def test_429_retry_after_is_reported_and_paces_the_chat(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    telegram.fake.script["555"].append(
        error_body(429, "Too Many Requests: retry after 7", retry_after=7)
    )
    pacer = TelegramPacer()
    outcome = await bot(client, telegram, pacer=pacer).send(make_message(), chat("555"))
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 429, False)
    assert outcome.retry_after_s == 7.0
    granted, wait = pacer.reserve("555", max_wait_s=60)
    assert granted and 6.0 < wait <= 7.0


async def test_blocked_bot_is_permanent_and_disables_the_endpoint(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    telegram.fake.script["556"].append(error_body(403, "Forbidden: bot was blocked by the user"))
    outcome = await bot(client, telegram).send(make_message(), chat("556"))
    assert (outcome.permanent, outcome.disable_endpoint) == (True, True)


async def test_unknown_chat_is_permanent(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    telegram.fake.script["557"].append(error_body(400, "Bad Request: chat not found"))
    outcome = await bot(client, telegram).send(make_message(), chat("557"))
    assert outcome.permanent and "chat not found" in (outcome.error or "")


async def test_server_error_is_transient(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    telegram.fake.script["558"].append(error_body(502, "Bad Gateway"))
    outcome = await bot(client, telegram).send(make_message(), chat("558"))
    assert not outcome.ok and not outcome.permanent


async def test_migrated_group_is_resent_to_the_supergroup(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    telegram.fake.script["-559"].append(
        error_body(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-1009990000)
    )
    outcome = await bot(client, telegram).send(make_message(), chat("-559"))
    assert outcome.ok and outcome.new_target == "-1009990000"
    assert [c.payload["chat_id"] for c in telegram.fake.calls] == [-559, -1009990000]


async def test_bot_token_never_appears_in_errors(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    wrong = TelegramSender(client, "999:WRONG-token", telegram.url, timeout=FAST_TIMEOUT)
    rejected = await wrong.send(make_message(), chat("1"))
    assert rejected.permanent and rejected.status_code == 401
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = telegram.fake.token
    down = TelegramSender(client, token, f"http://127.0.0.1:{port}", timeout=FAST_TIMEOUT)
    outcome = await down.send(make_message(), chat("1"))
    assert not outcome.ok and not outcome.permanent
    assert token not in (outcome.error or "") and "WRONG" not in (rejected.error or "")


async def test_invalid_chat_id_is_refused_before_sending(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    outcome = await bot(client, telegram).send(make_message(), chat("not a chat"))
    assert outcome.permanent and not outcome.attempted and telegram.fake.calls == []


async def test_burst_to_one_chat_is_spaced_and_nothing_is_lost(
    client: httpx.AsyncClient, telegram: TelegramServer
) -> None:
    pacer = _RecordingPacer(private_interval_s=0.05, global_interval_s=0.0)
    sender = bot(client, telegram, pacer=pacer, max_wait_s=0.12)
    pending = [make_message() for _ in range(8)]
    sent: set[str] = set()
    while pending:
        outcomes = await asyncio.gather(*(sender.send(m, chat("777")) for m in pending))
        deferred = [o.retry_after_s or 0.0 for o in outcomes if not o.ok]
        assert all(not o.attempted for o in outcomes if not o.ok)  # only local pacing refused
        sent |= {m.alert_id for m, o in zip(pending, outcomes, strict=True) if o.ok}
        pending = [m for m, o in zip(pending, outcomes, strict=True) if not o.ok]
        if deferred:
            await asyncio.sleep(min(deferred))
    assert len(sent) == 8 and len(telegram.fake.calls) == 8
    # Arrival gaps at the server carry the machine's scheduling jitter (a late first request can
    # land just before the second), so check the pacer's booked slots are spaced, and that no
    # request reached the server before its slot: the k-th arrival comes after the k-th slot.
    slots = sorted(pacer.slots)
    assert len(slots) == 8
    assert all(b - a >= 0.05 - 1e-6 for a, b in zip(slots, slots[1:], strict=False))
    arrivals = sorted(c.at for c in telegram.fake.calls)
    assert all(at >= slot - 0.005 for at, slot in zip(arrivals, slots, strict=True))


class _RecordingPacer(TelegramPacer):
    """Notes the monotonic time of every slot it grants."""

    def __init__(self, *, private_interval_s: float, global_interval_s: float) -> None:
        super().__init__(
            private_interval_s=private_interval_s,
            global_interval_s=global_interval_s,
            clock=self._tick,
        )
        self.slots: list[float] = []
        self._now = 0.0

    def _tick(self) -> float:
        self._now = time.monotonic()
        return self._now

    def reserve(self, chat_id: str, *, max_wait_s: float) -> Reservation:
        booked = super().reserve(chat_id, max_wait_s=max_wait_s)
        if booked.granted:
            self.slots.append(self._now + booked.delay_s)
        return booked


class TestPacer:
    def make(self) -> tuple[TelegramPacer, list[float]]:
        now = [100.0]
        return TelegramPacer(clock=lambda: now[0]), now

    def test_private_chat_gets_one_message_per_second(self) -> None:
        pacer, _ = self.make()
        waits = [pacer.reserve("42", max_wait_s=10).delay_s for _ in range(4)]
        assert waits == pytest.approx([0.0, 1.0, 2.0, 3.0])

    def test_group_chat_gets_twenty_per_minute(self) -> None:
        pacer, _ = self.make()
        waits = [pacer.reserve("-100500", max_wait_s=100).delay_s for _ in range(21)]
        assert waits[-1] == pytest.approx(60.0)

    def test_refused_reservation_books_nothing(self) -> None:
        pacer, now = self.make()
        pacer.reserve("42", max_wait_s=1)
        pacer.reserve("42", max_wait_s=1)
        refused = pacer.reserve("42", max_wait_s=1)
        assert not refused.granted and refused.delay_s == pytest.approx(2.0)
        now[0] += 2.0
        assert pacer.reserve("42", max_wait_s=0) == (True, 0.0)

    def test_chats_do_not_wait_for_each_other_beyond_the_global_rate(self) -> None:
        pacer, _ = self.make()
        pacer.reserve("1", max_wait_s=1)
        assert pacer.reserve("2", max_wait_s=1).delay_s == pytest.approx(1 / 30)

    def test_a_busy_chat_does_not_hold_the_others_back(self) -> None:
        pacer, _ = self.make()
        waits = [pacer.reserve("42", max_wait_s=10).delay_s for _ in range(3)]
        assert waits == pytest.approx([0.0, 1.0, 2.0])
        assert pacer.reserve("43", max_wait_s=10).delay_s == pytest.approx(3 / 30)

    def test_a_run_of_messages_books_one_slot_each(self) -> None:
        pacer, _ = self.make()
        assert pacer.reserve("-100500", max_wait_s=0, messages=3) == (True, 0.0)
        assert pacer.reserve("-100500", max_wait_s=100).delay_s == pytest.approx(9.0)
        # The overall 30/s counts the four booked messages, not the far slot of the last one.
        assert pacer.reserve("7", max_wait_s=1).delay_s == pytest.approx(4 / 30)

    def test_penalty_pushes_the_chat_back(self) -> None:
        pacer, now = self.make()
        pacer.penalize("42", 30)
        assert not pacer.reserve("42", max_wait_s=10).granted
        now[0] += 30
        assert pacer.reserve("42", max_wait_s=0).granted
