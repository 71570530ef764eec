"""The long poll of the inbox: `GET /api/mails?wait=N[&after=ID]` answers as soon as a new mail
is stored, else after N seconds, with the page the plain poll gives."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.support import Server

# A long poll that should answer at once (or on a mail) answers well within this; it asks to
# wait 10 s, so anything under it shows it did not wait the whole time.
PROMPT_SECONDS = 5.0
INVALID_WAIT = "Invalid wait"
INVALID_AFTER = "Invalid after"


def send(server: Server, to: str, subject: str) -> None:
    server.send(to, f"From: bob@remote.example\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nhello\r\n")


def poll(server: Server, jwt: str, query: str) -> tuple[httpx.Response, float]:
    """The answer to `/api/mails?<query>` on a connection of its own, and how long it took."""
    started = time.monotonic()
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        response = client.get(f"/api/mails?{query}", headers={"Authorization": f"Bearer {jwt}"})
    return response, time.monotonic() - started


@contextmanager
def sent_later(server: Server, to: str, subject: str, delay: float = 1.0) -> Iterator[None]:
    """Deliver a mail from another thread `delay` s from now (joined on the way out)."""
    failure: list[BaseException] = []

    def deliver() -> None:
        time.sleep(delay)
        try:
            send(server, to, subject)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=deliver, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(30)
    assert not failure, failure


def subjects(page: dict[str, Any]) -> list[str]:
    return [row["raw"].split("Subject: ", 1)[1].split("\r\n", 1)[0] for row in page["results"]]


def test_a_new_mail_ends_the_wait(server: Server) -> None:
    mine = server.new_address()
    send(server, mine["address"], "first")
    subject = f"awaited {uuid.uuid4().hex[:8]}"
    with sent_later(server, mine["address"], subject):
        response, took = poll(server, mine["jwt"], "limit=20&offset=0&wait=10")
    assert response.status_code == 200, response.text
    assert took < PROMPT_SECONDS, f"answered after {took:.1f} s, not on the mail"
    page = response.json()
    assert set(page) == {"results", "count"}
    assert page["count"] == 2 and subjects(page) == [subject, "first"]
    assert page == server.mails(mine["jwt"]), "the plain poll's page"


def test_a_mail_ends_the_wait_of_an_empty_inbox(server: Server) -> None:
    mine = server.new_address()
    with sent_later(server, mine["address"], "the only one"):
        response, took = poll(server, mine["jwt"], "limit=20&offset=0&wait=10")
    assert response.status_code == 200, response.text
    assert took < PROMPT_SECONDS
    assert subjects(response.json()) == ["the only one"] and response.json()["count"] == 1


def test_without_mail_it_answers_after_the_wait(server: Server) -> None:
    mine = server.new_address()
    send(server, mine["address"], "old")
    response, took = poll(server, mine["jwt"], "limit=20&offset=0&wait=1")
    assert response.status_code == 200, response.text
    assert 0.9 <= took < PROMPT_SECONDS, took
    assert response.json() == server.mails(mine["jwt"])


def test_another_address_s_mail_does_not_end_the_wait(server: Server) -> None:
    mine, other = server.new_address(), server.new_address()
    with sent_later(server, other["address"], "not yours", delay=0.2):
        response, took = poll(server, mine["jwt"], "limit=20&offset=0&wait=1")
    assert response.status_code == 200, response.text
    assert took >= 0.9, took
    assert response.json() == {"results": [], "count": 0}


def test_after_an_older_id_answers_at_once(server: Server) -> None:
    mine = server.new_address()
    for subject in ("one", "two"):
        send(server, mine["address"], subject)
    page = server.mails(mine["jwt"])
    older = min(row["id"] for row in page["results"])
    response, took = poll(server, mine["jwt"], f"limit=20&offset=0&wait=10&after={older}")
    assert response.status_code == 200, response.text
    assert took < PROMPT_SECONDS, took
    assert response.json() == page


def test_after_the_newest_id_waits_for_the_next(server: Server) -> None:
    mine = server.new_address()
    send(server, mine["address"], "seen")
    newest = server.mails(mine["jwt"])["results"][0]["id"]
    with sent_later(server, mine["address"], "next"):
        response, took = poll(server, mine["jwt"], f"limit=20&offset=0&wait=10&after={newest}")
    assert response.status_code == 200, response.text
    assert 0.5 <= took < PROMPT_SECONDS, took
    assert subjects(response.json()) == ["next", "seen"]


def test_with_an_offset_the_wait_is_ignored(server: Server) -> None:
    mine = server.new_address()
    for subject in ("one", "two"):
        send(server, mine["address"], subject)
    response, took = poll(server, mine["jwt"], "limit=1&offset=1&wait=10")
    assert response.status_code == 200, response.text
    assert took < PROMPT_SECONDS, took
    assert response.json() == server.mails(mine["jwt"], limit=1, offset=1)


@pytest.mark.parametrize("wait", ["abc", "-1", "121", "nan", "inf"])
def test_an_invalid_wait_is_refused(server: Server, wait: str) -> None:
    mine = server.new_address()
    response, _ = poll(server, mine["jwt"], f"limit=20&offset=0&wait={wait}")
    assert (response.status_code, response.text) == (400, INVALID_WAIT)


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", str(2**63)])
def test_an_invalid_after_is_refused(server: Server, after: str) -> None:
    mine = server.new_address()
    response, _ = poll(server, mine["jwt"], f"limit=20&offset=0&wait=1&after={after}")
    assert (response.status_code, response.text) == (400, INVALID_AFTER)


def test_wait_zero_is_the_plain_poll(server: Server) -> None:
    mine = server.new_address()
    send(server, mine["address"], "one")
    response, took = poll(server, mine["jwt"], "limit=20&offset=0&wait=0")
    assert response.status_code == 200 and took < PROMPT_SECONDS
    assert response.json() == server.mails(mine["jwt"])


def test_the_long_poll_needs_the_address_credential(server: Server) -> None:
    response, took = poll(server, "not-a-jwt", "limit=20&offset=0&wait=10")
    assert (response.status_code, response.text) == (401, "Invalid address credential")
    assert took < PROMPT_SECONDS
