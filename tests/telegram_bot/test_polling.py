"""Polling mode end to end: updates queued at the fake Bot API's getUpdates reach the bot and are
answered, each once (the offset goes on), and `init` removes the webhook instead of setting one."""

from __future__ import annotations

from tests.conftest import ServerFactory
from tests.fakes.telegram_api import FakeTelegramApi
from tests.telegram_bot.conftest import bot_env, message_update, new_user_id


def test_polling_mode_answers_queued_updates(
    make_server: ServerFactory, telegram_api: FakeTelegramApi, backend: str
) -> None:
    token = f"{abs(hash(backend)) % 10**9}:polling-{backend}"
    env = bot_env(
        telegram_api, token, TELEGRAM_MODE="polling", TELEGRAM_POLL_TIMEOUT="1", JOBS_INTERVAL_SECONDS="1"
    )
    server = make_server(**env)
    init = server.admin("POST", "/admin/telegram/init")
    assert (init.status_code, init.json()) == (200, {"message": "webhook removed: the bot polls for updates"})
    assert telegram_api.calls(token, "deleteWebhook") and not telegram_api.calls(token, "setWebhook")

    user = new_user_id()
    telegram_api.push_update(token, message_update(user, "/start"))
    reply = telegram_api.wait_for(token, "sendMessage", lambda p: int(p["chat_id"]) == user)
    assert reply.params["text"].startswith("Welcome to the temporary mail bot.")
    telegram_api.push_update(token, message_update(user, "/address"))
    telegram_api.wait_for(
        token, "sendMessage", lambda p: int(p["chat_id"]) == user and "no address" in p["text"]
    )
    telegram_api.push_update(token, message_update(user, "/nonsense"))
    telegram_api.wait_for(
        token, "sendMessage", lambda p: int(p["chat_id"]) == user and "Unknown" in p["text"]
    )
    replies = [
        call for call in telegram_api.calls(token, "sendMessage") if int(call.params["chat_id"]) == user
    ]
    assert len(replies) == 3
