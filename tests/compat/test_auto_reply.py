"""COMPAT §14: the auto-reply settings' shape and checks, and a reply to every qualifying mail."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.fakes.smtp_sink import Received, SmtpSink
from tests.support import Server


@pytest.fixture
def server(make_server: ServerFactory, relay: SmtpSink) -> Server:
    """Replies go out through `relay`, which records them."""
    return make_server(SMTP_CONFIG=relay.smtp_config(), ENABLE_AUTO_REPLY="true")


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def save(server: Server, jwt: str, **fields: Any) -> Any:
    return server.with_jwt("POST", "/api/auto_reply", jwt, json={"auto_reply": fields})


def enabled_reply(server: Server, jwt: str, **fields: Any) -> None:
    values = {"subject": "Away", "message": "Back Monday", "source_prefix": "", "name": "", "enabled": True}
    assert save(server, jwt, **{**values, **fields}).json() == {"success": True}


def receive(server: Server, to: str, sender: str, extra: str = "") -> dict[str, Any]:
    message_id = f"<{uuid.uuid4().hex}@remote.example>"
    raw = f"From: {sender}\r\nTo: {to}\r\nSubject: hi\r\nMessage-ID: {message_id}\r\n{extra}\r\nx\r\n"
    response = server.admin("POST", "/admin/test/receive_mail", json={"from": sender, "to": to, "raw": raw})
    assert response.status_code == 200, response.text
    return dict(response.json())


def replies_to(relay: SmtpSink, sender: str, count: int = 1, timeout: float = 10) -> list[Received]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in relay.messages if m.rcpt_tos == [sender]]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"expected {count} replies to {sender}")


def test_get_is_empty_then_exactly_the_five_keys(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    assert server.with_jwt("GET", "/api/auto_reply", jwt).json() == {}
    enabled_reply(server, jwt, name="Alice", source_prefix="boss@")
    assert server.with_jwt("GET", "/api/auto_reply", jwt).json() == {
        "subject": "Away",
        "message": "Back Monday",
        "enabled": True,
        "source_prefix": "boss@",
        "name": "Alice",
    }


def test_a_disabled_reply_may_be_empty_and_missing_fields_are_stored_empty(server: Server) -> None:
    jwt = server.new_address()["jwt"]
    assert save(server, jwt, enabled=False).json() == {"success": True}
    assert server.with_jwt("GET", "/api/auto_reply", jwt).json() == {
        "subject": "",
        "message": "",
        "enabled": False,
        "source_prefix": "",
        "name": "",
    }


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"subject": "", "message": "m", "enabled": True}, "Invalid subject or message"),
        ({"subject": "s", "message": "", "enabled": True}, "Invalid subject or message"),
        ({"subject": "s" * 256, "message": "m", "enabled": True}, "Subject or message is too long"),
        ({"subject": "s", "message": "m" * 256, "enabled": False}, "Subject or message is too long"),
    ],
)
def test_refusals(server: Server, fields: dict[str, Any], text: str) -> None:
    jwt = server.new_address()["jwt"]
    response = save(server, jwt, **fields)
    assert (response.status_code, response.text) == (400, text)
    assert save(server, jwt, subject="s" * 255, message="m" * 255, enabled=True).json() == {"success": True}


def test_disabled_feature(make_server: ServerFactory) -> None:
    plain = make_server()
    jwt = plain.new_address()["jwt"]
    for method in ("GET", "POST"):
        response = plain.with_jwt(method, "/api/auto_reply", jwt, json={"auto_reply": {}})
        assert (response.status_code, response.text) == (403, "Auto reply is disabled")


def test_every_qualifying_mail_is_answered(server: Server, relay: SmtpSink) -> None:
    created = server.new_address()
    enabled_reply(server, created["jwt"], name="Alice")
    sender = f"{uuid.uuid4().hex[:10]}@remote.example"
    for extra in (
        "",
        "Precedence: bulk\r\n",
        "List-Id: <l.remote.example>\r\n",
        "Auto-Submitted: auto-replied\r\n",
    ):
        assert receive(server, created["address"], sender, extra)["replyCalled"] is True
    replies = replies_to(relay, sender, count=4)
    assert len(replies) == 4
    reply = replies[0].message
    assert replies[0].mail_from == created["address"]
    assert str(reply["From"]) == f"Alice <{created['address']}>"
    assert str(reply["Subject"]) == "Away" and reply.get_content().strip() == "Back Monday"
    assert reply["In-Reply-To"].endswith("@remote.example>")


def test_automated_mail_is_skipped_only_when_asked(make_server: ServerFactory, relay: SmtpSink) -> None:
    """AUTO_REPLY_SKIP_AUTOMATED (ours, off by default): RFC 3834 loop protection for servers
    on the open Internet; an ordinary mail is still answered."""
    server = make_server(
        SMTP_CONFIG=relay.smtp_config(), ENABLE_AUTO_REPLY="true", AUTO_REPLY_SKIP_AUTOMATED="true"
    )
    created = server.new_address()
    enabled_reply(server, created["jwt"])
    sender = f"{uuid.uuid4().hex[:10]}@remote.example"
    for extra in (
        "Precedence: bulk\r\n",
        "List-Id: <l.remote.example>\r\n",
        "Auto-Submitted: auto-replied\r\n",
    ):
        assert receive(server, created["address"], sender, extra)["replyCalled"] is False
    assert receive(server, created["address"], "mailer-daemon@remote.example")["replyCalled"] is False
    assert receive(server, created["address"], sender)["replyCalled"] is True


@pytest.mark.parametrize(
    ("prefix", "sender", "replied"),
    [
        ("", "anyone@remote.example", True),
        ("boss@", "boss@remote.example", True),
        ("Boss@", "boss@remote.example", False),
        ("/^vip[0-9]+@/", "vip42@remote.example", True),
        ("/^vip[0-9]+@/", "bob@remote.example", False),
        ("//", "//x@remote.example", True),
    ],
)
def test_source_prefix(server: Server, prefix: str, sender: str, replied: bool) -> None:
    created = server.new_address()
    enabled_reply(server, created["jwt"], source_prefix=prefix)
    assert receive(server, created["address"], sender)["replyCalled"] is replied


def test_disabled_reply_and_no_reply_set(server: Server) -> None:
    created = server.new_address()
    assert receive(server, created["address"], "x@remote.example")["replyCalled"] is False
    save(server, created["jwt"], subject="s", message="m", enabled=False)
    assert receive(server, created["address"], "x@remote.example")["replyCalled"] is False


def test_defaults_of_a_stored_row_without_subject_message_or_name(server: Server, relay: SmtpSink) -> None:
    """Rows written by the reference (or a database import) may be enabled and empty."""
    created = server.new_address()
    server.db.sql(
        "INSERT INTO auto_reply_mails (address, subject, message, source_prefix, name, enabled, created_at)"
        " VALUES (?, '', '', '', '', 1, '2020-01-01 00:00:00')",
        created["address"],
    )
    sender = f"{uuid.uuid4().hex[:10]}@remote.example"
    assert receive(server, created["address"], sender)["replyCalled"] is True
    (reply,) = replies_to(relay, sender)
    assert str(reply.message["Subject"]) == "Auto-reply"
    assert reply.message.get_content().strip() == "This is an auto-reply message, please reconact later."
    assert parseaddr(str(reply.message["From"])) == (created["address"], created["address"])
