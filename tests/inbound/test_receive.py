"""Inbound SMTP as a sender sees it: what is accepted, refused, stored, and how it reads back."""

from __future__ import annotations

import json
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import Server


def _mail(to: str, subject: str = "Hello", body: str = "Body text") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@remote.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def _parsed(server: Server, jwt: str) -> list[dict[str, object]]:
    response = server.with_jwt("GET", "/api/parsed_mails?limit=20&offset=0", jwt)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def test_foreign_domain_is_refused_at_rcpt(server: Server) -> None:
    with server.smtp() as client:
        client.ehlo()
        client.mail("a@remote.example")
        code, _ = client.rcpt("victim@elsewhere.example")
        assert code == 550
        code, _ = client.rcpt("victim@test.example.evil.example")
        assert code == 550


def test_mixed_recipients_store_only_ours(server: Server) -> None:
    created = server.new_address()
    with server.smtp() as client:
        refused = client.sendmail(
            "a@remote.example",
            [created["address"], "x@elsewhere.example"],
            _mail(created["address"]).as_bytes(policy=SMTP),
        )
    assert list(refused) == ["x@elsewhere.example"]
    assert server.mails(created["jwt"])["count"] == 1


def test_one_row_per_recipient_and_lower_cased(server: Server) -> None:
    first, second = server.new_address(), server.new_address()
    server.send([first["address"].upper(), second["address"]], _mail(first["address"]).as_bytes(policy=SMTP))
    for created in (first, second):
        rows = server.mails(created["jwt"])["results"]
        assert [row["address"] for row in rows] == [created["address"]]


def test_a_hundred_recipients_per_transaction(server: Server) -> None:
    """RFC 5321's hundred are taken; the 101st is 452, for the sender's next transaction."""
    created = server.new_address()
    others = [f"n{i}-{uuid.uuid4().hex[:8]}@test.example" for i in range(100)]
    with server.smtp() as client:
        refused = client.sendmail(
            "a@remote.example", [created["address"], *others], b"Subject: many\r\n\r\nx"
        )
    assert list(refused) == [others[-1]] and refused[others[-1]][0] == 452
    assert server.mails(created["jwt"])["count"] == 1


def test_unknown_address_lands_in_mails_unknow(server: Server) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:10]}@test.example"
    known = server.new_address()
    server.send([nobody, known["address"]], _mail(nobody, subject="lost").as_bytes(policy=SMTP))
    unknown = server.admin("GET", "/admin/mails_unknow?limit=100&offset=0").json()["results"]
    addresses = [row["address"] for row in unknown]
    assert nobody in addresses
    assert known["address"] not in addresses


def test_subdomains_only_when_allowed(server: Server, make_server: ServerFactory) -> None:
    with server.smtp() as client:
        client.ehlo()
        client.mail("a@remote.example")
        assert client.rcpt("x@sub.test.example")[0] == 550
    matching = make_server(ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH="true")
    matching.send("x@sub.test.example", _mail("x@sub.test.example").as_bytes(policy=SMTP))


def test_size_limit_is_552_and_nothing_stored(make_server: ServerFactory) -> None:
    small = make_server(MAX_MESSAGE_SIZE="100000")
    created = small.new_address()
    with small.smtp() as client:
        client.ehlo()
        assert client.has_extn("size") and client.esmtp_features["size"] == "100000"
        with pytest.raises(smtplib.SMTPException) as refused:
            client.sendmail(
                "a@remote.example",
                created["address"],
                _mail(created["address"], body="x" * 150_000).as_bytes(policy=SMTP),
            )
    assert "552" in str(refused.value)
    small.send(created["address"], _mail(created["address"], body="small").as_bytes(policy=SMTP))
    assert small.mails(created["jwt"])["count"] == 1


def test_extensions_advertised(server: Server) -> None:
    with server.smtp() as client:
        client.ehlo()
        for extension in ("8bitmime", "smtputf8", "size"):
            assert client.has_extn(extension), extension


def test_large_mail_with_attachment_arrives_whole(server: Server) -> None:
    created = server.new_address()
    msg = _mail(created["address"], subject="report")
    attachment = bytes(range(256)) * (4 * 1024 * 1024 // 256)
    msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="data.bin")
    raw = msg.as_bytes(policy=SMTP)
    assert len(raw) > 5_000_000
    server.send(created["address"], raw)
    (row,) = server.mails(created["jwt"])["results"]
    assert row["raw"].encode() == raw
    (parsed,) = _parsed(server, created["jwt"])
    assert parsed["attachments"] == [
        {
            "filename": "data.bin",
            "mimeType": "application/octet-stream",
            "disposition": "attachment",
            "size": len(attachment),
        }
    ]


def test_non_utf8_mail_is_kept_and_readable(server: Server) -> None:
    created = server.new_address()
    raw = (
        b"From: =?iso-8859-1?q?J=F6rg?= <j@remote.example>\r\nSubject: caf\xe9 cr\xe8me\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xfc\xdfe aus K\xf6ln\r\n"
    )
    with server.smtp() as client:
        client.sendmail("j@remote.example", created["address"], raw, mail_options=["BODY=8BITMIME"])
    (row,) = server.mails(created["jwt"])["results"]
    assert row["raw"].startswith("From: =?iso-8859-1?q?J=F6rg?=")
    (parsed,) = _parsed(server, created["jwt"])
    assert parsed["text"].strip() == "Grüße aus Köln"
    assert parsed["subject"] == "café crème"
    assert parsed["sender"] == "Jörg <j@remote.example>"
    admin_rows = server.admin("GET", f"/admin/mails?limit=5&offset=0&address={created['address']}")
    assert admin_rows.status_code == 200


