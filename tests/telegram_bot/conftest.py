"""The bot's tests: a fake Bot API server (tests/fakes/telegram_api.py) for the whole session,
and what talking to the bot takes: updates as Telegram sends them, init data as Telegram signs it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.fakes.telegram_api import Call, FakeTelegramApi
from tests.support import Server

_ids = itertools.count(int(time.time() * 1000) % 1_000_000_000 * 10)


def new_user_id() -> int:
    """A Telegram user id no other test uses (tests share servers and the fake)."""
    return next(_ids)


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    yield fake
    fake.close()


def bot_env(fake: FakeTelegramApi, token: str, **extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_URL": fake.url, **extra}


def message_update(user_id: int, text: str, language: str = "en") -> dict[str, Any]:
    return {
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Tess", "language_code": language},
            "text": text,
        }
    }


def callback_update(user_id: int, data: str, message_id: int) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": f"cb{user_id}{message_id}",
            "chat_instance": "1",
            "from": {"id": user_id, "is_bot": False, "first_name": "Tess", "language_code": "en"},
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "text": "a mail",
            },
            "data": data,
        }
    }


class Chat:
    """One Telegram user talking to the bot of a server over its webhook."""

    def __init__(
        self, server: Server, fake: FakeTelegramApi, token: str, secret: str, language: str = "en"
    ) -> None:
        self.server = server
        self.fake = fake
        self.token = token
        self.secret = secret
        self.user_id = new_user_id()
        self.language = language

    def post(self, update: dict[str, Any]) -> httpx.Response:
        return self.server.client.post(
            "/telegram/webhook",
            json={"update_id": new_user_id(), **update},
            headers={"X-Telegram-Bot-Api-Secret-Token": self.secret},
        )

    def say(self, text: str) -> Call:
        """Send a message; the bot's reply (answered before the webhook call returns)."""
        before = len(self.replies())
        response = self.post(message_update(self.user_id, text, self.language))
        assert (response.status_code, response.json()) == (200, {"ok": True}), response.text
        replies = self.replies()
        assert len(replies) > before, f"no reply to {text}"
        return replies[before]

    def replies(self, method: str = "sendMessage") -> list[Call]:
        return [
            call
            for call in self.fake.calls(self.token, method)
            if int(call.params["chat_id"]) == self.user_id
        ]


def init_data(token: str, user_id: int, language: str = "en", auth_date: int | None = None) -> str:
    """What Telegram hands a mini app, signed as Telegram documents it."""
    fields = {
        "query_id": "AAH",
        "user": json.dumps({"id": user_id, "first_name": "Tess", "language_code": language}),
        "auth_date": str(auth_date if auth_date is not None else int(time.time())),
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
