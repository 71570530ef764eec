"""The SMTP log at INFO: one line per mail (and one per refused recipient), none of aiosmtpd's
per-command chatter, which shows at DEBUG only."""

from __future__ import annotations

import re
import smtplib
import uuid

import pytest

from tests.conftest import ServerFactory
from tests.support import send_exact


def new_lines(before: str, after: str) -> list[str]:
    return after[len(before) :].splitlines()


def test_one_line_per_received_mail(make_server: ServerFactory) -> None:
    server = make_server(LOG_LEVEL="info")
    address = server.new_address()["address"]
    before = server.output()
    server.send(address, "Subject: hello\r\n\r\nhi\r\n", mail_from="alice@remote.example")

    lines = new_lines(before, server.output())
    assert len(lines) == 1, lines
    found = re.search(
        rf"INFO tempmail\.inbound\.smtp: mail from=<alice@remote\.example> to=<{re.escape(address)}> "
        r"size=\d+ peer=127\.0\.0\.1: 250 OK ids=(\d+) in \d+ ms$",
        lines[0],
    )
    assert found is not None, lines
    jwt = server.admin("GET", f"/admin/mails?limit=1&offset=0&address={address}").json()
    assert jwt["results"][0]["id"] == int(found.group(1))


def test_a_refused_recipient_is_one_line(make_server: ServerFactory) -> None:
    server = make_server(LOG_LEVEL="info")
    stranger = f"x{uuid.uuid4().hex[:8]}@elsewhere.example"
    before = server.output()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        server.send(stranger, "Subject: hello\r\n\r\nhi\r\n", mail_from="spammer@remote.example")

    lines = new_lines(before, server.output())
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        f"INFO tempmail.inbound.smtp: recipient refused from=<spammer@remote.example> to=<{stranger}> "
        "peer=127.0.0.1: 550 5.7.1 Relaying denied: we do not accept mail for this domain"
    ), lines


def test_a_mail_refused_by_a_check_is_one_line(make_server: ServerFactory) -> None:
    server = make_server(LOG_LEVEL="info", BLACK_LIST="blocked.example")
    address = server.new_address()["address"]
    before = server.output()
    with pytest.raises(smtplib.SMTPDataError):
        server.send(address, "Subject: hello\r\n\r\nhi\r\n", mail_from="bad@blocked.example")

    lines = new_lines(before, server.output())
    assert len(lines) == 1, lines
    assert re.search(
        rf"mail from=<bad@blocked\.example> to=<{re.escape(address)}> size=\d+ peer=127\.0\.0\.1: "
        r"550 5\.7\.1 Reject from address in \d+ ms$",
        lines[0],
    ), lines


def test_a_mail_too_large_is_one_line(make_server: ServerFactory) -> None:
    server = make_server(LOG_LEVEL="info", MAX_MESSAGE_SIZE="1000")
    address = server.new_address()["address"]
    before = server.output()
    # Without SIZE on MAIL FROM (smtplib's send would be refused there, before any data).
    with server.smtp() as client:
        code, _ = send_exact(client, address, b"Subject: big\r\n\r\n" + b"x" * 2000 + b"\r\n")
    assert code == 552

    lines = new_lines(before, server.output())
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        f"mail from=<sender@remote.example> to=<{address}> size=>1000 peer=127.0.0.1: "
        "552 5.3.4 Message too large: the limit is 1000 bytes"
    ), lines


def test_aiosmtpd_dialogue_shows_at_debug_only(make_server: ServerFactory) -> None:
    server = make_server(LOG_LEVEL="debug")
    address = server.new_address()["address"]
    before = server.output()
    server.send(address, "Subject: hello\r\n\r\nhi\r\n")

    lines = new_lines(before, server.output())
    chatter = [line for line in lines if " mail.log: " in line]
    assert chatter, lines
    assert all(" DEBUG mail.log: " in line for line in chatter), chatter
    assert [line for line in lines if "INFO tempmail.inbound.smtp: mail from=" in line], lines
