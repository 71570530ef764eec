"""A start says what it does and nothing else: no deprecation warning, from our code or from
a library's, at start, at stop, or while checking a mail's SPF (pyspf's own lookup calls
dnspython's deprecated `query`; ours calls `resolve`).

The servers run with `PYTHONWARNINGS=error::DeprecationWarning`: a deprecated call then fails
loudly (a start that does not come up, an SPF check that errs) instead of printing a line, and
the output is also searched for any warning that a library chose to print regardless.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Callable, Iterator, Mapping

import pytest

from tests.fakes.dkim_key import txt
from tests.fakes.dns_server import DnsServer
from tests.support import Server

STRICT = {"PYTHONWARNINGS": "error::DeprecationWarning"}
FreshServer = Callable[..., Server]


def assert_quiet(output: str) -> None:
    lowered = output.lower()
    assert "deprecat" not in lowered and "warning" not in lowered and "traceback" not in lowered, output


def test_a_default_start_and_stop_print_no_warning(fresh_server: FreshServer) -> None:
    """No configuration at all (first-run secrets generated, SQLite or PostgreSQL)."""
    server = fresh_server(STRICT, base=False)
    assert server.client.get("/health_check").status_code == 200
    assert server.stop() == 0
    output = server.output()
    assert "Admin password: " in output
    assert_quiet(output)


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer({("spf-ok.example", "TXT"): [txt("v=spf1 ip4:127.0.0.1 -all")]}) as server:
        yield server


def test_spf_checks_use_no_deprecated_dns_call(
    make_server: Callable[..., Server], dns_server: DnsServer
) -> None:
    env: Mapping[str, str] = {
        **STRICT,
        "ENABLE_CHECK_JUNK_MAIL": "true",
        "DNS_RESOLVER": dns_server.address,
        "LOG_LEVEL": "info",
    }
    server = make_server(**env)
    created = server.new_address()
    raw = (
        f"From: <alice@spf-ok.example>\r\nTo: {created['address']}\r\nSubject: hi\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@spf-ok.example>\r\n\r\nhello\r\n"
    )
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as client:
        client.sendmail("alice@spf-ok.example", [created["address"]], raw)

    stored = server.mails(created["jwt"])["results"][0]["raw"]
    assert "spf=pass" in stored.split("\r\n", 1)[0], stored
    assert_quiet(server.output())
