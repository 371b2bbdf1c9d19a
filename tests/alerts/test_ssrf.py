"""Target validation and the SSRF guard, at save time (no network beyond local DNS)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from service.alerts.ssrf import (
    TargetRejected,
    TargetUnresolvable,
    address_problem,
    check_target,
    normalize_chat_id,
    normalize_email,
)


def fake_dns(table: dict[str, Sequence[str]]) -> object:
    def resolve(host: str) -> Sequence[str]:
        if host not in table:
            raise OSError(f"NXDOMAIN {host}")
        return table[host]

    return resolve


DNS = fake_dns(
    {
        "hooks.example.ru": ["93.184.216.34"],
        "internal.example.ru": ["10.1.2.3"],
        "mixed.example.ru": ["93.184.216.34", "10.1.2.3"],
        "metadata.example.ru": ["169.254.169.254"],
        "v6only.example.ru": ["2606:4700::1111"],
        "localhost": ["127.0.0.1", "::1"],
    }
)

# Rejected without allow_private; accepted with it (the embedded dev set-up).
PRIVATE_TARGETS = [
    "https://127.0.0.1/hook",
    "https://127.0.0.1:8443/hook",
    "https://[::1]/hook",
    "https://10.0.0.1/hook",
    "https://192.168.1.10/hook",
    "https://172.16.0.1/hook",
    "https://100.64.0.1/hook",
    "https://[fc00::1]/hook",
    "https://localhost/hook",
    "https://internal.example.ru/hook",
    "http://127.0.0.1:8080/hook",
]

# Rejected even with allow_private: never a legitimate receiver, classic SSRF prizes.
ALWAYS_REJECTED = [
    "https://169.254.169.254/latest/meta-data/",
    "https://metadata.example.ru/",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://[ff02::1]/hook",
    "https://255.255.255.255/hook",
    "https://240.0.0.1/hook",
    "https://[::]/hook",
    "https://[::ffff:169.254.169.254]/hook",
]

# IPv6 spellings of private IPv4 hosts (Python 3.11 calls some of them global).
DISGUISED = [
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[64:ff9b::a00:1]/hook",
    "https://[2002:a00:1::]/hook",
    "https://mixed.example.ru/hook",
]


@pytest.mark.parametrize("url", PRIVATE_TARGETS + ALWAYS_REJECTED + DISGUISED)
def test_non_public_webhook_targets_are_rejected(url: str) -> None:
    with pytest.raises(TargetRejected):
        check_target(url, "webhook", allow_private=False, resolver=DNS)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_allow_private_opens_loopback_private_and_http(url: str) -> None:
    check_target(url, "webhook", allow_private=True, resolver=DNS)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ALWAYS_REJECTED)
def test_link_local_multicast_and_reserved_stay_closed_with_allow_private(url: str) -> None:
    with pytest.raises(TargetRejected):
        check_target(url, "webhook", allow_private=True, resolver=DNS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/hook",
        "https://hooks.example.ru/alerts?x=1",
        "https://v6only.example.ru:8443/",
        "https://[2606:4700::1111]/hook",
    ],
)
def test_public_https_targets_are_accepted(url: str) -> None:
    check_target(url, "webhook", allow_private=False, resolver=DNS)  # type: ignore[arg-type]


def test_localhost_is_judged_by_what_it_resolves_to() -> None:
    # The real resolver: no fake table, and still refused.
    with pytest.raises(TargetRejected, match="loopback"):
        check_target("https://localhost/hook", "webhook", allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.ru/hook", "https"),
        ("ftp://hooks.example.ru/hook", "https"),
        ("hooks.example.ru/hook", "https"),
        ("https:///hook", "no host"),
        ("https://user:pw@hooks.example.ru/", "credentials"),
        ("https://hooks.example.ru:99999/", "malformed"),
        ("https://hooks.example.ru/a b", "whitespace"),
        ("https://hooks.example.ru/" + "a" * 2100, "too long"),
    ],
)
def test_malformed_webhook_urls_are_rejected_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(TargetRejected, match=reason):
        check_target(url, "webhook", allow_private=False, resolver=DNS)  # type: ignore[arg-type]


def test_unresolvable_name_is_a_distinct_rejection() -> None:
    with pytest.raises(TargetUnresolvable):
        check_target("https://nx.example.ru/", "webhook", allow_private=False, resolver=DNS)  # type: ignore[arg-type]


def test_scoped_ipv6_address_is_link_local() -> None:
    assert address_problem("fe80::1%eth0", allow_private=True) == "a link-local address"


@pytest.mark.parametrize(
    ("address", "expected"),
    [("Head@Example.RU", "Head@example.ru"), ("ops@пример.рф", "ops@xn--e1afmkfd.xn--p1ai")],
)
def test_email_addresses_are_validated_and_normalised(address: str, expected: str) -> None:
    check_target(address, "email", allow_private=False)
    assert normalize_email(address) == expected


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@b", "two@@example.ru", "иван@example.ru"])
def test_bad_email_addresses_are_rejected(address: str) -> None:
    with pytest.raises(TargetRejected):
        check_target(address, "email", allow_private=False)


@pytest.mark.parametrize("chat", ["123456789", "-1001234567890", "@cur_altai", " @cur_altai "])
def test_telegram_chat_ids(chat: str) -> None:
    check_target(chat, "telegram", allow_private=False)
    assert normalize_chat_id(chat) == chat.strip()
    assert normalize_chat_id(-42) == "-42"


@pytest.mark.parametrize(
    "chat", ["", "abc", "@ab", "@1channel", "12a", "@with-dash", "https://t.me/x"]
)
def test_bad_telegram_chat_ids_are_rejected(chat: str) -> None:
    with pytest.raises(TargetRejected):
        check_target(chat, "telegram", allow_private=False)


def test_unknown_kind_is_rejected_clearly() -> None:
    with pytest.raises(TargetRejected, match="unknown alert endpoint kind"):
        check_target("x", "sms", allow_private=True)
