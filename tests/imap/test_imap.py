"""The IMAP server (issue 18) with real clients, Python's `imaplib` and `imapclient`, against
real servers on SQLite and PostgreSQL: logins, mailboxes, the exact bytes, search, flags that
persist, expunge as the API deletes, IDLE on mail arriving over SMTP, TLS, several workers."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from tests.conftest import ServerFactory
from tests.support import Server, free_port, self_signed_certificate, send_exact, stored_raws

IMAP_ENV = {"IMAP_ALLOW_PLAINTEXT": "true"}


@pytest.fixture(scope="module")
def imap(make_server: ServerFactory) -> tuple[Server, int]:
    """A shared server with IMAP on a port of its own: (server, IMAP port)."""
    port = free_port()
    return make_server(IMAP_LISTEN=f"127.0.0.1:{port}", **IMAP_ENV), port


def deliver(
    server: Server, to: str, subject: str, body: str = "hello", sender: str = "bob@remote.example"
) -> bytes:
    headers = f"From: Bob <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
    raw = f"{headers}Message-ID: <{uuid.uuid4().hex}@x>\r\n\r\n{body}\r\n"
    server.send(to, raw.encode())
    return raw.encode()


def api_mails(server: Server, jwt: str) -> list[dict[str, Any]]:
    """The address's mails as `/api/mails` gives them, oldest first."""
    return list(reversed(server.mails(jwt, limit=100)["results"]))


def client(port: int, address: dict[str, Any]) -> IMAPClient:
    imap_client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30)
    imap_client.login(address["address"], address["jwt"])
    return imap_client


