"""Validation of alert targets, including the SSRF guard for webhook URLs (reliability C3).

A webhook URL is refused unless it is `https` and every address its host resolves to is public.
One blocked address among several refuses the whole name: a resolver can hand out any of them.
`allow_private` (embedded dev set-up, tests) opens `http`, loopback and private ranges, but never
link-local (169.254.169.254 is the cloud metadata service), multicast, unspecified or reserved.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

from email_validator import EmailNotValidError, validate_email

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]

MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_CHANNEL = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_CHAT_ID = re.compile(r"-?[0-9]{1,20}")


class TargetKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    TELEGRAM = "telegram"


class TargetRejected(ValueError):
    """The target may not receive alerts; the message is fit to show to an admin."""


class TargetUnresolvable(TargetRejected):
    """The host name did not resolve: a rejection at save time, transient at send time."""


def parse_kind(kind: TargetKind | str) -> TargetKind:
    try:
        return TargetKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in TargetKind)
        raise TargetRejected(f"unknown alert endpoint kind {kind!r}; known: {known}") from None


def resolve_host(host: str) -> list[str]:
    """Addresses of a host name, in resolver order (the default `Resolver`)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    # IPv6 forms that reach an IPv4 host: judge the IPv4 host (Python 3.11 does not).
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(address: str, *, allow_private: bool) -> str | None:
    """Why `address` may not be contacted, or None when it may."""
    try:
        ip = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return "not an IP address"
    if "%" in address or ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "an unspecified address"
    if ip.is_reserved and not ip.is_loopback:  # ::1 sits inside the reserved ::/8
        return "a reserved address"
    if ip.is_global:
        return None
    if allow_private and (ip.is_loopback or ip.is_private or ip in _SHARED):
        return None
    return "a loopback address" if ip.is_loopback else "a private or non-public address"


def check_addresses(host: str, addresses: Sequence[str], *, allow_private: bool) -> None:
    if not addresses:
        raise TargetUnresolvable(f"{host} does not resolve to any address")
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            shown = host if host == address else f"{host} ({address})"
            raise TargetRejected(f"{shown} is {problem}; alerts go to public addresses only")


def parse_webhook_url(url: str, *, allow_private: bool) -> SplitResult:
    """Syntax and scheme checks that need no DNS."""
    if len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise TargetRejected("the webhook URL is too long or contains whitespace")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise TargetRejected(f"the webhook URL is malformed: {exc}") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise TargetRejected(f"webhook URLs must use {' or '.join(allowed)}")
    if not parts.hostname:
        raise TargetRejected("the webhook URL has no host")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would be stored and logged in clear; the secret signs instead.
        raise TargetRejected("the webhook URL must not contain credentials")
    return parts


def addresses_of(host: str, resolver: Resolver) -> Sequence[str]:
    """A literal IP stands for itself (no resolver call); names go to `resolver`."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        return resolver(host)
    except (OSError, UnicodeError) as exc:
        raise TargetUnresolvable(f"{host} does not resolve: {exc}") from exc


def check_webhook_url(url: str, *, allow_private: bool, resolver: Resolver = resolve_host) -> str:
    """Full check including DNS; returns the host name that was checked."""
    host = parse_webhook_url(url, allow_private=allow_private).hostname or ""
    check_addresses(host, addresses_of(host, resolver), allow_private=allow_private)
    return host


def normalize_email(address: str) -> str:
    try:
        # Deliverability (MX lookup) is left to the SMTP relay: no DNS here. No SMTPUTF8:
        # relays commonly lack it; IDN domains still work through their punycode form.
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        return valid.ascii_email or valid.normalized
    except EmailNotValidError as exc:
        raise TargetRejected(f"not a valid e-mail address: {exc}") from exc


def normalize_chat_id(chat_id: str | int) -> str:
    """A numeric chat id (negative for groups and channels) or a public `@channelname`."""
    text = str(chat_id).strip()
    # Telegram's ids fit in a signed 64-bit integer (its API says 52 bits are used).
    if _CHAT_ID.fullmatch(text) and -(2**63) <= int(text) < 2**63:
        return text
    if _CHANNEL.fullmatch(text):
        return text
    raise TargetRejected("a Telegram chat id is a 64-bit integer or @channelname")


def check_target(
    target: str,
    kind: TargetKind | str,
    *,
    allow_private: bool,
    resolver: Resolver = resolve_host,
) -> None:
    """Raise TargetRejected unless `target` is an acceptable destination of this kind.

    Blocking (DNS for webhooks): from async code use `check_target_async`.
    """
    match parse_kind(kind):
        case TargetKind.WEBHOOK:
            check_webhook_url(target, allow_private=allow_private, resolver=resolver)
        case TargetKind.EMAIL:
            normalize_email(target)
        case TargetKind.TELEGRAM:
            normalize_chat_id(target)


async def check_target_async(
    target: str,
    kind: TargetKind | str,
    *,
    allow_private: bool,
    resolver: Resolver = resolve_host,
) -> None:
    await asyncio.to_thread(
        check_target, target, kind, allow_private=allow_private, resolver=resolver
    )
