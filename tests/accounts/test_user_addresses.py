"""`/user_api` addresses and mails: binding, logged-in creation, transfer, the user Mail API,
and that one user can never reach another user's addresses or mails."""

from __future__ import annotations

import uuid
from typing import Any

import jwt as pyjwt
import pytest

from tests.accounts.test_user_accounts import email, open_registration, register
from tests.conftest import ServerFactory
from tests.support import JWT_SECRET, USERS_ENV, Server


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    return make_server(**USERS_ENV)


def user_id_of(user_jwt: str) -> int:
    return int(pyjwt.decode(user_jwt, JWT_SECRET, algorithms=["HS256"])["user_id"])


def bind(server: Server, user_jwt: str, address_jwt: str) -> Any:
    return server.client.post(
        "/user_api/bind_address",
        headers={"x-user-token": user_jwt, "Authorization": f"Bearer {address_jwt}"},
    )


def bound(server: Server, user_jwt: str) -> list[dict[str, Any]]:
    response = server.user("GET", "/user_api/bind_address?limit=100&offset=0", user_jwt)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def deliver(server: Server, to: str, subject: str) -> None:
    server.send(to, f"From: a@remote.example\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nhello\r\n")


def user_mails(server: Server, user_jwt: str, address: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 20, "offset": 0}
    if address is not None:
        params["address"] = address
    response = server.user("GET", "/user_api/mails", user_jwt, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_bind_list_and_idempotence(server: Server) -> None:
    user = register(server, email())
    address = server.new_address()
    assert bind(server, user, address["jwt"]).json() == {"success": True}
    assert bind(server, user, address["jwt"]).json() == {"success": True}
    rows = bound(server, user)
    assert [row["name"] for row in rows] == [address["address"]]
    assert {"id", "name", "created_at", "updated_at", "mail_count", "send_count"} <= rows[0].keys()
    assert "password" not in rows[0]


def test_bind_needs_a_valid_address_credential(server: Server) -> None:
    user = register(server, email())
    response = bind(server, user, "not-a-jwt")
    assert (response.status_code, response.text) == (400, "No address or user token")
    address = server.new_address()
    server.with_jwt("DELETE", "/api/delete_address", address["jwt"])
    gone = bind(server, user, address["jwt"])
    assert (gone.status_code, gone.text) == (400, "Address not found")


def test_an_address_bound_to_someone_else_cannot_be_bound(server: Server) -> None:
    first, second = register(server, email()), register(server, email())
    address = server.new_address()
    assert bind(server, first, address["jwt"]).status_code == 200
    response = bind(server, second, address["jwt"])
    assert (response.status_code, response.text) == (400, "Address is already binded, please unbind first")


def test_max_address_count(server: Server) -> None:
    open_registration(server, maxAddressCount=2)
    user = register(server, email())
    server.admin("POST", "/admin/user_settings", json={"enable": True, "maxAddressCount": 2})
    for _ in range(2):
        assert bind(server, user, server.new_address()["jwt"]).status_code == 200
    response = bind(server, user, server.new_address()["jwt"])
    assert (response.status_code, response.text) == (400, "Max address count reached")
    open_registration(server)


def test_logged_in_creation_uses_the_stored_role_and_binds_only_when_asked(server: Server) -> None:
    """As the reference, a logged-in creation does not bind (COMPAT §7); our `bindToUser`
    (the web UI's account page) does."""
    user = register(server, email())
    created = server.client.post("/api/new_address", json={}, headers={"x-user-token": user})
    assert created.status_code == 200, created.text
    assert bound(server, user) == []
    asked = server.client.post("/api/new_address", json={"bindToUser": True}, headers={"x-user-token": user})
    assert [row["id"] for row in bound(server, user)] == [asked.json()["address_id"]]
    server.admin("POST", "/admin/user_roles", json={"user_id": user_id_of(user), "role_text": "vip"})
    name = f"r{uuid.uuid4().hex[:8]}"
    vip = server.client.post("/api/new_address", json={"name": name}, headers={"x-user-token": user})
    assert vip.status_code == 200, vip.text
    assert vip.json()["address"] == f"vip{name}@example.org"


def test_logged_in_creation_stops_at_the_limit_without_creating(make_server: ServerFactory) -> None:
    """The limit is checked when anonymous creation is off (COMPAT §7), on bound addresses."""
    server = make_server(**USERS_ENV, DISABLE_ANONYMOUS_USER_CREATE_EMAIL="true")
    user = register(server, email())
    server.admin("POST", "/admin/user_settings", json={"enable": True, "maxAddressCount": 1})
    try:
        first = server.client.post("/api/new_address", json={}, headers={"x-user-token": user})
        assert first.status_code == 200, first.text
        assert bind(server, user, first.json()["jwt"]).status_code == 200
        name = f"l{uuid.uuid4().hex[:8]}"
        refused = server.client.post("/api/new_address", json={"name": name}, headers={"x-user-token": user})
        assert (refused.status_code, refused.text) == (400, "Max address count reached")
        listing = server.admin("GET", f"/admin/address?limit=10&offset=0&query={name}").json()
        assert listing["count"] == 0
    finally:
        open_registration(server)


def test_logged_in_creation_with_a_bad_token_is_anonymous(server: Server) -> None:
    response = server.client.post("/api/new_address", json={}, headers={"x-user-token": "expired.or.forged"})
    assert response.status_code == 200, response.text


def test_bound_address_jwt_and_unbind(server: Server) -> None:
    user = register(server, email())
    address = server.new_address()
    bind(server, user, address["jwt"])
    deliver(server, address["address"], "for the user")
    issued = server.user("GET", f"/user_api/bind_address_jwt/{address['address_id']}", user).json()
    assert set(issued) == {"jwt"}
    assert server.mails(issued["jwt"])["results"][0]["address"] == address["address"]
    assert server.user(
        "POST", "/user_api/unbind_address", user, json={"address_id": address["address_id"]}
    ).json() == {"success": True}
    again = server.user("GET", f"/user_api/bind_address_jwt/{address['address_id']}", user)
    assert (again.status_code, again.text) == (400, "Address is not binded")
    twice = server.user("POST", "/user_api/unbind_address", user, json={"address_id": address["address_id"]})
    assert twice.json() == {"success": True}
    missing = server.user("POST", "/user_api/unbind_address", user, json={})
    assert (missing.status_code, missing.text) == (400, "Invalid address or user token")


def test_transfer_moves_the_address_under_a_new_id(server: Server) -> None:
    giver_email, taker_email = email(), email()
    giver, taker = register(server, giver_email), register(server, taker_email)
    address = server.new_address()
    bind(server, giver, address["jwt"])
    deliver(server, address["address"], "kept across the transfer")
    unknown = server.user(
        "POST",
        "/user_api/transfer_address",
        giver,
        json={"address_id": address["address_id"], "target_user_email": email()},
    )
    assert (unknown.status_code, unknown.text) == (400, "Target user not found")
    moved = server.user(
        "POST",
        "/user_api/transfer_address",
        giver,
        json={"address_id": address["address_id"], "target_user_email": taker_email},
    )
    assert moved.status_code == 200, moved.text
    assert bound(server, giver) == []
    (row,) = bound(server, taker)
    assert row["name"] == address["address"] and row["id"] != address["address_id"]
    old = server.with_jwt("GET", "/api/mails?limit=10&offset=0", address["jwt"])
    assert (old.status_code, old.text) == (401, "Invalid address credential")
    subjects = [mail["raw"] for mail in user_mails(server, taker)["results"]]
    assert any("kept across the transfer" in raw for raw in subjects)
    not_mine = server.user(
        "POST",
        "/user_api/transfer_address",
        giver,
        json={"address_id": row["id"], "target_user_email": giver_email},
    )
    assert (not_mine.status_code, not_mine.text) == (400, "Address is not binded")


def test_user_mails_of_all_or_one_address(server: Server) -> None:
    user = register(server, email())
    first, second = server.new_address(), server.new_address()
    bind(server, user, first["jwt"])
    bind(server, user, second["jwt"])
    deliver(server, first["address"], "one")
    deliver(server, second["address"], "two")
    everything = user_mails(server, user)
    assert everything["count"] == 2
    assert [mail["address"] for mail in everything["results"]] == [second["address"], first["address"]]
    only_first = user_mails(server, user, first["address"].upper())
    assert [mail["address"] for mail in only_first["results"]] == [first["address"]]
    later = server.user("GET", "/user_api/mails", user, params={"limit": 1, "offset": 1}).json()
    assert later["count"] == 0 and len(later["results"]) == 1
    assert server.user("GET", "/user_api/mails?limit=0&offset=0", user).text == "Invalid limit"


def test_user_mail_pages_merge_the_addresses_newest_first(server: Server) -> None:
    """Pages of several addresses' mail, received in turns: every mail once, newest first,
    whichever address holds it (each address's newest mails are read apart, then merged)."""
    user = register(server, email())
    first, second, other = server.new_address(), server.new_address(), server.new_address()
    bind(server, user, first["jwt"])
    bind(server, user, second["jwt"])
    order = [first, second, second, first, other, second, first]
    for number, created in enumerate(order):
        deliver(server, created["address"], f"mail {number}")
    pages = [
        server.user("GET", "/user_api/mails", user, params={"limit": 2, "offset": offset}).json()
        for offset in (0, 2, 4, 6)
    ]
    assert [page["count"] for page in pages] == [6, 0, 0, 0]
    subjects = [
        next(line for line in mail["raw"].splitlines() if line.startswith("Subject: "))
        for page in pages
        for mail in page["results"]
    ]
    assert subjects == [f"Subject: mail {n}" for n in (6, 5, 3, 2, 1, 0)]
    assert len(pages[0]["results"]) == 2 and pages[3]["results"] == []


def test_user_mails_refuse_a_deleted_account(server: Server) -> None:
    user = register(server, email())
    bind(server, user, server.new_address()["jwt"])
    assert server.admin("DELETE", f"/admin/users/{user_id_of(user)}").json() == {"success": True}
    refused = server.user("GET", "/user_api/mails", user, params={"limit": 5, "offset": 0})
    assert (refused.status_code, refused.text) == (401, "Your token has expired, please login again")
    in_chinese = server.user(
        "GET", "/user_api/mails", user, params={"limit": 5, "offset": 0}, headers={"x-lang": "zh"}
    )
    assert (in_chinese.status_code, in_chinese.text) == (401, "您的令牌已过期, 请重新登录")


def test_user_deletes_own_mail(server: Server) -> None:
    user = register(server, email())
    address = server.new_address()
    bind(server, user, address["jwt"])
    deliver(server, address["address"], "delete me")
    mail_id = user_mails(server, user)["results"][0]["id"]
    assert server.user("DELETE", f"/user_api/mails/{mail_id}", user).json() == {"success": True}
    assert user_mails(server, user)["count"] == 0


def test_user_mail_delete_respects_the_switch(make_server: ServerFactory) -> None:
    server = make_server(**USERS_ENV, ENABLE_USER_DELETE_EMAIL="false")
    user = register(server, email())
    response = server.user("DELETE", "/user_api/mails/1", user)
    assert response.status_code == 403
    assert response.text == "User delete address/email is disabled, please contact the administrator"


def test_one_user_cannot_reach_another_users_addresses_or_mails(server: Server) -> None:
    """Every route, with the second user's token aimed at the first user's things."""
    owner, intruder = register(server, email()), register(server, email())
    address = server.new_address()
    bind(server, owner, address["jwt"])
    deliver(server, address["address"], "private")
    mail_id = user_mails(server, owner)["results"][0]["id"]
    address_id = address["address_id"]

    assert user_mails(server, intruder) == {"results": [], "count": 0}
    assert user_mails(server, intruder, address["address"]) == {"results": [], "count": 0}
    assert bound(server, intruder) == []
    assert server.user("DELETE", f"/user_api/mails/{mail_id}", intruder).json() == {"success": True}
    assert server.user("GET", f"/user_api/bind_address_jwt/{address_id}", intruder).status_code == 400
    # Unbinding someone else's address answers success as the reference does, and changes nothing.
    unbind = server.user("POST", "/user_api/unbind_address", intruder, json={"address_id": address_id})
    assert unbind.json() == {"success": True}
    transfer = server.user(
        "POST",
        "/user_api/transfer_address",
        intruder,
        json={
            "address_id": address_id,
            "target_user_email": pyjwt.decode(intruder, options={"verify_signature": False})["user_email"],
        },
    )
    assert transfer.status_code == 400
    stolen = server.client.post(
        "/user_api/bind_address", headers={"x-user-token": intruder, "Authorization": "Bearer forged"}
    )
    assert (stolen.status_code, stolen.text) == (400, "No address or user token")
    assert user_mails(server, owner)["count"] == 1
    assert [row["id"] for row in bound(server, owner)] == [address_id]
