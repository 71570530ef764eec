"""kill -9 under ingest: an SMTP `250` is a promise that the mail is on disk.

A real `tempmail serve` takes mail from several parallel SMTP sessions, each mail with a unique
Message-ID; the whole process group (supervisor and workers) is killed with SIGKILL mid-stream,
restarted on the same database, and killed again. At the end every mail that got its `250`
must be stored exactly once and readable through the API. A mail whose session was cut before
the `250` may or may not be stored (the commit can land just before the kill), but never twice.
"""

from __future__ import annotations

import os
import signal
import smtplib
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.support import Server

KILLS = 3
SESSIONS = 4
# Acknowledged mails to wait for before each kill (and after the last restart).
MAILS_PER_ROUND = 40
# Only to turn a hang into a failure; nothing is asserted about speed.
ROUND_DEADLINE_SECONDS = 60


def raw_mail(message_id: str) -> str:
    return f"Message-ID: {message_id}\r\nSubject: torture\r\n\r\nbody of {message_id}\r\n"


class Senders:
    """SESSIONS threads sending mail continuously over their own SMTP sessions, reconnecting
    whenever the server is gone; `acked` holds (address, Message-ID) of every mail answered 250."""

    def __init__(self, smtp_port: int, addresses: list[str]) -> None:
        self.smtp_port = smtp_port
        self.addresses = addresses
        self.acked: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(SESSIONS)]

    def __enter__(self) -> Senders:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def wait_for(self, total: int) -> None:
        deadline = time.monotonic() + ROUND_DEADLINE_SECONDS
        while self.count() < total:
            assert time.monotonic() < deadline, f"only {self.count()} of {total} mails acknowledged"
            time.sleep(0.02)

    def _run(self, session: int) -> None:
        sent = 0
        while not self.stopping.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
                    while not self.stopping.is_set():
                        address = self.addresses[(session + sent) % len(self.addresses)]
                        sent += 1
                        message_id = f"<{uuid.uuid4().hex}@torture.example>"
                        client.sendmail("sender@remote.example", [address], raw_mail(message_id))
                        with self.lock:
                            self.acked.append((address, message_id))
            except (OSError, smtplib.SMTPException):
                # Killed mid-session, refused while down, or a 4xx: not acknowledged; again.
                time.sleep(0.05)


def stored(server: Server, address: str) -> list[dict[str, Any]]:
    """Every mail of `address`, through the admin API, page by page."""
    rows: list[dict[str, Any]] = []
    while True:
        response = server.admin("GET", f"/admin/mails?limit=100&offset={len(rows)}&address={address}")
        assert response.status_code == 200, response.text
        page = response.json()["results"]
        rows.extend(page)
        if len(page) < 100:
            return rows


def kill_group(server: Server) -> None:
    """SIGKILL to the server and every worker of its process group, as a power cut would."""
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait()


@pytest.mark.parametrize("workers", [1, 2])
def test_acknowledged_mail_survives_kill_9(backend: str, workers: int) -> None:
    server = Server(backend, workers=workers, process_group=True).start()
    try:
        created = [server.new_address() for _ in range(3)]
        addresses = [a["address"] for a in created]
        with Senders(server.smtp_port, addresses) as senders:
            for _ in range(KILLS):
                senders.wait_for(senders.count() + MAILS_PER_ROUND)
                kill_group(server)
                server.start()
            senders.wait_for(senders.count() + MAILS_PER_ROUND)
        acked = list(senders.acked)

        rows = {address: stored(server, address) for address in addresses}
        counts = Counter(row["message_id"] for address_rows in rows.values() for row in address_rows)
        duplicated = [message_id for message_id, count in counts.items() if count > 1]
        assert not duplicated, f"{len(duplicated)} mails stored more than once"
        lost = [message_id for _, message_id in acked if counts[message_id] != 1]
        assert not lost, f"{len(lost)} of {len(acked)} acknowledged mails lost"
        by_id = {row["message_id"]: (address, row) for address, rs in rows.items() for row in rs}
        for address, message_id in acked:
            where, row = by_id[message_id]
            assert where == address and row["raw"] == raw_mail(message_id)
        # And as the address itself reads them.
        for mail in created:
            mine = [m for a, m in acked if a == mail["address"]]
            listed = server.mails(mail["jwt"], limit=100)
            assert listed["count"] >= len(mine)
            assert {m["message_id"] for m in listed["results"]} <= set(counts)
    finally:
        server.close()
