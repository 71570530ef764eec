"""Our inbox routes (issue 19) on both back ends: search over sender, subject and text (paged,
counted, a just-arrived mail included, a deleted one gone), the unread count, marking read and
unread shared with IMAP's `\\Seen` (`mail_flags`)."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from tests.support import Server


def mail(
    subject: str, text: str, sender: str = "Carol Example <carol@remote.example>", html: str = ""
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "someone@test.example"
    message["Subject"] = subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=SMTP)


def search(server: Server, jwt: str, q: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    response = server.with_jwt("GET", "/api/search", jwt, params={"q": q, "limit": limit, "offset": offset})
    assert response.status_code == 200, response.text
    return dict(response.json())


def subjects(found: dict[str, Any]) -> list[str]:
    return [row["raw"].split("Subject: ", 1)[1].split("\r\n", 1)[0] for row in found["results"]]


def unread(server: Server, jwt: str) -> int:
    response = server.with_jwt("GET", "/api/unread_count", jwt)
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


def test_search_finds_sender_subject_and_text(server: Server) -> None:
    box, other = server.new_address(), server.new_address()
    server.send(box["address"], mail("Invoice 42", "Total: 17 EUR"))
    server.send(
        box["address"], mail("Welcome", "Hello Wörld, ça va?", sender="Dana Ünal <dana@shop.example>")
    )
    server.send(box["address"], mail("Newsletter", "", html="<p>Big <b>SALE</b> today &amp; more</p>"))
    server.send(other["address"], mail("Invoice 43", "not yours"))
    jwt = box["jwt"]
    assert subjects(search(server, jwt, "invoice")) == ["Invoice 42"]
    assert subjects(search(server, jwt, "DANA ÜNAL")) == ["Welcome"]  # the sender's name, any case
    assert subjects(search(server, jwt, "shop.example")) == ["Welcome"]  # and address
    assert subjects(search(server, jwt, "wörld, ÇA")) == ["Welcome"]  # the text, folded beyond ASCII
    assert subjects(search(server, jwt, "sale today & more")) == ["Newsletter"]  # HTML's text
    assert subjects(search(server, jwt, "17")) == ["Invoice 42"]  # shorter than a trigram
    assert subjects(search(server, jwt, "100%")) == []  # wildcards are literal
    found = search(server, jwt, "e")
    assert found["count"] == 3
    # The rows are those of /api/mails.
    assert found["results"][0] == server.mails(jwt)["results"][0]


def test_search_pages_and_counts_every_page(server: Server) -> None:
    box = server.new_address()
    for n in range(7):
        server.send(box["address"], mail(f"Report {n}", f"weekly numbers {n}"))
    server.send(box["address"], mail("Other", "nothing"))
    first = search(server, box["jwt"], "weekly", limit=3)
    second = search(server, box["jwt"], "weekly", limit=3, offset=3)
    last = search(server, box["jwt"], "weekly", limit=3, offset=6)
    assert (first["count"], second["count"], last["count"]) == (7, 7, 7)
    assert subjects(first) + subjects(second) + subjects(last) == [f"Report {n}" for n in range(6, -1, -1)]


def test_indexed_and_fresh_mail_are_found_and_deleted_mail_leaves(server: Server) -> None:
    box = server.new_address()
    server.send(box["address"], mail("Early bird", "indexed by the job"))
    # The indexer runs every few seconds: wait until it has indexed the mail.
    deadline = time.monotonic() + 30
    early = server.mails(box["jwt"])["results"][0]["id"]
    while not server.db.sql("SELECT mail_id FROM mail_search WHERE mail_id = ?", early):
        assert time.monotonic() < deadline, "the search index never caught up"
        time.sleep(0.2)
    server.send(box["address"], mail("Late bird", "just arrived"))
    assert subjects(search(server, box["jwt"], "bird")) == ["Late bird", "Early bird"]
    assert server.admin("DELETE", f"/admin/mails/{early}").status_code == 200
    assert subjects(search(server, box["jwt"], "bird")) == ["Late bird"]
    assert server.db.sql("SELECT mail_id FROM mail_search WHERE mail_id = ?", early) == []


def test_search_refuses_bad_input(server: Server) -> None:
    box = server.new_address()
    for params, text in (
        ({"q": "", "limit": 10, "offset": 0}, "Invalid query"),
        ({"q": "   ", "limit": 10, "offset": 0}, "Invalid query"),
        ({"q": "x" * 201, "limit": 10, "offset": 0}, "Invalid query"),
        ({"limit": 10, "offset": 0}, "Invalid query"),
        ({"q": "x", "limit": 0, "offset": 0}, "Invalid limit"),
    ):
        response = server.with_jwt("GET", "/api/search", box["jwt"], params=params)
        assert (response.status_code, response.text) == (400, text)
    assert server.client.get("/api/search?q=x&limit=10&offset=0").status_code == 401


def test_unread_count_and_marks(server: Server) -> None:
    box, other = server.new_address(), server.new_address()
    for n in range(3):
        server.send(box["address"], mail(f"Mail {n}", "text"))
    server.send(other["address"], mail("Theirs", "text"))
    jwt = box["jwt"]
    ids = [row["id"] for row in server.mails(jwt)["results"]]
    theirs = server.mails(other["jwt"])["results"][0]["id"]
    assert unread(server, jwt) == 3

    def mark(body: dict[str, Any]) -> None:
        response = server.with_jwt("POST", "/api/seen", jwt, json=body)
        assert (response.status_code, response.json()) == (200, {"success": True}), response.text

    mark({"ids": ids[:2]})
    assert unread(server, jwt) == 1
    # Stored as IMAP's \Seen, other flags untouched.
    server.db.sql("UPDATE mail_flags SET flagged = ? WHERE mail_id = ?", True, ids[0])
    mark({"ids": [ids[0]], "seen": False})
    assert unread(server, jwt) == 2
    assert server.db.sql("SELECT seen, flagged FROM mail_flags WHERE mail_id = ?", ids[0]) == [(False, True)]
    # Someone else's mail is left alone.
    mark({"ids": [theirs]})
    assert unread(server, other["jwt"]) == 1
    for body in ({"ids": []}, {"ids": [0]}, {"ids": "1"}, {"seen": True}, {"ids": list(range(1, 102))}):
        response = server.with_jwt("POST", "/api/seen", jwt, json=body)
        assert response.status_code == 400, body
        assert response.text.startswith("Invalid input: ids"), response.text


def test_eml_download_in_every_scope(server: Server) -> None:
    box = server.new_address()
    sent = mail("Keep me", "the exact bytes")
    server.send(box["address"], sent)
    mail_id = server.mails(box["jwt"])["results"][0]["id"]
    stored = server.mails(box["jwt"])["results"][0]["raw"].encode()
    user = {"email": f"eml{mail_id}@example.org", "password": "0" * 64}
    assert server.admin("POST", "/admin/users", json=user).status_code == 200
    token = server.client.post("/user_api/login", json=user).json()["jwt"]
    bound = server.user(
        "POST", "/user_api/bind_address", token, headers={"Authorization": f"Bearer {box['jwt']}"}
    )
    assert bound.status_code == 200, bound.text
    for response in (
        server.with_jwt("GET", f"/ui/mail/{mail_id}/eml", box["jwt"]),
        server.user("GET", f"/ui/user/mail/{mail_id}/eml", token),
        server.admin("GET", f"/ui/admin/mail/{mail_id}/eml"),
    ):
        assert response.status_code == 200, response.text
        assert response.content == stored
        assert response.headers["content-type"] == "message/rfc822"
        assert response.headers["content-disposition"] == f'attachment; filename="mail-{mail_id}.eml"'
    other = server.new_address()
    assert server.with_jwt("GET", f"/ui/mail/{mail_id}/eml", other["jwt"]).status_code == 404


def test_the_owner_opening_a_mail_marks_it_read_the_admin_does_not(server: Server) -> None:
    box = server.new_address()
    server.send(box["address"], mail("Open me", "text"))
    mail_id = server.mails(box["jwt"])["results"][0]["id"]
    assert server.admin("GET", f"/ui/admin/mail/{mail_id}").status_code == 200
    assert unread(server, box["jwt"]) == 1
    assert server.with_jwt("GET", f"/ui/mail/{mail_id}", box["jwt"]).status_code == 200
    assert unread(server, box["jwt"]) == 0
    assert server.db.sql("SELECT seen FROM mail_flags WHERE mail_id = ?", mail_id) == [(True,)]


def test_ui_list_searches_and_numbers_its_pages(server: Server) -> None:
    box = server.new_address()
    for n in range(5):
        server.send(box["address"], mail(f"Page test {n}", "body"))
    later = server.with_jwt("GET", "/ui/mails", box["jwt"], params={"limit": 2, "offset": 2})
    assert later.status_code == 200
    assert "5 in total" in later.text and 'aria-label="Page 3"' in later.text
    found = server.with_jwt("GET", "/ui/mails", box["jwt"], params={"limit": 2, "offset": 0, "q": "test 3"})
    assert "1 found" in found.text and "Page test 3" in found.text and "Page test 2" not in found.text


def test_a_mail_with_nul_and_undecodable_bytes_is_indexed_and_found(server: Server) -> None:
    """PostgreSQL's text holds no NUL, and undecodable bytes parse to lone surrogates: neither
    may stop the indexer (it would retry the same batch for ever)."""
    box = server.new_address()
    raw = (
        b"From: Odd <odd@remote.example>\r\nSubject: Odd bytes\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nnul\x00here and \xff\xfe there\r\n"
    )
    server.send(box["address"], raw)
    odd = server.mails(box["jwt"])["results"][0]["id"]
    deadline = time.monotonic() + 30
    while not server.db.sql("SELECT mail_id FROM mail_search WHERE mail_id = ?", odd):
        assert time.monotonic() < deadline, "the search index never indexed the mail"
        time.sleep(0.2)
    assert subjects(search(server, box["jwt"], "odd bytes")) == ["Odd bytes"]
    assert subjects(search(server, box["jwt"], "here and")) == ["Odd bytes"]


def test_the_inbox_routes_want_a_valid_address_credential(server: Server) -> None:
    """No credential, or a JWT that is not ours: 401 on every route of ours, before any input is
    read."""
    requests = (
        ("GET", "/api/search?q=hello&limit=10&offset=0", None),
        ("GET", "/api/unread_count", None),
        ("POST", "/api/seen", {"ids": [1]}),
        ("GET", "/ui/mail/1/eml", None),
    )
    for method, path, body in requests:
        assert server.client.request(method, path, json=body).status_code == 401, path
        forged = server.with_jwt(method, path, "not.a.jwt", json=body)
        assert forged.status_code == 401, (path, forged.text)
