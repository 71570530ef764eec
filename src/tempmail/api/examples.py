"""Examples of the answers, for /openapi.json: the rows several route groups answer with."""

from __future__ import annotations

from typing import Any

EXAMPLE_ADDRESS = "tmpk3v9x2@mail.example"
EXAMPLE_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhZGRyZXNzIjoidG1wazN2OXgyQG1haWwuZXhhbXBsZSJ9.c2ln"
# A mail as every mail list shows it (`/api/mails`, `/user_api/mails`, `/admin/mails`).
MAIL_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "message_id": "<a1b2c3@sender.example>",
    "source": "alice@sender.example",
    "address": EXAMPLE_ADDRESS,
    "raw": "From: alice@sender.example\r\nTo: tmpk3v9x2@mail.example\r\nSubject: Hello\r\n\r\nHi!",
    "metadata": None,
    "created_at": "2026-01-01 12:00:00",
}
# An address as the address lists show it (the admin's, a user's bound addresses).
ADDRESS_ROW: dict[str, Any] = {
    "id": 1,
    "name": EXAMPLE_ADDRESS,
    "source_meta": "web:203.0.113.7",
    "created_at": "2026-01-01 00:00:00",
    "updated_at": "2026-01-01 00:00:00",
    "mail_count": 3,
    "send_count": 0,
}
