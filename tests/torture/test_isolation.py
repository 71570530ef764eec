"""Isolation on every mail route, inert HTML in the reader, no relaying (issue 16, torture).

Two addresses and two users, each with a mail that carries a secret and hostile HTML: every
route that reads, lists or deletes mail, through the JSON API and the web UI, must give one
owner nothing of the other's, with wrong or missing credentials nothing at all, and never a 5xx.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.accounts.test_user_accounts import email, register
from tests.accounts.test_user_addresses import bind
from tests.conftest import ServerFactory
from tests.support import USERS_ENV, Server

HOSTILE = (
    '<p>hello</p><script>alert("xss-script")</script><img src="x" onerror="alert(\'xss-img\')">'
    '<a href="javascript:alert(\'xss-link\')">link</a><iframe src="https://evil.example/"></iframe>'
)
# What would run if the reader passed the HTML on as markup (shown as escaped text, it is inert).
EXECUTABLE = (
    '<script>alert("xss-script")',
    '<img src="x" onerror',
    'href="javascript:',
    '<iframe src="https://evil',
)


@dataclass
class Owner:
    address: str
    address_id: int
    jwt: str
    user: str
    mail_id: int
    secret: str


def _owner(server: Server) -> Owner:
    created = server.new_address()
    secret = f"secret-{uuid.uuid4().hex}"
    raw = (
        f"From: a@remote.example\r\nTo: {created['address']}\r\nSubject: {secret}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"{HOSTILE}<p>{secret}</p>\r\n"
    )
    server.send(created["address"], raw)
    (mail,) = server.mails(created["jwt"])["results"]
    user = register(server, email())
    assert bind(server, user, created["jwt"]).json() == {"success": True}
    return Owner(
        created["address"], int(created["address_id"]), created["jwt"], user, int(mail["id"]), secret
    )


@pytest.fixture
def owners(make_server: ServerFactory) -> tuple[Server, Owner, Owner]:
    server = make_server(**USERS_ENV)
    return server, _owner(server), _owner(server)


def _address_reads(mail_id: int) -> list[str]:
    return [
        "/api/mails?limit=100&offset=0",
        "/api/parsed_mails?limit=100&offset=0",
        f"/api/mail/{mail_id}",
        f"/api/parsed_mail/{mail_id}",
        "/ui/mails?limit=100&offset=0",
        f"/ui/mail/{mail_id}",
        f"/ui/mail/{mail_id}/raw",
        f"/ui/mail/{mail_id}/attachment/0",
    ]


def _user_reads(mail_id: int, address: str) -> list[str]:
    return [
        "/user_api/mails?limit=100&offset=0",
        f"/user_api/mails?limit=100&offset=0&address={address}",
        "/ui/user/mails?limit=100&offset=0",
        f"/ui/user/mail/{mail_id}",
        f"/ui/user/mail/{mail_id}/raw",
        f"/ui/user/mail/{mail_id}/attachment/0",
    ]


def _as_address(jwt: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt}"}


def _as_user(token: str) -> dict[str, str]:
    return {"x-user-token": token}


def _reveals_nothing(response: httpx.Response, secret: str) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:300])
    assert secret not in response.text, response.request.url


def test_an_address_reads_nothing_of_another(owners: tuple[Server, Owner, Owner]) -> None:
    server, mine, theirs = owners
    for path in _address_reads(theirs.mail_id):
        _reveals_nothing(server.client.get(path, headers=_as_address(mine.jwt)), theirs.secret)
    # Its own mail is there, by the same routes.
    own = server.client.get(f"/api/mail/{mine.mail_id}", headers=_as_address(mine.jwt))
    assert mine.secret in own.text


def test_a_user_reads_nothing_of_another(owners: tuple[Server, Owner, Owner]) -> None:
    server, mine, theirs = owners
    for path in _user_reads(theirs.mail_id, theirs.address):
        _reveals_nothing(server.client.get(path, headers=_as_user(mine.user)), theirs.secret)
    jwt_of_theirs = server.client.get(
        f"/user_api/bind_address_jwt/{theirs.address_id}", headers=_as_user(mine.user)
    )
    assert jwt_of_theirs.status_code < 500 and theirs.jwt not in jwt_of_theirs.text
    assert (
        theirs.secret
        in server.client.get("/user_api/mails?limit=5&offset=0", headers=_as_user(theirs.user)).text
    )


def test_nobody_deletes_another_owners_mail(owners: tuple[Server, Owner, Owner]) -> None:
    server, mine, theirs = owners
    attempts = [
        server.client.delete(f"/api/mails/{theirs.mail_id}", headers=_as_address(mine.jwt)),
        server.client.delete(f"/user_api/mails/{theirs.mail_id}", headers=_as_user(mine.user)),
    ]
    assert all(attempt.status_code < 500 for attempt in attempts)
    still = server.client.get(f"/api/mail/{theirs.mail_id}", headers=_as_address(theirs.jwt))
    assert theirs.secret in still.text


@pytest.mark.parametrize("credential", ["", "Basic abc", "Bearer not.a.jwt", "Bearer " + "a" * 4000])
def test_without_a_valid_credential_every_mail_route_is_refused(
    owners: tuple[Server, Owner, Owner], credential: str
) -> None:
    server, mine, _ = owners
    headers = {"Authorization": credential, "x-user-token": credential.removeprefix("Bearer ")}
    for path in [*_address_reads(mine.mail_id), *_user_reads(mine.mail_id, mine.address)]:
        response = server.client.get(path, headers=headers)
        assert response.status_code in (400, 401, 403), (path, response.status_code)
        assert mine.secret not in response.text


def test_hostile_html_is_inert_in_the_reader(owners: tuple[Server, Owner, Owner]) -> None:
    server, mine, _ = owners
    pages = [
        server.client.get(f"/ui/mail/{mine.mail_id}", headers=_as_address(mine.jwt)),
        server.client.get(f"/ui/user/mail/{mine.mail_id}", headers=_as_user(mine.user)),
        server.client.get(f"/ui/mail/{mine.mail_id}/raw", headers=_as_address(mine.jwt)),
    ]
    for page in pages:
        assert page.status_code == 200, page.request.url
        assert mine.secret in page.text
        for dangerous in EXECUTABLE:
            assert dangerous not in page.text, (page.request.url, dangerous)


@pytest.mark.parametrize(
    "recipient",
    [
        "someone@remote.example",
        "someone@test.example.remote.example",
        "@remote.example:someone@test.example",
        "someone@[127.0.0.1]",
    ],
)
def test_relaying_is_refused(server: Server, recipient: str) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as client:
        client.ehlo("relay.test")
        client.mail("spammer@remote.example")
        code, _ = client.rcpt(recipient)
        assert code >= 500, recipient
