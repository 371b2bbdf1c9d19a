"""Alert delivery: signing, SSRF guard, message rendering, senders, retry schedule, pacing.

Pure async code with no database access; the API/worker layer stores alerts and deliveries and
calls `Senders.deliver` from a job, then `next_attempt_delay` to schedule the next try.
"""

from service.alerts.backoff import MAX_ATTEMPTS, SCHEDULE_S, next_attempt_delay
from service.alerts.mail import EmailSender, build_email
from service.alerts.messages import (
    AlertMessage,
    AlertType,
    Clock,
    ItemRef,
    email_text,
    telegram_text,
    webhook_body,
    webhook_payload,
)
from service.alerts.outcome import DeliveryOutcome, Destination, parse_retry_after
from service.alerts.pacing import TelegramPacer
from service.alerts.senders import (
    Sender,
    Senders,
    SenderUnavailable,
    TelegramSender,
    WebhookSender,
)
from service.alerts.signing import (
    SignatureError,
    check_secret,
    generate_secret,
    sign,
    verify,
    webhook_headers,
)
from service.alerts.ssrf import (
    TargetKind,
    TargetRejected,
    TargetUnresolvable,
    check_target,
    check_target_async,
)
from service.alerts.transport import DEFAULT_TIMEOUT, GuardedTransport, make_alert_client

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_ATTEMPTS",
    "SCHEDULE_S",
    "AlertMessage",
    "AlertType",
    "Clock",
    "DeliveryOutcome",
    "Destination",
    "EmailSender",
    "GuardedTransport",
    "ItemRef",
    "Sender",
    "SenderUnavailable",
    "Senders",
    "SignatureError",
    "TargetKind",
    "TargetRejected",
    "TargetUnresolvable",
    "TelegramPacer",
    "TelegramSender",
    "WebhookSender",
    "build_email",
    "check_secret",
    "check_target",
    "check_target_async",
    "email_text",
    "generate_secret",
    "make_alert_client",
    "next_attempt_delay",
    "parse_retry_after",
    "sign",
    "telegram_text",
    "verify",
    "webhook_body",
    "webhook_headers",
    "webhook_payload",
]
