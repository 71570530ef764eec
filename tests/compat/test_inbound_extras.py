"""COMPAT §15: the receive_mail test route's required fields and synthetic Message-ID, the
reference's reject reasons (and SMTP's answer with them), and the forwarding lists."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server

LISTS = {"blockList": [], "sendBlockList": [], "verifiedAddressList": []}


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def receive(server: Server, body: dict[str, Any]) -> Any:
    return server.admin("POST", "/admin/test/receive_mail", json=body)


@pytest.mark.parametrize(
    "body",
    [
        {"to": "a@test.example", "raw": "Subject: x\r\n\r\ny"},
        {"from": "", "to": "a@test.example", "raw": "Subject: x\r\n\r\ny"},
        {"from": "b@remote.example", "raw": "Subject: x\r\n\r\ny"},
        {"from": "b@remote.example", "to": "a@test.example", "raw": ""},
        {},
    ],
)
def test_from_to_and_raw_are_required(server: Server, body: dict[str, Any]) -> None:
    response = receive(server, body)
    assert (response.status_code, response.text) == (400, "from, to and raw are required")


def test_a_mail_without_message_id_gets_a_synthetic_one(server: Server) -> None:
    created = server.new_address()
    body = {"from": "b@remote.example", "to": created["address"], "raw": "Subject: x\r\n\r\ny"}
    assert receive(server, body).json() == {"success": True, "replyCalled": False, "forwardedTo": []}
    (row,) = server.mails(created["jwt"])["results"]
    assert re.fullmatch(r"<e2e-\d{13}@test>", row["message_id"])
    assert row["raw"] == f"Message-ID: {row['message_id']}\r\nSubject: x\r\n\r\ny"


def test_a_given_message_id_is_kept(server: Server) -> None:
    created = server.new_address()
    raw = "Message-ID: <given@remote.example>\r\nSubject: x\r\n\r\ny"
    receive(server, {"from": "b@remote.example", "to": created["address"], "raw": raw})
    (row,) = server.mails(created["jwt"])["results"]
    assert (row["message_id"], row["raw"]) == ("<given@remote.example>", raw)


@pytest.fixture
def blocking(make_server: ServerFactory) -> Server:
    return make_server(BLACK_LIST="spammer.example", TITLE="compat-inbound-extras")


def test_reject_from_address(blocking: Server) -> None:
    created = blocking.new_address()
    body = {"from": "x@spammer.example", "to": created["address"], "raw": "Subject: x\r\n\r\ny"}
    assert receive(blocking, body).json() == {
        "success": False,
        "replyCalled": False,
        "forwardedTo": [],
        "rejected": "Reject from address",
    }
    with pytest.raises(smtplib.SMTPDataError) as refused:
        blocking.send(created["address"], "Subject: x\r\n\r\ny", mail_from="x@spammer.example")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Reject from address")


def test_unknown_address(blocking: Server) -> None:
    rules = {**LISTS, "emailRuleSettings": {"blockReceiveUnknowAddressEmail": True}}
    assert blocking.admin("POST", "/admin/account_settings", json=rules).json() == {"success": True}
    try:
        body = {"from": "b@remote.example", "to": "nobody-here@test.example", "raw": "Subject: x\r\n\r\ny"}
        assert receive(blocking, body).json()["rejected"] == "Unknown address"
        with pytest.raises(smtplib.SMTPDataError) as refused:
            blocking.send("nobody-here@test.example", "Subject: x\r\n\r\ny")
        assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Unknown address")
    finally:
        blocking.admin("POST", "/admin/account_settings", json={**LISTS, "emailRuleSettings": {}})


def test_failed_save(fresh_server: Callable[..., Server]) -> None:
    private = fresh_server()
    created = private.new_address()
    private.db.sql("ALTER TABLE raw_mails RENAME TO raw_mails_away")
    try:
        body = {"from": "b@remote.example", "to": created["address"], "raw": "Subject: x\r\n\r\ny"}
        assert receive(private, body).json() == {
            "success": False,
            "replyCalled": False,
            "forwardedTo": [],
            "rejected": f"Failed save message to {created['address']}",
        }
    finally:
        private.db.sql("ALTER TABLE raw_mails_away RENAME TO raw_mails")


FORWARD_LISTS = {
    "FORWARD_ADDRESS_LIST": '["all@archive.example"]',
    "SUBDOMAIN_FORWARD_ADDRESS_LIST": '[{"domains": ["EXAMPLE.org"], "forward": "org@archive.example"}]',
}


@pytest.fixture
def forwarding(make_server: ServerFactory, relay: SmtpSink) -> Server:
    return make_server(SMTP_CONFIG=relay.smtp_config(), **FORWARD_LISTS)


def forwarded_to(server: Server, to: str) -> list[str]:
    body = {"from": "b@remote.example", "to": to, "raw": "Subject: fwd\r\n\r\ny"}
    answer = receive(server, body).json()
    assert answer["success"] is True, answer
    return sorted(answer["forwardedTo"])


def test_forward_lists(forwarding: Server) -> None:
    org = forwarding.new_address(domain="example.org")["address"]
    other = forwarding.new_address()["address"]
    assert forwarded_to(forwarding, org) == ["all@archive.example", "org@archive.example"]
    assert forwarded_to(forwarding, other) == ["all@archive.example"]
    rules = {
        **LISTS,
        "emailRuleSettings": {
            "emailForwardingList": [{"domains": ["test.example"], "forward": "t@x.example"}]
        },
    }
    assert forwarding.admin("POST", "/admin/account_settings", json=rules).json() == {"success": True}
    try:
        assert forwarded_to(forwarding, other) == ["all@archive.example", "t@x.example"]
        assert forwarded_to(forwarding, org) == ["all@archive.example"], (
            "the admin's rules replace the variable's"
        )
    finally:
        forwarding.admin("POST", "/admin/account_settings", json={**LISTS, "emailRuleSettings": {}})
