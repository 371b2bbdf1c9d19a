"""EmailSender against a minimal SMTP server on asyncio streams."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from service.alerts import Destination, EmailSender, TargetKind

from .fakes import FakeSmtp
from .helpers import make_message


def mailbox(address: str) -> Destination:
    return Destination(kind=TargetKind.EMAIL, target=address)


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_mail_is_delivered_with_subject_body_and_stable_message_id(smtp: FakeSmtp) -> None:
    sender = EmailSender("127.0.0.1", smtp.port, "alerts@cur.example.ru", timeout=3)
    message = make_message()
    outcome = await sender.send(message, mailbox("Head@Example.RU"))
    assert outcome.ok and outcome.status_code == 250
    [mail] = smtp.mails
    assert mail.mail_from == "alerts@cur.example.ru" and mail.rcpt_to == ["Head@example.ru"]
    email = parse(mail.data)
    assert message.item_id in str(email["Subject"]) and "Нарушен срок" in str(email["Subject"])
    assert email["Message-ID"] == f"<{message.alert_id}@cur.example.ru>"
    assert email["Auto-Submitted"] == "auto-generated"
    body = email.get_content()
    assert message.link in body and "12.03.2026 18:00 (Asia/Barnaul, UTC+07:00)" in body


async def test_login_is_used_when_credentials_are_given(smtp: FakeSmtp) -> None:
    sender = EmailSender(
        "127.0.0.1", smtp.port, "alerts@cur.example.ru", username="relay", password="pw", timeout=3
    )
    assert (await sender.send(make_message(), mailbox("ops@example.ru"))).ok
    assert smtp.auth == ["\0relay\0pw"]


async def test_rejected_mailbox_is_permanent(smtp: FakeSmtp) -> None:
    smtp.rcpt_replies["gone@example.ru"] = b"550 5.1.1 no such user"
    sender = EmailSender("127.0.0.1", smtp.port, "alerts@cur.example.ru", timeout=3)
    outcome = await sender.send(make_message(), mailbox("gone@example.ru"))
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 550, True)
    assert smtp.mails == []


async def test_greylisting_is_transient(smtp: FakeSmtp) -> None:
    smtp.rcpt_replies["busy@example.ru"] = b"451 4.7.1 try again later"
    sender = EmailSender("127.0.0.1", smtp.port, "alerts@cur.example.ru", timeout=3)
    outcome = await sender.send(make_message(), mailbox("busy@example.ru"))
    assert (outcome.ok, outcome.status_code, outcome.permanent) == (False, 451, False)


async def test_relay_down_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = EmailSender("127.0.0.1", port, "alerts@cur.example.ru", timeout=2)
    outcome = await sender.send(make_message(), mailbox("ops@example.ru"))
    assert not outcome.ok and not outcome.permanent and outcome.error


async def test_invalid_address_is_refused_without_connecting() -> None:
    sender = EmailSender("127.0.0.1", 1, "alerts@cur.example.ru", timeout=2)
    outcome = await sender.send(make_message(), mailbox("not-an-address"))
    assert outcome.permanent and not outcome.attempted


def test_an_smtp_answer_that_names_the_address_is_stored_without_it() -> None:
    import smtplib
    import time

    from service.alerts.mail import _smtp_failure

    data = smtplib.SMTPDataError(554, b"5.7.1 <petr@example.ru> rejected as spam")
    lost = OSError("connection to mx for petr@example.ru lost")
    for exc in (data, lost):
        error = _smtp_failure(time.monotonic(), exc).error or ""
        assert "petr@example.ru" not in error and error, error
