"""Stopping the server while mail streams in: every mail answered 250 is stored, and no mail
is stored that was not answered 250 (its sender would send it again: a duplicate).

Senders in threads keep sending over sessions of several mails each, through three stops
(SIGTERM, SIGINT, SIGTERM) and restarts of a real `tempmail serve` on one database; what they
were told is then checked against what is stored, by Message-ID.
"""

from __future__ import annotations

import signal
import smtplib
import threading
from dataclasses import dataclass, field

import pytest

from tests.support import Server, read_to_close

SENDERS = 4
MAILS_PER_SESSION = 5
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGTERM)
# Mails acknowledged between two stops, so that each stop meets mail in flight.
MAILS_BETWEEN_STOPS = 30


@dataclass
class _Tally:
    """What the senders were told, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: set[str] = field(default_factory=set)
    unanswered: set[str] = field(default_factory=set)
    errors: list[BaseException] = field(default_factory=list)
    progress: threading.Condition = field(default_factory=threading.Condition)

    def ack(self, message_id: str) -> None:
        with self.lock:
            self.acknowledged.add(message_id)
        with self.progress:
            self.progress.notify_all()

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def wait_for(self, count: int) -> None:
        with self.progress:
            self.progress.wait_for(lambda: self.count() >= count or bool(self.errors), timeout=30)


def _sender(server: Server, index: int, address: str, tally: _Tally, done: threading.Event) -> None:
    """Sessions of MAILS_PER_SESSION mails until `done`; a refused connection, a 421 or a cut
    connection ends the session, and the next one starts (the server may be restarting)."""
    sequence = 0
    try:
        while not done.is_set():
            try:
                client = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30)
            except (OSError, smtplib.SMTPException):
                done.wait(0.05)
                continue
            try:
                for _ in range(MAILS_PER_SESSION):
                    sequence += 1
                    message_id = f"<s{index}-{sequence}@remote.example>"
                    raw = f"Message-ID: {message_id}\r\nSubject: {sequence}\r\n\r\nmail {sequence}\r\n"
                    with tally.lock:
                        tally.unanswered.add(message_id)
                    client.sendmail("stream@remote.example", address, raw.encode())
                    with tally.lock:
                        tally.unanswered.discard(message_id)
                    tally.ack(message_id)
                client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            finally:
                client.close()
    except BaseException as exc:  # reported by the test
        tally.errors.append(exc)
        with tally.progress:
            tally.progress.notify_all()


@pytest.mark.parametrize("workers", [1, 2])
def test_no_mail_is_stored_without_its_250(backend: str, workers: int) -> None:
    server = Server(backend, workers=workers).start()
    try:
        address = server.new_address()["address"]
        tally = _Tally()
        done = threading.Event()
        threads = [
            threading.Thread(target=_sender, args=(server, n, address, tally, done), daemon=True)
            for n in range(SENDERS)
        ]
        for thread in threads:
            thread.start()
        try:
            for sig in STOPS:
                tally.wait_for(tally.count() + MAILS_BETWEEN_STOPS)
                assert server.proc is not None
                server.proc.send_signal(sig)
                assert server.proc.wait(60) == 0, server.output()
                server.start()
            tally.wait_for(tally.count() + MAILS_BETWEEN_STOPS)
        finally:
            done.set()
            for thread in threads:
                thread.join(60)
        assert tally.errors == []
        stored = [
            row[0] for row in server.db.sql("SELECT message_id FROM raw_mails WHERE address = ?", address)
        ]
        assert len(stored) == len(set(stored)), "a mail was stored twice"
        assert set(stored) - tally.acknowledged == set(), "stored without their 250"
        assert tally.acknowledged - set(stored) == set(), "answered 250 but not stored"
        assert len(tally.acknowledged) >= MAILS_BETWEEN_STOPS * (len(STOPS) + 1)
        assert "Traceback" not in server.output()
    finally:
        server.close()


def test_stop_answers_idle_sessions_421_and_finishes_data_with_250(backend: str) -> None:
    """The promise step by step: an idle session is told 421 at once; a session halfway through
    its DATA may finish it, gets its 250 (the mail is stored), and then its 421."""
    server = Server(backend).start()
    try:
        address = server.new_address()["address"]
        idle = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30)
        idle.ehlo()
        sending = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30)
        sending.ehlo()
        sending.mail("late@remote.example")
        sending.rcpt(address)
        assert sending.docmd("DATA")[0] == 354
        sending.send(b"Message-ID: <late@remote.example>\r\nSubject: late\r\n\r\nfirst half\r\n")
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        # Once the idle session has its 421, the server is stopping.
        assert idle.getreply() == (421, b"4.3.2 Service shutting down")
        sending.send(b"second half\r\n.\r\n")
        assert sending.getreply() == (250, b"OK")
        assert sending.getreply() == (421, b"4.3.2 Service shutting down")
        assert server.proc.wait(60) == 0
        stored = server.db.sql("SELECT message_id FROM raw_mails WHERE address = ?", address)
        assert stored == [("<late@remote.example>",)]
        for client in (idle, sending):
            assert client.sock is not None
            assert read_to_close(client.sock) == b""
            client.close()
    finally:
        server.close()
