"""Junk checks: SPF, DKIM and DMARC verified by the server against a real DNS server on loopback
holding the test zones, with mails DKIM-signed by a test key."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator

import dkim
import pytest

from tests.conftest import ServerFactory
from tests.fakes.dkim_key import KEY_RECORD, PRIVATE_PEM, txt
from tests.fakes.dns_server import DnsServer
from tests.support import Server

ZONES = {
    ("good.example", "TXT"): [txt("v=spf1 ip4:127.0.0.1 -all")],
    ("sel._domainkey.good.example", "TXT"): [KEY_RECORD],
    ("_dmarc.good.example", "TXT"): [txt("v=DMARC1; p=reject")],
    ("spoof.example", "TXT"): [txt("v=spf1 ip4:192.0.2.1 -all")],
    ("_dmarc.spoof.example", "TXT"): [txt("v=DMARC1; p=reject")],
    ("relay.example", "TXT"): [txt("v=spf1 ip4:127.0.0.1 -all")],
}


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(ZONES) as server:
        yield server


@pytest.fixture
def server(make_server: ServerFactory, dns_server: DnsServer) -> Server:
    return make_server(ENABLE_CHECK_JUNK_MAIL="true", DNS_RESOLVER=dns_server.address)


@pytest.fixture
def strict_server(make_server: ServerFactory, dns_server: DnsServer) -> Server:
    return make_server(
        ENABLE_CHECK_JUNK_MAIL="true",
        DNS_RESOLVER=dns_server.address,
        JUNK_MAIL_CHECK_LIST="spf",
        JUNK_MAIL_FORCE_PASS_LIST="dkim",
    )


def mail(to: str, sender: str, subject: str = "hello") -> bytes:
    return (
        f"From: Sender <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{sender.partition('@')[2]}>\r\n\r\nA real message.\r\n"
    ).encode()


def signed(raw: bytes, domain: str = "good.example") -> bytes:
    signature = dkim.sign(
        raw, b"sel", domain.encode(), PRIVATE_PEM, include_headers=[b"from", b"to", b"subject"]
    )
    return signature + raw


def deliver(server: Server, to: str, raw: bytes, mail_from: str) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        client.sendmail(mail_from, [to], raw)


def stored_raw(server: Server, jwt: str) -> str:
    return str(server.mails(jwt)["results"][0]["raw"])


def test_authenticated_mail_passes_and_is_annotated(server: Server) -> None:
    created = server.new_address()
    deliver(
        server,
        created["address"],
        signed(mail(created["address"], "alice@good.example")),
        "alice@good.example",
    )
    raw = stored_raw(server, created["jwt"])
    first_line = raw.split("\r\n", 1)[0]
    assert first_line.startswith("Authentication-Results: mx.test.example;")
    assert "spf=pass" in first_line and "dkim=pass" in first_line and "dmarc=pass" in first_line
    assert "header.d=good.example" in first_line


def test_spf_failure_is_rejected(server: Server) -> None:
    created = server.new_address()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(
            server, created["address"], mail(created["address"], "ceo@spoof.example"), "ceo@spoof.example"
        )
    assert refused.value.smtp_code == 550 and refused.value.smtp_error.startswith(b"5.7.1 Junk mail (")
    assert b"spf=fail" in refused.value.smtp_error
    assert server.mails(created["jwt"])["count"] == 0


def test_a_tampered_signed_mail_fails_dkim(server: Server) -> None:
    created = server.new_address()
    tampered = signed(mail(created["address"], "alice@good.example")).replace(b"A real", b"A fake")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(server, created["address"], tampered, "alice@good.example")
    assert b"dkim=fail" in refused.value.smtp_error


def test_dmarc_needs_alignment(server: Server) -> None:
    """SPF passes for relay.example, but the From domain (good.example, p=reject) is neither
    SPF- nor DKIM-aligned: DMARC fails."""
    created = server.new_address()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(
            server, created["address"], mail(created["address"], "alice@good.example"), "bounce@relay.example"
        )
    assert b"spf=pass" in refused.value.smtp_error and b"dmarc=fail" in refused.value.smtp_error


def test_unauthenticated_domains_are_not_junk_by_default(server: Server) -> None:
    created = server.new_address()
    deliver(server, created["address"], mail(created["address"], "x@nowhere.example"), "x@nowhere.example")
    first_line = stored_raw(server, created["jwt"]).split("\r\n", 1)[0]
    assert "spf=none" in first_line and "dkim=none" in first_line and "dmarc=none" in first_line


def test_check_and_force_pass_lists(strict_server: Server) -> None:
    created = strict_server.new_address()
    with pytest.raises(smtplib.SMTPDataError):
        deliver(
            strict_server,
            created["address"],
            mail(created["address"], "x@nowhere.example"),
            "x@nowhere.example",
        )
    ok = signed(mail(created["address"], "alice@good.example"))
    deliver(strict_server, created["address"], ok, "alice@good.example")
    assert strict_server.mails(created["jwt"])["count"] == 1


def test_the_test_route_runs_the_same_checks(server: Server) -> None:
    """No connecting IP there, so SPF is `none`; DKIM and DMARC still decide."""
    created = server.new_address()
    good = signed(mail(created["address"], "alice@good.example")).decode()
    body = {"from": "alice@good.example", "to": created["address"], "raw": good}
    result = server.admin("POST", "/admin/test/receive_mail", json=body).json()
    assert result["success"] is True
    assert "spf=none" in stored_raw(server, created["jwt"]) and "dmarc=pass" in stored_raw(
        server, created["jwt"]
    )
    bad = {**body, "raw": good.replace("A real", "A fake")}
    rejected = server.admin("POST", "/admin/test/receive_mail", json=bad).json()
    assert rejected["success"] is False and rejected["rejected"] == "Junk mail"
