"""The SMTP listener's limits as a client meets them: what it takes (anything within the size
limit, byte for byte), what it refuses (too large: 552; too many connections: 421), and how
long it waits for a silent client."""

from __future__ import annotations

import smtplib
import socket
import time

import pytest

from tests.conftest import ServerFactory
from tests.support import Server, as_stored, dot_stuffed, read_to_close, send_exact, stored_raws

LIBERAL = {
    "a 100 KB line": b"Subject: long\r\n\r\n" + b"x" * 100_000 + b"\r\n",
    "a 100 KB header": b"Subject: " + b"h" * 100_000 + b"\r\n\r\nbody\r\n",
    "bare LF line ends": b"Subject: lf\nFrom: a@remote.example\n\nline one\nline two\n.dot after LF\n",
    "bare CR line ends": b"Subject: cr\rFrom: a@remote.example\r\rline one\r.dot after CR\r",
    "NUL bytes": b"Subject: nul\x00here\r\n\r\nbody\x00with\x00nuls\r\n",
    "8-bit headers, no SMTPUTF8": b"Subject: caf\xe9 \xff\xfe\r\nFrom: J\xf6rg <j@remote.example>\r\n\r\nx",
    "no line end at all": b"Subject: open",
    "a leading dot": b".Subject: dot\r\n\r\n.\r\n..\r\n",
    "lines ending with a dot": b"Subject: dots\r\n\r\nThanks.\r\n.\r\nx.\r\n...\r\n.x.\r\nend.",
    "a dot after CR LF in a line": b"Subject: crlf\r\n\r\na\r\n.\rb\r\n.\nc\r\n",
    "nothing at all": b"",
}


# Connections tried while the server has not yet seen earlier ones close.
ATTEMPTS = 100


def _ui_reader_routes(mail_id: int) -> list[str]:
    return [f"/ui/mail/{mail_id}", f"/ui/mail/{mail_id}/raw"]


@pytest.mark.parametrize("case", list(LIBERAL))
def test_any_mail_within_the_size_limit_is_stored_byte_exact(server: Server, case: str) -> None:
    raw = LIBERAL[case]
    created = server.new_address()
    with server.smtp() as client:
        code, answer = send_exact(client, created["address"], raw)
    assert code == 250, answer
    assert stored_raws(server.db, created["address"]) == [as_stored(raw)]
    (row,) = server.mails(created["jwt"])["results"]
    jwt = created["jwt"]
    for path in [f"/api/mail/{row['id']}", f"/api/parsed_mail/{row['id']}", *_ui_reader_routes(row["id"])]:
        response = server.with_jwt("GET", path, jwt)
        assert response.status_code == 200, (path, response.text)
    assert server.with_jwt("GET", "/api/parsed_mails?limit=20&offset=0", jwt).status_code == 200


def test_lf_dot_lf_does_not_end_the_data(server: Server) -> None:
    """Only CRLF . CRLF ends DATA: a bare-LF dot line inside stays mail text, and what follows it
    is not read as commands (no second mail smuggled in)."""
    created = server.new_address()
    smuggled = (
        b"Subject: outer\r\n\r\nhello\n.\nMAIL FROM:<evil@remote.example>\nRCPT TO:<"
        + created["address"].encode()
        + b">\nDATA\nSubject: smuggled\n\nevil\n.\r\n"
    )
    with server.smtp() as client:
        code, _ = send_exact(client, created["address"], smuggled)
        assert code == 250
    assert stored_raws(server.db, created["address"]) == [smuggled]


def test_the_data_may_arrive_in_any_pieces(server: Server) -> None:
    """The data is read in large pieces; where the packets split it (the end `.` CRLF cut in
    two, a dot line's CRLF apart from its dot) changes nothing of what is stored."""
    created = server.new_address()
    raw = b"Subject: pieces\r\n\r\nend.\r\n.stuffed\r\nlast\r\n"
    data = dot_stuffed(raw)
    with server.smtp() as client:
        client.ehlo()
        assert client.mail("a@remote.example")[0] == 250
        assert client.rcpt(created["address"])[0] == 250
        assert client.docmd("DATA")[0] == 354
        for start in range(0, len(data), 3):
            client.send(data[start : start + 3])
            time.sleep(0.01)
        assert client.getreply()[0] == 250
    assert stored_raws(server.db, created["address"]) == [raw]


def test_an_envelope_address_with_a_nul_byte_is_553(server: Server) -> None:
    """Refused at once, naming the problem: stored, it would fail every commit on PostgreSQL
    (451 for ever)."""
    created = server.new_address()
    with server.smtp() as client:
        client.ehlo()
        assert client.docmd("MAIL FROM:<a\x00b@remote.example>") == (553, b"5.1.3 Error: malformed address")
        assert client.mail("ab@remote.example")[0] == 250
        assert client.docmd("RCPT TO:<x\x00y@test.example>") == (553, b"5.1.3 Error: malformed address")
        assert client.rcpt(created["address"])[0] == 250


