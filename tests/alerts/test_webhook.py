"""WebhookSender against a real HTTP receiver on 127.0.0.1 that verifies like e2e_sla.py."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import httpx
import pytest

from service.alerts import (
    Destination,
    TargetKind,
    WebhookSender,
    make_alert_client,
    next_attempt_delay,
)
from service.alerts.senders import ATTEMPT_TIMEOUT_S

from .fakes import WebhookReceiver
from .helpers import FAST_TIMEOUT, Secret, make_message, make_secret


def hook(receiver: WebhookReceiver, path: str, *secrets: str) -> Destination:
    return Destination(kind=TargetKind.WEBHOOK, target=receiver.url + path, secrets=secrets)


def sender(client: httpx.AsyncClient, **kwargs: object) -> WebhookSender:
    return WebhookSender(client, allow_private=True, timeout=FAST_TIMEOUT, **kwargs)  # type: ignore[arg-type]


async def test_delivery_is_signed_and_verified_by_the_e2e_receiver(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    message = make_message()
    outcome = await sender(client).send(message, hook(receiver, "/ok", secret.value))
    assert outcome.ok and outcome.status_code == 200 and not outcome.permanent
    [hit] = receiver.on("/ok")
    assert (hit.sig_ok, hit.ts_ok) == (True, True)
    assert hit.headers["webhook-id"] == message.alert_id
    assert hit.headers["content-type"] == "application/json"
    body = hit.payload
    for key in ("type", "item_id", "authority_code", "clock", "due_at", "level", "alert_id"):
        assert body[key] not in (None, ""), key
    assert body["type"] == "sla.breach" and body["clock"] == "first_response"
    assert datetime.fromisoformat(body["due_at"]).tzinfo is not None
    assert body["link"] == message.link


async def test_any_2xx_is_success(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, "/accepted", secret.value))
    assert outcome.ok and outcome.status_code == 204


async def test_rotation_old_and_new_secret_both_verify(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    newer = make_secret()
    outcome = await sender(client).send(
        make_message(), hook(receiver, "/ok", newer.value, secret.value)
    )
    assert outcome.ok
    assert receiver.on("/ok")[0].sig_ok  # the receiver still knows only the older secret


async def test_500_then_200_retries_under_the_same_webhook_id(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    ticks = iter([time.time() - 30, time.time()])
    webhook = sender(client, clock=lambda: next(ticks))
    message, target = make_message(), hook(receiver, "/fail-once", secret.value)
    first = await webhook.send(message, target)
    second = await webhook.send(message, target)
    assert (first.ok, first.status_code, first.permanent) == (False, 500, False)
    assert second.ok
    hits = receiver.on("/fail-once")
    assert {h.headers["webhook-id"] for h in hits} == {message.alert_id}
    assert hits[0].body == hits[1].body
    # Each attempt carries its own timestamp, and both verify.
    assert hits[0].headers["webhook-timestamp"] != hits[1].headers["webhook-timestamp"]
    assert all(h.sig_ok and h.ts_ok for h in hits)


async def test_429_retry_after_seconds_is_honoured(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, "/429", secret.value))
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 429, False)
    assert outcome.retry_after_s == 120.0
    import random

    # The schedule's 10 s (±20 %) must not bring the retry earlier than the server asked.
    assert next_attempt_delay(1, retry_after=outcome.retry_after_s, rng=random.Random(1)) == 120.0


async def test_503_retry_after_http_date_is_honoured(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, "/503-date", secret.value))
    assert outcome.status_code == 503 and not outcome.permanent
    expected = datetime(2099, 10, 21, 7, 28).timestamp() - time.time()
    assert outcome.retry_after_s is not None
    assert abs(outcome.retry_after_s - expected) < 120


async def test_410_is_permanent_and_disables_the_endpoint(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, "/410", secret.value))
    assert (outcome.ok, outcome.permanent, outcome.disable_endpoint) == (False, True, True)


@pytest.mark.parametrize(
    ("path", "permanent"), [("/400", True), ("/408", False), ("/409", False), ("/502", False)]
)
async def test_4xx_is_permanent_except_the_retryable_ones(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret, path: str, permanent: bool
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, path, secret.value))
    assert not outcome.ok and outcome.permanent is permanent
    assert not outcome.disable_endpoint


async def test_redirect_is_a_failure_and_is_not_followed(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, "/redirect", secret.value))
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 302, False)
    assert outcome.error is not None and "not followed" in outcome.error
    assert receiver.on("/ok") == []


async def test_hanging_receiver_times_out_as_a_transient_failure(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    started = time.monotonic()
    outcome = await sender(client).send(make_message(), hook(receiver, "/hang", secret.value))
    assert not outcome.ok and not outcome.permanent and outcome.status_code is None
    assert outcome.error is not None and "timed out" in outcome.error
    assert time.monotonic() - started < 2.0


async def test_whole_attempt_is_bounded_even_with_a_long_read_timeout(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
) -> None:
    assert ATTEMPT_TIMEOUT_S <= 15
    slow = WebhookSender(
        client, allow_private=True, timeout=httpx.Timeout(30.0), attempt_timeout_s=0.3
    )
    started = time.monotonic()
    outcome = await slow.send(make_message(), hook(receiver, "/hang", secret.value))
    assert not outcome.ok and "timed out" in (outcome.error or "")
    assert time.monotonic() - started < 2.0


async def test_connection_refused_is_transient(client: httpx.AsyncClient, secret: Secret) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = Destination(
        kind=TargetKind.WEBHOOK, target=f"http://127.0.0.1:{port}/x", secrets=(secret.value,)
    )
    outcome = await sender(client).send(make_message(), target)
    assert not outcome.ok and not outcome.permanent and "ConnectError" in (outcome.error or "")


@pytest.mark.parametrize("secrets", [(), ("whsec_!!!not-base64",)])
async def test_endpoint_without_a_usable_secret_is_not_sent_unsigned(
    client: httpx.AsyncClient, receiver: WebhookReceiver, secrets: tuple[str, ...]
) -> None:
    outcome = await sender(client).send(make_message(), hook(receiver, "/ok", *secrets))
    assert outcome.permanent and not outcome.attempted and "secret" in (outcome.error or "")
    assert receiver.hits == []


class TestSendTimeSsrf:
    async def test_loopback_is_refused_without_allow_private(
        self, client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
    ) -> None:
        strict = WebhookSender(client, allow_private=False, timeout=FAST_TIMEOUT)
        plain = hook(receiver, "/ok", secret.value)
        tls = Destination(
            kind=TargetKind.WEBHOOK,
            target=plain.target.replace("http:", "https:"),
            secrets=plain.secrets,
        )
        refused_scheme = await strict.send(make_message(), plain)
        refused_address = await strict.send(make_message(), tls)
        assert refused_scheme.permanent and "https" in (refused_scheme.error or "")
        assert refused_address.permanent and not refused_address.attempted
        assert "loopback" in (refused_address.error or "")
        assert receiver.hits == []

    async def test_name_resolving_to_10_x_is_refused_at_send_time(
        self, client: httpx.AsyncClient, receiver: WebhookReceiver, secret: Secret
    ) -> None:
        strict = WebhookSender(client, timeout=FAST_TIMEOUT, resolver=lambda host: ["10.0.0.7"])
        target = Destination(
            kind=TargetKind.WEBHOOK, target="https://hooks.example.ru/x", secrets=(secret.value,)
        )
        outcome = await strict.send(make_message(), target)
        assert outcome.permanent and "10.0.0.7" in (outcome.error or "")

    async def test_dns_rebinding_after_the_check_is_caught_by_the_guarded_client(
        self, receiver: WebhookReceiver, secret: Secret
    ) -> None:
        answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])

        def rebinding(host: str) -> Sequence[str]:
            return next(answers)

        async with make_alert_client(
            allow_private=False, resolver=rebinding, timeout=FAST_TIMEOUT
        ) as guarded:
            strict = WebhookSender(guarded, timeout=FAST_TIMEOUT, resolver=rebinding)
            port = receiver.server_address[1]
            target = Destination(
                kind=TargetKind.WEBHOOK,
                target=f"https://rebind.example.ru:{port}/ok",
                secrets=(secret.value,),
            )
            outcome = await strict.send(make_message(), target)
        assert outcome.permanent and "127.0.0.1" in (outcome.error or "")
        assert receiver.hits == []

    async def test_guarded_client_connects_to_the_checked_address_keeping_the_host(
        self, receiver: WebhookReceiver, secret: Secret
    ) -> None:
        calls: list[str] = []

        def resolver(host: str) -> Sequence[str]:
            calls.append(host)
            return ["127.0.0.1"]

        async with make_alert_client(
            allow_private=True, resolver=resolver, timeout=FAST_TIMEOUT
        ) as guarded:
            webhook = WebhookSender(
                guarded, allow_private=True, timeout=FAST_TIMEOUT, resolver=resolver
            )
            port = receiver.server_address[1]
            target = Destination(
                kind=TargetKind.WEBHOOK,
                target=f"http://alerts.test:{port}/ok",
                secrets=(secret.value,),
            )
            outcome = await webhook.send(make_message(), target)
        assert outcome.ok, outcome.error
        [hit] = receiver.on("/ok")
        assert hit.headers["host"] == f"alerts.test:{port}" and hit.sig_ok
        assert calls == ["alerts.test", "alerts.test"]  # save-style check, then the pinned connect

    async def test_unresolvable_name_at_send_time_is_transient(
        self, client: httpx.AsyncClient, secret: Secret
    ) -> None:
        def nxdomain(host: str) -> Sequence[str]:
            raise OSError("temporary failure in name resolution")

        webhook = WebhookSender(client, timeout=FAST_TIMEOUT, resolver=nxdomain)
        target = Destination(
            kind=TargetKind.WEBHOOK, target="https://gone.example.ru/", secrets=(secret.value,)
        )
        outcome = await webhook.send(make_message(), target)
        assert not outcome.ok and not outcome.permanent