def test_login_with_jwt_and_password_and_wrong_one_refused(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    with imaplib.IMAP4("127.0.0.1", port) as conn:
        assert conn.login(address["address"], address["jwt"])[0] == "OK"
    assert address["password"]
    with imaplib.IMAP4("127.0.0.1", port) as conn:
        # AUTHENTICATE PLAIN with the address password, as a mail client's user types it.
        secret = f"\0{address['address']}\0{address['password']}".encode()
        assert conn.authenticate("PLAIN", lambda _: secret)[0] == "OK"
    with imaplib.IMAP4("127.0.0.1", port) as conn:
        started = time.monotonic()
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            conn.login(address["address"], "wrong password")
        assert time.monotonic() - started >= 0.9  # the delay of a wrong login
    other = server.new_address()
    with imaplib.IMAP4("127.0.0.1", port) as conn, pytest.raises(imaplib.IMAP4.error):
        conn.login(other["address"], address["jwt"])  # a JWT logs in its own address only


def test_list_select_status_and_honest_capability(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    for index in range(3):
        deliver(server, address["address"], f"mail {index}")
    with client(port, address) as conn:
        capabilities = set(conn.capabilities())
        assert {b"IMAP4REV1", b"IDLE", b"UIDPLUS"} <= capabilities
        assert not {b"MOVE", b"MULTIAPPEND", b"OBJECTID"} & capabilities
        assert [name for _, _, name in conn.list_folders()] == ["INBOX", "Sent"]
        assert [name for _, _, name in conn.list_sub_folders()] == ["INBOX", "Sent"]
        status = conn.folder_status("INBOX", ["MESSAGES", "UNSEEN", "UIDVALIDITY", "UIDNEXT"])
        assert status[b"MESSAGES"] == 3 and status[b"UNSEEN"] == 3
        selected = conn.select_folder("INBOX")
        assert selected[b"EXISTS"] == 3
        assert selected[b"UIDVALIDITY"] == status[b"UIDVALIDITY"]
        ids = [mail["id"] for mail in api_mails(server, address["jwt"])]
        assert conn.search("ALL") == ids  # UIDs are the mail ids
        assert selected[b"UIDNEXT"] > max(ids)
        assert conn.select_folder("Sent", readonly=True)[b"EXISTS"] == 0
    with client(port, address) as conn:
        assert conn.folder_status("INBOX", ["UIDVALIDITY"])[b"UIDVALIDITY"] == status[b"UIDVALIDITY"]


def test_fetch_gives_the_stored_bytes(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    deliver(server, address["address"], "plain one", body="Grüße, 😀")
    # 8-bit Latin-1 (kept compressed, not as text), a bare LF and a long line, byte for byte.
    odd = b"Subject: odd\r\nFrom: a@remote.example\r\n\r\ncaf\xe9 bare\nLF " + b"x" * 2000 + b"\r\n"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        assert send_exact(smtp, address["address"], odd)[0] == 250
    stored = stored_raws(server.db, address["address"])
    mails = api_mails(server, address["jwt"])
    assert mails[0]["raw"].encode() == stored[0]
    with client(port, address) as conn:
        conn.select_folder("INBOX", readonly=True)
        fetched = conn.fetch(
            [mail["id"] for mail in mails],
            ["BODY.PEEK[]", "RFC822.SIZE", "FLAGS", "INTERNALDATE", "ENVELOPE"],
        )
        assert [fetched[mail["id"]][b"BODY[]"] for mail in mails] == stored
        assert [fetched[mail["id"]][b"RFC822.SIZE"] for mail in mails] == [len(raw) for raw in stored]
        assert fetched[mails[0]["id"]][b"ENVELOPE"].subject == b"plain one"
        assert all(fetched[mail["id"]][b"FLAGS"] == () for mail in mails)  # PEEK sets no \Seen
        structure = conn.fetch([mails[0]["id"]], ["BODYSTRUCTURE"])[mails[0]["id"]][b"BODYSTRUCTURE"]
        assert structure[0].lower() == b"text"
    with imaplib.IMAP4("127.0.0.1", port) as conn:
        conn.login(address["address"], address["jwt"])
        conn.select("INBOX")
        status, data = conn.uid("FETCH", str(mails[1]["id"]), "(RFC822)")
        assert status == "OK" and data[0][1] == stored[1]
        # RFC822 (not a PEEK) marks the mail read.
        assert "\\Seen" in conn.uid("FETCH", str(mails[1]["id"]), "(FLAGS)")[1][0].decode()


def test_search(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    deliver(server, address["address"], "Your code", body="code 123456", sender="alice@shop.example")
    deliver(server, address["address"], "Newsletter", body="news of the week")
    deliver(server, address["address"], "Another code", body="code 654321", sender="alice@shop.example")
    ids = [mail["id"] for mail in api_mails(server, address["jwt"])]
    with client(port, address) as conn:
        conn.select_folder("INBOX")
        assert conn.search(["FROM", "alice@shop.example"]) == [ids[0], ids[2]]
        assert conn.search(["SUBJECT", "code"]) == [ids[0], ids[2]]
        assert conn.search(["TEXT", "week"]) == [ids[1]]
        assert conn.search(["SINCE", "1-Jan-2020"]) == ids
        assert conn.search(["UID", f"{ids[1]}:*"]) == ids[1:]
        conn.add_flags([ids[0]], [b"\\Seen"])
        assert conn.search("UNSEEN") == ids[1:]
    with imaplib.IMAP4("127.0.0.1", port) as plain:
        plain.login(address["address"], address["jwt"])
        plain.select("INBOX")
        assert plain.search(None, "UNSEEN")[1] == [b"2 3"]
        assert plain.uid("SEARCH", "SUBJECT", "Newsletter")[1] == [str(ids[1]).encode()]


def test_flags_persist_across_connections(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    deliver(server, address["address"], "one")
    deliver(server, address["address"], "two")
    first, second = (mail["id"] for mail in api_mails(server, address["jwt"]))
    with client(port, address) as conn:
        conn.select_folder("INBOX")
        conn.add_flags([first], [b"\\Seen", b"\\Flagged"])
        conn.add_flags([second], [b"\\Seen"])
        conn.remove_flags([second], [b"\\Seen"])
    with client(port, address) as conn:
        conn.select_folder("INBOX", readonly=True)
        flags = conn.get_flags([first, second])
        assert set(flags[first]) == {b"\\Seen", b"\\Flagged"} and flags[second] == ()
        assert conn.folder_status("INBOX", ["UNSEEN"])[b"UNSEEN"] == 1


def test_expunge_deletes_as_the_api_does(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    deliver(server, address["address"], "keep")
    deliver(server, address["address"], "drop")
    keep, drop = (mail["id"] for mail in api_mails(server, address["jwt"]))
    with client(port, address) as conn:
        conn.select_folder("INBOX")
        conn.add_flags([drop], [b"\\Deleted", b"\\Seen"])
        conn.expunge()
        assert conn.search("ALL") == [keep]
    assert [mail["id"] for mail in api_mails(server, address["jwt"])] == [keep]
    # Its flags went with it.
    assert server.db.sql("SELECT mail_id FROM mail_flags WHERE mail_id = ?", drop) == []
    # A mail deleted through the API disappears from a selected mailbox at the next command.
    with client(port, address) as conn:
        conn.select_folder("INBOX")
        conn.add_flags([keep], [b"\\Flagged"])
        assert server.with_jwt("DELETE", f"/api/mails/{keep}", address["jwt"]).status_code == 200
        conn.noop()
        assert conn.search("ALL") == []
    assert server.db.sql("SELECT mail_id FROM mail_flags WHERE mail_id = ?", keep) == []


def test_idle_sees_a_mail_sent_over_smtp(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    with client(port, address) as conn:
        conn.select_folder("INBOX")
        conn.idle()
        sent = threading.Timer(0.5, deliver, (server, address["address"], "while idle"))
        sent.start()
        started = time.monotonic()
        responses = conn.idle_check(timeout=5)
        waited = time.monotonic() - started
        conn.idle_done()
        sent.join()
        assert (1, b"EXISTS") in responses, responses
        assert waited < 2.5  # 0.5 s before the mail is sent, then well within 2 s
        assert conn.search("ALL") == [mail["id"] for mail in api_mails(server, address["jwt"])]


def test_sent_mailbox_is_read_only(imap: tuple[Server, int]) -> None:
    server, port = imap
    address = server.new_address()
    record = (
        '{"version": "v2", "from_name": "Me", "to_mail": "friend@else.example", "to_name": "Friend",'
        ' "subject": "Hello there", "content": "<p>Hi!</p>", "is_html": true}'
    )
    server.db.sql(
        "INSERT INTO sendbox (address, raw, created_at) VALUES (?, ?, '2026-01-02 03:04:05')",
        address["address"],
        record,
    )
    with client(port, address) as conn:
        with pytest.raises(IMAPClient.ReadOnlyError):  # the server answers SELECT with READ-ONLY
            conn.select_folder("Sent")
        assert conn.select_folder("Sent", readonly=True)[b"EXISTS"] == 1
        (uid,) = conn.search("ALL")
        fetched = conn.fetch([uid], ["BODY[]", "FLAGS", "INTERNALDATE"])[uid]
        first = fetched[b"BODY[]"]
        assert b"Subject: Hello there\r\n" in first and b"To: Friend <friend@else.example>\r\n" in first
        assert b"Content-Type: text/html" in first and b"<p>Hi!</p>" in first
        assert fetched[b"FLAGS"] == (b"\\Seen",)
        assert conn.fetch([uid], ["BODY[]"])[uid][b"BODY[]"] == first  # the same bytes every time


def test_open_api_settings_reports_the_imap_port(imap: tuple[Server, int]) -> None:
    server, port = imap
    proxy = server.client.get("/open_api/settings").json()["smtpImapProxyConfig"]
    assert proxy["imap"] == {"host": "mx.test.example", "port": port, "starttls": False}


def test_flags_survive_a_restart(backend: str) -> None:
    port = free_port()
    env = {"IMAP_LISTEN": f"127.0.0.1:{port}", **IMAP_ENV}
    first = Server(backend, env).start()
    try:
        address = first.new_address()
        deliver(first, address["address"], "remember me")
        (mail,) = api_mails(first, address["jwt"])
        with client(port, address) as conn:
            conn.select_folder("INBOX")
            conn.add_flags([mail["id"]], [b"\\Seen", b"\\Flagged"])
        assert first.stop() == 0
        again = Server(backend, env, database=first.db).start()
        try:
            with client(port, address) as conn:
                conn.select_folder("INBOX")
                assert set(conn.get_flags([mail["id"]])[mail["id"]]) == {b"\\Seen", b"\\Flagged"}
        finally:
            again.close()
    finally:
        first.close()


@pytest.fixture
def tls_server(backend: str, tmp_path: Path) -> Iterator[tuple[Server, int, int]]:
    cert, key = self_signed_certificate(tmp_path, "mx.test.example")
    plain, implicit = free_port(), free_port()
    server = Server(
        backend,
        {
            "IMAP_LISTEN": f"0.0.0.0:{plain}",
            "IMAP_TLS_LISTEN": f"127.0.0.1:{implicit}",
            "TLS_CERT_FILE": cert,
            "TLS_KEY_FILE": key,
        },
    ).start()
    yield server, plain, implicit
    server.close()


def _trusting() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _outward_ip() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent
        except OSError:
            return None
        ip = str(probe.getsockname()[0])
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


def test_tls_starttls_and_logindisabled(tls_server: tuple[Server, int, int]) -> None:
    server, plain, implicit = tls_server
    address = server.new_address()
    deliver(server, address["address"], "over tls")
    with IMAPClient("127.0.0.1", port=implicit, ssl=True, ssl_context=_trusting(), timeout=30) as conn:
        conn.login(address["address"], address["jwt"])
        assert conn.select_folder("INBOX")[b"EXISTS"] == 1
    with IMAPClient("127.0.0.1", port=plain, ssl=False, timeout=30) as conn:
        assert b"STARTTLS" in conn.capabilities()
        conn.starttls(_trusting())
        conn.login(address["address"], address["jwt"])
        assert conn.select_folder("INBOX")[b"EXISTS"] == 1
    outward = _outward_ip()
    if outward is None:
        pytest.fail("this machine has no non-loopback IPv4 address to connect from (LOGINDISABLED)")
    with imaplib.IMAP4(outward, plain) as conn:
        assert "LOGINDISABLED" in conn.capabilities and "STARTTLS" in conn.capabilities
        with pytest.raises(imaplib.IMAP4.error):
            conn.login(address["address"], address["jwt"])
        conn.starttls(_trusting())
        assert conn.login(address["address"], address["jwt"])[0] == "OK"


@pytest.mark.backends("sqlite")
def test_imap_with_several_workers(backend: str) -> None:
    port = free_port()
    server = Server(backend, {"IMAP_LISTEN": f"127.0.0.1:{port}", **IMAP_ENV}, workers=2).start()
    try:
        address = server.new_address()
        deliver(server, address["address"], "to any worker")
        for _ in range(4):
            with client(port, address) as conn:
                assert conn.select_folder("INBOX")[b"EXISTS"] == 1
        assert server.stop() == 0
    finally:
        server.close()


@pytest.mark.backends("sqlite")
def test_ten_wrong_logins_lock_the_ip_out(backend: str) -> None:
    """The eleventh login from an IP that failed ten times is refused, the right one too (a
    server of its own: the lock-out is the whole loopback's)."""
    port = free_port()
    server = Server(backend, {"IMAP_LISTEN": f"127.0.0.1:{port}", **IMAP_ENV}).start()
    try:
        address = server.new_address()
        for _ in range(10):
            with imaplib.IMAP4("127.0.0.1", port) as conn, pytest.raises(imaplib.IMAP4.error):
                conn.login(address["address"], "wrong password")
        with (
            imaplib.IMAP4("127.0.0.1", port) as conn,
            pytest.raises(imaplib.IMAP4.error, match="too many failed logins"),
        ):
            conn.login(address["address"], address["jwt"])
    finally:
        server.close()
