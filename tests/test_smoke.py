"""The seed's promise: mail sent over SMTP shows through `/api/mails` for the address JWT."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import httpx

from tests.support import Server


def test_mail_over_smtp_shows_in_api(server: Server) -> None:
    created = server.new_address()
    msg = EmailMessage()
    msg["From"] = "Alice <alice@remote.example>"
    msg["To"] = created["address"]
    msg["Subject"] = "Hello there"
    msg.set_content("Body text")
    server.send(created["address"], msg.as_bytes(policy=SMTP), mail_from="alice@remote.example")

    res = httpx.get(
        f"{server.base_url}/api/mails?limit=10&offset=0",
        headers={"Authorization": f"Bearer {created['jwt']}"},
    )
    assert res.status_code == 200
    body = res.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["address"] == created["address"]
    assert row["source"] == "alice@remote.example"
    assert "Subject: Hello there" in row["raw"]
    assert set(row) == {"id", "message_id", "source", "address", "raw", "metadata", "created_at"}
