"""Receive-pipeline stages, each through a real SMTP session and through the test route."""

from __future__ import annotations

import smtplib

import pytest

from tests.conftest import ServerFactory
from tests.support import Server


@pytest.fixture
def blacklisting(make_server: ServerFactory) -> Server:
    return make_server(BLACK_LIST="spammer.example, Evil Corp")


def test_blacklisted_envelope_sender_is_refused(blacklisting: Server) -> None:
    created = blacklisting.new_address()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        blacklisting.send(created["address"], "Subject: buy\r\n\r\nnow", mail_from="bulk@SPAMMER.example")
    assert refused.value.smtp_code == 550
    assert blacklisting.mails(created["jwt"])["count"] == 0


def test_blacklisted_from_header_is_refused(blacklisting: Server) -> None:
    created = blacklisting.new_address()
    raw = "From: Evil Corp <ceo@fine.example>\r\nSubject: hi\r\n\r\nbody"
    with pytest.raises(smtplib.SMTPDataError):
        blacklisting.send(created["address"], raw, mail_from="ceo@fine.example")
    assert blacklisting.mails(created["jwt"])["count"] == 0


def test_other_senders_pass(blacklisting: Server) -> None:
    created = blacklisting.new_address()
    blacklisting.send(created["address"], "From: friend@fine.example\r\nSubject: hi\r\n\r\nx")
    assert blacklisting.mails(created["jwt"])["count"] == 1


def test_test_route_runs_the_same_blacklist(blacklisting: Server) -> None:
    created = blacklisting.new_address()
    body = {"from": "x@spammer.example", "to": created["address"], "raw": "Subject: x\r\n\r\ny"}
    answer = blacklisting.admin("POST", "/admin/test/receive_mail", json=body).json()
    assert answer["success"] is False
    assert answer["rejected"] == "Sender is blocked"
    assert blacklisting.mails(created["jwt"])["count"] == 0
