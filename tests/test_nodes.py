"""Several nodes on one PostgreSQL database (issue 17): two `tempmail serve` processes on
loopback, each with its own ports and two workers, sharing nothing but the database.

A mail received by node A reaches an event stream on node B; what is read or deleted through
one is so through the other; a node killed with SIGKILL (its whole process group, supervisor
and workers, as a machine that dies) loses no mail it had acknowledged with a 250.
"""

from __future__ import annotations

import os
import signal
import smtplib
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.events.test_push import ARRIVAL_SECONDS, bearer, opened, send, subject_of
from tests.support import BASE_ENV, Server
from tests.test_workers import STARTED

pytestmark = pytest.mark.backends("postgresql")
NODE_ENV = {**BASE_ENV, "ENABLE_USER_DELETE_EMAIL": "true"}


def _node(backend: str, database: Server | None = None, process_group: bool = False) -> Server:
    node = Server(
        backend,
        NODE_ENV,
        base=False,
        workers=2,
        process_group=process_group,
        database=None if database is None else database.db,
    ).start()
    deadline = time.monotonic() + 30
    while len(STARTED.findall(node.output())) < 2:
        assert time.monotonic() < deadline, node.output()
        time.sleep(0.05)
    return node


@pytest.fixture(scope="module")
def nodes(backend: str) -> Iterator[tuple[Server, Server]]:
    first = _node(backend)
    second = _node(backend, database=first)
    yield first, second
    second.close()
    first.close()


async def test_a_mail_received_by_one_node_is_pushed_by_the_other(nodes: tuple[Server, Server]) -> None:
    node_a, node_b = nodes
    address = node_a.new_address()
    async with opened(node_b, "/api/events", bearer(address["jwt"])) as stream:
        subject = subject_of("across nodes")
        sent = time.monotonic()
        send(node_a, address["address"], subject)
        event = await stream.next()
        assert time.monotonic() - sent < ARRIVAL_SECONDS
        assert event.event == "mail" and event.json()["subject"] == subject


async def test_what_one_node_reads_or_deletes_the_other_sees(nodes: tuple[Server, Server]) -> None:
    node_a, node_b = nodes
    address = node_b.new_address()
    subject = subject_of("read through b")
    send(node_a, address["address"], subject)
    (mail,) = node_b.mails(address["jwt"])["results"]
    assert subject in mail["raw"]
    assert node_a.mails(address["jwt"])["results"] == [mail]
    async with opened(node_a, "/api/events", bearer(address["jwt"])) as stream:
        deleted = node_b.with_jwt("DELETE", f"/api/mails/{mail['id']}", address["jwt"])
        assert deleted.status_code == 200, deleted.text
        event = await stream.next()
        assert event.event == "deleted" and event.json() == {"id": mail["id"], "address": address["address"]}
    assert node_a.mails(address["jwt"]) == {"results": [], "count": 0}


def test_a_node_killed_loses_no_acknowledged_mail(backend: str) -> None:
    node_a = _node(backend, process_group=True)
    node_b = _node(backend, database=node_a)
    try:
        address = node_b.new_address()
        acknowledged: list[str] = []
        stop = threading.Event()

        def sender() -> None:
            while not stop.is_set():
                mark = uuid.uuid4().hex
                try:
                    with smtplib.SMTP("127.0.0.1", node_a.smtp_port, timeout=10) as client:
                        client.sendmail(
                            "bob@remote.example", address["address"], f"Subject: {mark}\r\n\r\nx\r\n"
                        )
                except (OSError, smtplib.SMTPException):
                    return  # the node is gone: this mail was never acknowledged
                acknowledged.append(mark)

        senders = [threading.Thread(target=sender) for _ in range(4)]
        for thread in senders:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert node_a.proc is not None
        os.killpg(node_a.proc.pid, signal.SIGKILL)
        stop.set()
        for thread in senders:
            thread.join(30)
        stored = node_b.mails(address["jwt"], limit=100)
        subjects = [mail["raw"].split("\r\n", 1)[0].removeprefix("Subject: ") for mail in stored["results"]]
        offset = 100
        while offset < stored["count"]:
            more = node_b.mails(address["jwt"], limit=100, offset=offset)["results"]
            subjects += [mail["raw"].split("\r\n", 1)[0].removeprefix("Subject: ") for mail in more]
            offset += 100
        assert len(acknowledged) >= 40
        assert set(acknowledged) <= set(subjects), set(acknowledged) - set(subjects)
        assert len(subjects) == len(set(subjects)), "a mail stored twice"
    finally:
        node_b.close()
        node_a.close()
