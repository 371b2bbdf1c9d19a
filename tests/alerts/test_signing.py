"""Standard Webhooks signing, checked against the reference vector and the e2e verifier."""

from __future__ import annotations

import base64
import time

import pytest

from service.alerts.signing import (
    SignatureError,
    check_secret,
    generate_secret,
    secret_key,
    sign,
    verify,
    webhook_headers,
)

from .fakes import e2e_verify
from .helpers import make_secret

BODY = b'{"type":"sla.breach","item_id":"42"}'


def test_reference_vector_of_the_standard_webhooks_library() -> None:
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_e2e_receiver_accepts_our_headers() -> None:
    secret = make_secret()
    headers = webhook_headers(secret.value, "alert_1", BODY)
    assert e2e_verify(secret.key, headers, BODY) == (True, True)
    assert headers["webhook-timestamp"].isdigit()


def test_raw_string_secret_uses_its_utf8_bytes() -> None:
    headers = webhook_headers("секрет-без-префикса", "alert_1", BODY)
    assert e2e_verify("секрет-без-префикса".encode(), headers, BODY)[0]
    assert verify("секрет-без-префикса", headers, BODY) == "alert_1"


def test_whsec_padding_is_tolerated() -> None:
    key = bytes(range(25))  # 25 bytes: base64 ends in padding
    padded = "whsec_" + base64.b64encode(key).decode()
    assert secret_key(padded.rstrip("=")) == key == secret_key(padded)


def test_rotation_signs_with_every_secret_and_verifies_with_any() -> None:
    old, new = make_secret(), make_secret()
    headers = webhook_headers([old.value, new.value], "alert_2", BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert e2e_verify(old.key, headers, BODY)[0]
    assert e2e_verify(new.key, headers, BODY)[0]
    assert verify(old.value, headers, BODY) == "alert_2"
    assert verify([new.value], headers, BODY) == "alert_2"


def test_old_secret_is_rejected_after_rotation() -> None:
    old, new = make_secret(), make_secret()
    headers = webhook_headers(new.value, "alert_3", BODY)
    with pytest.raises(SignatureError):
        verify(old.value, headers, BODY)


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamp_outside_five_minutes_is_rejected(skew: int) -> None:
    secret = make_secret()
    now = time.time()
    headers = webhook_headers(secret.value, "alert_4", BODY, timestamp=int(now) + skew)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(secret.value, headers, BODY, now=now)


def test_timestamp_inside_tolerance_is_accepted() -> None:
    secret = make_secret()
    now = time.time()
    headers = webhook_headers(secret.value, "alert_5", BODY, timestamp=int(now) - 299)
    assert verify(secret.value, headers, BODY, now=now) == "alert_5"


def test_one_changed_byte_is_rejected() -> None:
    secret = make_secret()
    headers = webhook_headers(secret.value, "alert_6", BODY)
    with pytest.raises(SignatureError):
        verify(secret.value, headers, BODY.replace(b"42", b"43"))


def test_headers_are_matched_case_insensitively() -> None:
    secret = make_secret()
    headers = {k.title(): v for k, v in webhook_headers(secret.value, "alert_7", BODY).items()}
    assert verify(secret.value, headers, BODY) == "alert_7"


@pytest.mark.parametrize(
    ("name", "value"),
    [("webhook-timestamp", "12.5"), ("webhook-signature", "v1a,abc v2,xyz"), ("webhook-id", None)],
)
def test_malformed_or_missing_headers_are_rejected(name: str, value: str | None) -> None:
    secret = make_secret()
    headers = webhook_headers(secret.value, "alert_8", BODY)
    if value is None:
        del headers[name]
    else:
        headers[name] = value
    with pytest.raises(SignatureError):
        verify(secret.value, headers, BODY)


def test_message_id_must_not_contain_a_full_stop() -> None:
    with pytest.raises(ValueError, match="webhook-id"):
        sign(make_secret().value, "a.b", 1, BODY)


def test_generated_secrets_are_long_random_and_prefixed() -> None:
    one, two = generate_secret(), generate_secret()
    assert one.startswith("whsec_") and one != two
    assert len(secret_key(one)) == 32
    check_secret(one)
    with pytest.raises(ValueError, match="bytes"):
        generate_secret(16)


@pytest.mark.parametrize("bad", ["", "whsec_", "whsec_!!!not-base64", "whsec_c2hvcnQ="])
def test_unusable_secrets_are_refused_at_save_time(bad: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        check_secret(bad)
