"""Malformed MIME over real SMTP: every message of a seeded corpus (tests/torture/malformed_mime.py)
is answered 250, stored byte for byte, and reads back through every read route (the address's,
the admin's, the user's, JSON and web UI) without a 5xx.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import ServerFactory
from tests.support import USERS_ENV, Server, as_stored, send_exact, stored_raws
from tests.torture.malformed_mime import corpus

SEED = 16
MESSAGES = 520
ADDRESSES = 4
SESSIONS = 4
# One mail in this many is also read through the routes that repeat what others read.
SAMPLE_EVERY = 4


@pytest.fixture
def users_server(make_server: ServerFactory) -> Server:
    return make_server(**USERS_ENV)


def _user_token(server: Server, jwts: list[str]) -> str:
    """A user with every address of the test bound to it."""
    password = hashlib.sha256(b"torture").hexdigest()
    email = f"t{uuid.uuid4().hex[:10]}@people.example"
    assert server.admin("POST", "/admin/user_settings", json={"enable": True}).status_code == 200
    assert (
        server.client.post("/user_api/register", json={"email": email, "password": password}).status_code
        == 200
    )
    login = server.client.post("/user_api/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    token = str(login.json()["jwt"])
    for jwt in jwts:
        bound = server.client.post(
            "/user_api/bind_address", headers={"x-user-token": token, "Authorization": f"Bearer {jwt}"}
        )
        assert bound.status_code == 200, bound.text
    return token


def _send_all(server: Server, mails: list[tuple[str, bytes]]) -> list[tuple[int, bytes]]:
    """Each (recipient, raw) over SESSIONS parallel sessions of many transactions; the answers,
    in order."""
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(mails)

    def session(first: int) -> None:
        with server.smtp() as client:
            for index in range(first, len(mails), SESSIONS):
                answers[index] = send_exact(client, *mails[index])

    with ThreadPoolExecutor(SESSIONS) as pool:
        list(pool.map(session, range(SESSIONS)))
    return answers


def _reads(server: Server, jwts: dict[str, str], user: str, row: tuple[Any, ...]) -> list[tuple[str, Any]]:
    """The routes that read this one mail: (path, response). The web reader and its raw view
    (which no listing shows) for every mail; for one mail in SAMPLE_EVERY, also the JSON routes
    of one mail (the listings read the same rows through the same code) and the admin's and
    the user's readers (the same view as the address's, in another frame)."""
    mail_id, address = int(row[0]), str(row[1])
    jwt = jwts[address]
    as_address = [f"/ui/mail/{mail_id}", f"/ui/mail/{mail_id}/raw"]
    as_admin: list[str] = []
    as_user: list[str] = []
    if mail_id % SAMPLE_EVERY == 0:
        as_address += [
            f"/api/mail/{mail_id}",
            f"/api/parsed_mail/{mail_id}",
            f"/ui/mail/{mail_id}/attachment/0",
        ]
        as_admin += [f"/admin/mails/{mail_id}", f"/ui/admin/mail/{mail_id}", f"/ui/admin/mail/{mail_id}/raw"]
        as_user += [f"/ui/user/mail/{mail_id}", f"/ui/user/mail/{mail_id}/raw"]
    return (
        [(path, server.with_jwt("GET", path, jwt)) for path in as_address]
        + [(path, server.admin("GET", path)) for path in as_admin]
        + [(path, server.user("GET", path, user)) for path in as_user]
    )


def _page_reads(server: Server, jwts: dict[str, str], user: str, total: int) -> list[tuple[str, Any]]:
    """Every listing route, page by page."""
    reads: list[tuple[str, Any]] = []
    for address, jwt in jwts.items():
        for offset in range(0, total // len(jwts) + 100, 100):
            page = f"limit=100&offset={offset}"
            for path in (f"/api/mails?{page}", f"/api/parsed_mails?{page}", f"/ui/mails?{page}"):
                reads.append((path, server.with_jwt("GET", path, jwt)))
            path = f"/admin/mails?{page}&address={address}"
            reads.append((path, server.admin("GET", path)))
            path = f"/ui/admin/mails?{page}&address={address}"
            reads.append((path, server.admin("GET", path)))
    for offset in range(0, total + 100, 100):
        for path in (
            f"/user_api/mails?limit=100&offset={offset}",
            f"/ui/user/mails?limit=100&offset={offset}",
        ):
            reads.append((path, server.user("GET", path, user)))
    return reads


def test_malformed_mime_is_taken_kept_and_readable(users_server: Server) -> None:
    server = users_server
    log_before = len(server.output())
    messages = corpus(SEED, MESSAGES)
    created = [server.new_address() for _ in range(ADDRESSES)]
    jwts = {item["address"]: item["jwt"] for item in created}
    recipients = list(jwts)
    mails = [(recipients[n % ADDRESSES], raw) for n, raw in enumerate(messages)]

    answers = _send_all(server, mails)
    refused = [(n, answer) for n, answer in enumerate(answers) if answer[0] != 250]
    assert refused == [], refused[:5]

    for address in recipients:
        sent = Counter(as_stored(raw) for to, raw in mails if to == address)
        assert Counter(stored_raws(server.db, address)) == sent, f"not stored byte-exact for {address}"

    user = _user_token(server, list(jwts.values()))
    ids = server.db.sql(
        "SELECT id, address FROM raw_mails WHERE address IN (?, ?, ?, ?) ORDER BY id", *recipients
    )
    assert len(ids) == len(messages)
    lock = threading.Lock()
    failures: list[str] = []

    def read(row: tuple[Any, ...]) -> None:
        for path, response in _reads(server, jwts, user, row):
            if response.status_code >= 500 or (response.status_code != 200 and "attachment" not in path):
                with lock:
                    failures.append(f"{path}: {response.status_code} {response.text[:200]}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(read, ids))
    for path, response in _page_reads(server, jwts, user, len(messages)):
        if response.status_code != 200:
            failures.append(f"{path}: {response.status_code} {response.text[:200]}")
    assert failures == [], failures[:10]
    assert "Traceback" not in server.output()[log_before:]
