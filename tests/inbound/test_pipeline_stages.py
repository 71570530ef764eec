"""Receive-pipeline stages, each through a real SMTP session and through the test route."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, default

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
    assert answer["rejected"] == "Reject from address"
    assert blacklisting.mails(created["jwt"])["count"] == 0


def _with_attachment(size: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "a@remote.example"
    msg["Subject"] = "Grüße with file"
    msg.set_content("the body")
    msg.add_attachment(b"%PDF" + b"x" * size, maintype="application", subtype="pdf", filename="报告.pdf")
    return msg.as_bytes(policy=SMTP)


def _parsed_one(server: Server, jwt: str) -> dict[str, object]:
    (row,) = server.with_jwt("GET", "/api/parsed_mails?limit=5&offset=0", jwt).json()["results"]
    return dict(row)


def test_remove_all_attachments(make_server: ServerFactory) -> None:
    stripping = make_server(REMOVE_ALL_ATTACHMENT="true")
    created = stripping.new_address()
    stripping.send(created["address"], _with_attachment(10_000))
    parsed = _parsed_one(stripping, created["jwt"])
    assert parsed["attachments"] == []
    assert parsed["subject"] == "Grüße with file"
    assert parsed["text"] == "the body\n"
    (row,) = stripping.mails(created["jwt"])["results"]
    message = BytesParser(policy=default).parsebytes(row["raw"].encode())
    notes = [part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"]
    assert notes[1].startswith("[attachment removed by the mail server: 报告.pdf, 10004 bytes]")
    assert not message.defects


def test_remove_only_from_oversized_mails(make_server: ServerFactory) -> None:
    stripping = make_server(REMOVE_EXCEED_SIZE_ATTACHMENT="true")
    small, large = stripping.new_address(), stripping.new_address()
    stripping.send(small["address"], _with_attachment(10_000))
    stripping.send(large["address"], _with_attachment(2_000_000))
    assert len(_parsed_one(stripping, small["jwt"])["attachments"]) == 1  # type: ignore[arg-type]
    assert _parsed_one(stripping, large["jwt"])["attachments"] == []


def test_test_route_removes_attachments_too(make_server: ServerFactory) -> None:
    stripping = make_server(REMOVE_ALL_ATTACHMENT="true")
    created = stripping.new_address()
    body = {"from": "a@remote.example", "to": created["address"], "raw": _with_attachment(100).decode()}
    assert stripping.admin("POST", "/admin/test/receive_mail", json=body).json()["success"] is True
    assert _parsed_one(stripping, created["jwt"])["attachments"] == []