def test_smtputf8_local_part(server: Server) -> None:
    local = f"用户{uuid.uuid4().hex[:6]}"
    raw = f"From: a@remote.example\r\nTo: {local}@test.example\r\nSubject: 你好\r\n\r\n世界\r\n".encode()
    with server.smtp() as client:
        client.sendmail("a@remote.example", f"{local}@test.example", raw, mail_options=["SMTPUTF8"])
    unknown = server.admin("GET", "/admin/mails_unknow?limit=100&offset=0").json()["results"]
    (row,) = [r for r in unknown if r["address"] == f"{local}@test.example"]
    assert "世界" in row["raw"]


def test_mail_without_headers_is_stored(server: Server) -> None:
    created = server.new_address()
    server.send(created["address"], b"just a line\r\n")
    (parsed,) = _parsed(server, created["jwt"])
    assert parsed["subject"] == ""


def _in_parallel_sessions(server: Server, sessions: int, send: Callable[[smtplib.SMTP, int], None]) -> None:
    """`send(client, n)` on SMTP sessions 0..sessions-1, all at once, each on a thread."""
    errors: list[BaseException] = []

    def session(n: int) -> None:
        try:
            with server.smtp() as client:
                send(client, n)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_parallel_sessions_store_each_mail_once(server: Server) -> None:
    created = server.new_address()

    def send(client: smtplib.SMTP, n: int) -> None:
        for i in range(5):
            client.sendmail("a@remote.example", created["address"], f"Subject: {n}-{i}\r\n\r\nx".encode())

    _in_parallel_sessions(server, 10, send)
    page = server.mails(created["jwt"], limit=100)
    subjects = sorted(row["raw"].split("\r\n")[0] for row in page["results"])
    assert subjects == sorted(f"Subject: {n}-{i}" for n in range(10) for i in range(5))


def test_parallel_deliveries_each_get_their_own_ids(server: Server) -> None:
    """Deliveries committed together (the group commit) each get back the ids of their own
    rows: what runs after the commit (here the code extraction) reads each mail by its id, so
    a shifted id would put one mail's code on another."""
    boxes = [server.new_address() for _ in range(3)]

    def send(client: smtplib.SMTP, n: int) -> None:
        for i in range(4):
            code = f"{n}{i}" * 3
            # Every other delivery has two recipients: two rows of one group.
            to = [boxes[n % 3]["address"], *([boxes[(n + 1) % 3]["address"]] if i % 2 else [])]
            client.sendmail(
                "a@remote.example", to, f"Subject: {code}\r\n\r\nYour code is {code}\r\n".encode()
            )

    def stored() -> list[dict[str, Any]]:
        return [row for box in boxes for row in server.mails(box["jwt"], limit=100)["results"]]

    _in_parallel_sessions(server, 10, send)
    rows = stored()
    assert len(rows) == 60
    deadline = time.monotonic() + 30
    while any(row["metadata"] is None for row in rows) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = stored()
    for row in rows:
        subject = row["raw"].split("\r\n")[0].removeprefix("Subject: ")
        assert json.loads(row["metadata"])["ai_extract"]["result"] == subject, row


def test_starttls(fresh_server: ServerFactory, tls_files: tuple[str, str]) -> None:
    cert, key = tls_files
    tls = fresh_server({"SMTP_TLS_CERT": cert, "SMTP_TLS_KEY": key})
    created = tls.new_address()
    with tls.smtp() as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=ssl._create_unverified_context())
        client.ehlo()
        client.sendmail(
            "a@remote.example", created["address"], _mail(created["address"]).as_bytes(policy=SMTP)
        )
    assert tls.mails(created["jwt"])["count"] == 1


def test_stop_drains_and_exits_cleanly(fresh_server: ServerFactory) -> None:
    private = fresh_server()
    created = private.new_address()
    client = private.smtp()
    client.ehlo()
    client.sendmail("a@remote.example", created["address"], _mail(created["address"]).as_bytes(policy=SMTP))
    assert private.mails(created["jwt"])["count"] == 1
    assert private.stop() == 0
    client.close()
    assert "Traceback" not in private.output()


def test_a_failed_commit_is_451_and_stores_nothing(fresh_server: ServerFactory) -> None:
    """The sender keeps a mail we could not commit and retries: 451, never a 250 or a 5xx."""
    private = fresh_server()
    created = private.new_address()
    private.db.sql("ALTER TABLE raw_mails RENAME TO raw_mails_away")
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            private.send(created["address"], _mail(created["address"]).as_bytes(policy=SMTP))
        assert refused.value.smtp_code == 451
    finally:
        private.db.sql("ALTER TABLE raw_mails_away RENAME TO raw_mails")
    assert private.mails(created["jwt"])["count"] == 0
    private.send(created["address"], _mail(created["address"]).as_bytes(policy=SMTP))
    assert private.mails(created["jwt"])["count"] == 1


@pytest.mark.backends("postgresql")
def test_mail_is_stored_after_the_database_dropped_our_connections(fresh_server: ServerFactory) -> None:
    """A restarted PostgreSQL leaves the pooled connections dead: the next mail still gets a
    new one and is stored, not refused."""
    private = fresh_server()
    created = private.new_address()
    private.send(created["address"], _mail(created["address"], "before").as_bytes(policy=SMTP))
    private.db.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    private.send(created["address"], _mail(created["address"], "after").as_bytes(policy=SMTP))
    assert private.mails(created["jwt"])["count"] == 2
