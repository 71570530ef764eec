"""The outbound guard: which addresses webhooks and OAuth2 may reach (the pure `refusal`), how
OUTBOUND_ALLOW_NETWORKS reads, and the guarded client against real listeners on loopback."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from tempmail.config import AllowedNetwork, ConfigError, Settings, load_settings
from tempmail.security.outbound import GuardedTransport, TargetRefused, refusal
from tests.fakes.http_receiver import HttpReceiver


def allowed(value: str) -> tuple[AllowedNetwork, ...]:
    return tuple(Settings.model_validate({"OUTBOUND_ALLOW_NETWORKS": value}).OUTBOUND_ALLOW_NETWORKS)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.5.6.7", "a loopback address"),
        ("::1", "a loopback address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.10.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("100.64.0.1", "a shared (CGNAT) address"),
        ("100.127.255.254", "a shared (CGNAT) address"),
        ("240.0.0.1", "a private address"),  # reserved; Python counts 240/4 as private too
        ("255.255.255.255", "a private address"),
        ("192.0.2.1", "a private address"),  # documentation
        ("198.18.0.1", "a private address"),  # benchmarking
        # IPv6 forms of IPv4 addresses are judged as the IPv4 address they stand for.
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
        ("::127.0.0.1", "a reserved address"),  # the deprecated IPv4-compatible form
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address), 80) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), 443) is None


def test_the_allow_list_admits_networks_and_ports() -> None:
    rules = allowed("127.0.0.1:8080, 10.0.0.0/8, [::1]:9000, fd00::/8")
    loopback = ipaddress.ip_address("127.0.0.1")
    assert refusal(loopback, 8080, rules) is None
    assert refusal(loopback, 8081, rules) == "a loopback address"
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), 8080, rules) is None
    assert refusal(ipaddress.ip_address("10.200.0.1"), 5432, rules) is None
    assert refusal(ipaddress.ip_address("::1"), 9000, rules) is None
    assert refusal(ipaddress.ip_address("::1"), 9001, rules) == "a loopback address"
    assert refusal(ipaddress.ip_address("fd00:ec2::254"), 80, rules) is None  # the operator said so
    assert refusal(ipaddress.ip_address("169.254.169.254"), 80, rules) == "a cloud metadata address"


def test_allow_list_entries_read_as_documented() -> None:
    rules = allowed('["[::1]:8080", "192.168.0.0/16:443", "10.0.0.5"]')
    assert [(str(rule.network), rule.port) for rule in rules] == [
        ("::1/128", 8080),
        ("192.168.0.0/16", 443),
        ("10.0.0.5/32", None),
    ]
    assert allowed("") == ()


@pytest.mark.parametrize("value", ["intranet", "10.0.0.0/33", "127.0.0.1:0", "127.0.0.1:http", "[::1"])
def test_bad_allow_list_entries_stop_start_up_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("OUTBOUND_ALLOW_NETWORKS", value)
    with pytest.raises(ConfigError, match="OUTBOUND_ALLOW_NETWORKS"):
        load_settings()


def fetch(url: str, rules: tuple[AllowedNetwork, ...] = (), follow: bool = False) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = GuardedTransport(rules)
        async with httpx.AsyncClient(transport=transport, follow_redirects=follow, timeout=10) as client:
            return await client.get(url)

    return asyncio.run(run())


def test_the_guarded_client_refuses_loopback_before_connecting() -> None:
    with HttpReceiver() as receiver, HttpReceiver("::1") as receiver6:
        port = receiver.port
        cases = {
            f"{receiver.url}/a": "127.0.0.1 is a loopback address",
            f"http://localhost:{port}/b": "localhost resolves to 127.0.0.1, a loopback address",
            f"{receiver6.url}/c": "::1 is a loopback address",
            f"http://[::ffff:127.0.0.1]:{port}/d": "::ffff:127.0.0.1 is a loopback address",
        }
        for url, text in cases.items():
            with pytest.raises(TargetRefused) as refused:
                fetch(url)
            assert str(refused.value) == f"target not allowed: {text}"
        assert receiver.requests == [] and receiver6.requests == []
        # Allowed by the operator, the same receivers are reached.
        assert fetch(f"{receiver.url}/ok", allowed("127.0.0.1")).status_code == 200
        assert fetch(f"{receiver6.url}/ok", allowed("::1")).status_code == 200
        assert [r.path for r in receiver.requests + receiver6.requests] == ["/ok", "/ok"]


def test_every_redirect_hop_is_checked() -> None:
    """Even a client that follows redirects cannot be led from an allowed target to another."""
    with HttpReceiver() as redirector, HttpReceiver() as target:
        redirector.answers = [302]
        redirector.headers = {"Location": f"{target.url}/internal"}
        with pytest.raises(TargetRefused, match=r"^target not allowed: 127\.0\.0\.1 is a loopback address$"):
            fetch(f"{redirector.url}/hop", allowed(f"127.0.0.1:{redirector.port}"), follow=True)
        assert [r.path for r in redirector.requests] == ["/hop"] and target.requests == []


def test_only_http_and_https() -> None:
    with pytest.raises(httpx.UnsupportedProtocol, match="only http and https"):
        fetch("ftp://files.example/x")