def test_the_size_limit_is_the_only_size_refusal(make_server: ServerFactory) -> None:
    """Over MAX_MESSAGE_SIZE is 552 whether as many lines or as one line (aiosmtpd's own answer
    to a line over its stream limit would be 500), and the session goes on."""
    small = make_server(MAX_MESSAGE_SIZE="20000")
    created = small.new_address()
    with small.smtp() as client:
        for too_large in (b"Subject: one line\r\n\r\n" + b"y" * 30_000, (b"z" * 98 + b"\r\n") * 300):
            code, answer = send_exact(client, created["address"], too_large)
            assert (code, answer.split(b" ")[0]) == (552, b"5.3.4"), answer
            assert b"20000" in answer
        # Lines that end with a dot are where the data is split on its way in.
        code, answer = send_exact(client, created["address"], b"Thanks.\r\n" * 2_500)
        assert code == 552, answer
        fits = b"Subject: fits\r\n\r\n" + b"w" * 19_000
        code, _ = send_exact(client, created["address"], fits)
        assert code == 250
        # The limit counts the data as sent, with its line ends and transparent dots: exactly
        # at it is taken, one byte more is not.
        at_limit = b"." + b"v" * 19_996 + b"\r\n"
        assert len(dot_stuffed(at_limit)) == 20_000 + len(b".\r\n")
        assert send_exact(client, created["address"], at_limit)[0] == 250
        assert send_exact(client, created["address"], b"vv" + at_limit)[0] == 552
    assert stored_raws(small.db, created["address"]) == [as_stored(fits), at_limit]


def _connect(server: Server, source_ip: str) -> tuple[socket.socket, bytes]:
    """A connection from `source_ip` (any 127/8 address is this machine) and its first reply."""
    sock = socket.create_connection(
        ("127.0.0.1", server.smtp_port), timeout=30, source_address=(source_ip, 0)
    )
    return sock, _read_reply(sock)


def _admitted(server: Server, source_ip: str) -> socket.socket:
    """A connection from `source_ip` that got its 220, trying again while it is refused: the
    server may not have seen earlier connections (its own readiness probes) close yet."""
    for _ in range(ATTEMPTS):
        sock, greeting = _connect(server, source_ip)
        if greeting.startswith(b"220 "):
            return sock
        sock.close()
        time.sleep(0.05)
    raise AssertionError(f"every connection from {source_ip} refused: {greeting!r}")


def _read_reply(sock: socket.socket) -> bytes:
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return reply


def test_connections_over_the_per_address_cap_get_421_and_are_closed(make_server: ServerFactory) -> None:
    capped = make_server(SMTP_MAX_CONNECTIONS_PER_IP="2")
    held = [_admitted(capped, "127.0.0.2") for _ in range(2)]
    for _ in range(5):
        sock, reply = _connect(capped, "127.0.0.2")
        assert reply == b"421 4.7.0 Too many connections from your address, try again later\r\n"
        assert read_to_close(sock) == b""
        sock.close()
    # Another address is not held to this one's cap, and a closed connection frees its place.
    other, greeting = _connect(capped, "127.0.0.3")
    assert greeting.startswith(b"220 ")
    held[0].close()
    smtp = smtplib.SMTP(timeout=30, source_address=("127.0.0.2", 0))
    created = capped.new_address()
    # The server may not have seen the close yet (then this connection is refused): try again.
    for _ in range(ATTEMPTS):
        if smtp.connect("127.0.0.1", capped.smtp_port)[0] == 220:
            break
        smtp.close()
        time.sleep(0.05)
    code, _ = send_exact(smtp, created["address"], b"Subject: in\r\n\r\nx\r\n")
    assert code == 250
    smtp.quit()
    for sock in [*held[1:], other]:
        sock.close()
    # Five refusals, one log line for the window.
    refusals = [
        line for line in capped.output().splitlines() if "refusing SMTP connections from 127.0.0.2" in line
    ]
    assert len(refusals) == 1, refusals


def test_connections_over_the_total_cap_get_421(make_server: ServerFactory) -> None:
    capped = make_server(SMTP_MAX_CONNECTIONS="3")
    held = [_admitted(capped, f"127.0.1.{n}") for n in range(1, 4)]
    sock, reply = _connect(capped, "127.0.1.9")
    assert reply == b"421 4.3.2 Too many connections, try again later\r\n"
    assert read_to_close(sock) == b""
    sock.close()
    for held_sock in held:
        held_sock.close()


def test_a_silent_client_is_told_and_cut_off(make_server: ServerFactory) -> None:
    impatient = make_server(SMTP_IDLE_TIMEOUT="1")
    sock, greeting = _connect(impatient, "127.0.0.1")
    assert greeting.startswith(b"220 ")
    assert read_to_close(sock) == b"421 4.4.2 Idle for too long, closing the connection\r\n"
    sock.close()


def test_data_that_keeps_coming_is_not_idle(make_server: ServerFactory) -> None:
    """The idle timeout runs between packets of DATA too, not over the whole transfer."""
    impatient = make_server(SMTP_IDLE_TIMEOUT="2")
    created = impatient.new_address()
    raw = b"Subject: slow\r\n\r\n" + b"".join(b"line %d\r\n" % n for n in range(16))
    with impatient.smtp() as client:
        client.ehlo()
        client.mail("slow@remote.example")
        client.rcpt(created["address"])
        assert client.docmd("DATA")[0] == 354
        for n in range(0, len(raw), 16):
            client.send(raw[n : n + 16])
            time.sleep(0.25)
        client.send(b".\r\n")
        assert client.getreply()[0] == 250
    assert stored_raws(impatient.db, created["address"]) == [raw]
