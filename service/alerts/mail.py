"""E-mail alerts over SMTP with the standard library, run in a thread.

smtplib over aiosmtplib: no new dependency, and a thread per message is cheap at alert volume.
Every socket operation is bounded by `timeout`, so a stuck relay cannot hold the thread for long.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from service.alerts.messages import AlertMessage, email_text
from service.alerts.outcome import DeliveryOutcome, Destination, elapsed_ms, short_error
from service.alerts.ssrf import TargetRejected, normalize_email


def build_email(message: AlertMessage, *, sender: str, recipient: str) -> EmailMessage:
    subject, body = email_text(message)
    email = EmailMessage(policy=SMTP)
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = subject
    email["Date"] = format_datetime(datetime.now(UTC))
    # Stable across retries, so a mail client can fold a duplicate delivery into one.
    domain = sender.rpartition("@")[2] or "feedback-router"
    email["Message-ID"] = f"<{message.alert_id}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    email["X-Alert-Id"] = message.alert_id
    email.set_content(body, charset="utf-8")
    return email


def _refused_code(exc: smtplib.SMTPRecipientsRefused) -> int | None:
    codes = [code for code, _ in exc.recipients.values()]
    return codes[0] if codes else None


# An address in an SMTP server's answer ("5.1.1 <ivan@mail.ru>: User unknown"): a citizen's
# personal data, which must not reach the logs or the stored error of a delivery.
_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"']+@[^\s<>()\[\]\\,;:\"']+")


def _without_addresses(text: str) -> str:
    return _ADDRESS.sub("***", text)


def _smtp_failure(started: float, exc: Exception) -> DeliveryOutcome:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Its text is the dict {recipient: (code, answer)}: only the code is kept.
        code, error = _refused_code(exc), "the recipient was refused"
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, error = exc.smtp_code, _without_addresses(_decoded(exc.smtp_error))
    else:
        # Connection refused, timeouts, disconnects: the relay may be back later.
        error = _without_addresses(f"{type(exc).__name__}: {exc}")
        return DeliveryOutcome(ok=False, error=short_error(error), duration_ms=elapsed_ms(started))
    permanent = code is not None and 500 <= code < 600  # SMTP 5yz = permanent, 4yz = transient
    return DeliveryOutcome(
        ok=False,
        status_code=code,
        permanent=permanent,
        error=short_error(f"SMTP {code}: {error}"),
        duration_ms=elapsed_ms(started),
    )


def _decoded(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


class EmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._ssl_context = ssl_context

    def _send_sync(self, email: EmailMessage) -> None:
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            smtp.ehlo()
            if self._starttls:
                smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self._username is not None:
                smtp.login(self._username, self._password or "")
            smtp.send_message(email)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                # The message was accepted (or already failed): a rude QUIT changes neither.
                smtp.close()

    async def send(self, message: AlertMessage, destination: Destination) -> DeliveryOutcome:
        try:
            recipient = normalize_email(destination.target)
        except TargetRejected as exc:
            error = short_error(str(exc))
            return DeliveryOutcome(ok=False, permanent=True, attempted=False, error=error)
        return await self.send_email(build_email(message, sender=self._sender, recipient=recipient))

    @property
    def sender(self) -> str:
        return self._sender

    async def send_email(self, email: EmailMessage) -> DeliveryOutcome:
        """Send a built message (alerts, replies to citizens); 4xx is temporary, 5xx permanent."""
        started = time.monotonic()
        try:
            await asyncio.to_thread(self._send_sync, email)
        except (smtplib.SMTPException, OSError) as exc:
            return _smtp_failure(started, exc)
        return DeliveryOutcome(ok=True, status_code=250, duration_ms=elapsed_ms(started))
