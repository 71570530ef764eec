"""The Telegram bot over its webhook, against a fake Bot API on loopback: the admin's routes,
every command, the allow list, the address cap, paging through mail, new-mail notifications
(with the code, retried when the Bot API fails) and the mini app. On both back ends."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

import pytest

from tests.conftest import ServerFactory
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import Server
from tests.telegram_bot.conftest import Chat, bot_env, callback_update, init_data, new_user_id

CODE_MAIL = (
    "From: Shop <no-reply@shop.example>\r\nSubject: Your sign-in code\r\n\r\n"
    "Hello,\r\n\r\nYour verification code is 482913.\r\nIt expires in 10 minutes.\r\n"
)


@dataclass
class Bot:
    server: Server
    fake: FakeTelegramApi
    token: str
    secret: str

    def chat(self, language: str = "en") -> Chat:
        return Chat(self.server, self.fake, self.token, self.secret, language)


def _start_bot(
    make_server: ServerFactory, fake: FakeTelegramApi, backend: str, name: str, **extra: str
) -> Bot:
    token = f"{abs(hash((backend, name))) % 10**9}:{name}-{backend}"
    server = make_server(**bot_env(fake, token, **extra))
    response = server.admin("POST", "/admin/telegram/init")
    assert (response.status_code, response.json()) == (200, {"message": "webhook set successfully"})
    return Bot(server, fake, token, fake.state(token).webhook["secret_token"])


@pytest.fixture
def bot(make_server: ServerFactory, telegram_api: FakeTelegramApi, backend: str) -> Bot:
    return _start_bot(make_server, telegram_api, backend, "webhook")


def _address_in(text: str) -> str:
    found = re.search(r"[a-z0-9]+@(test\.example|example\.org)", text)
    assert found, text
    return found[0]


def test_init_registers_the_webhook_with_its_secret_and_the_commands(bot: Bot) -> None:
    state = bot.fake.state(bot.token)
    assert state.webhook["url"] == f"{bot.server.base_url}/telegram/webhook"
    assert re.fullmatch(r"[0-9a-f]{64}", bot.secret)
    names = [command["command"] for command in state.commands[""]]
    assert names == ["start", "new", "address", "bind", "unbind", "delete", "mails", "cleaninvalidaddress"]
    assert state.commands["zh"][1] == {"command": "new", "description": "新建邮箱地址: /new [名称@域名]"}

    status = bot.server.admin("GET", "/admin/telegram/status")
    assert status.status_code == 200
    assert status.json()["info"]["url"] == f"{bot.server.base_url}/telegram/webhook"
    assert [command["command"] for command in status.json()["commands"]] == names


def test_admin_settings_round_trip(bot: Bot) -> None:
    assert bot.server.client.get("/admin/telegram/settings").status_code == 401
    saved = {"enableAllowList": False, "allowList": ["1", "2"], "miniAppUrl": "https://mini.example/app"}
    response = bot.server.admin("POST", "/admin/telegram/settings", json=saved)
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert bot.server.admin("GET", "/admin/telegram/settings").json() == saved
    bad = bot.server.admin("POST", "/admin/telegram/settings", json={"allowList": "nope"})
    assert bad.status_code == 400
    bot.server.admin("POST", "/admin/telegram/settings", json={})


def test_the_webhook_needs_the_secret_telegram_echoes(bot: Bot) -> None:
    chat = bot.chat()
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": chat.user_id, "type": "private"},
            "text": "/start",
        },
    }
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        response = bot.server.client.post("/telegram/webhook", json=update, headers=headers)
        assert (response.status_code, response.text) == (401, "Invalid Telegram secret token")
    assert chat.replies() == []


def test_every_command_over_the_webhook(bot: Bot) -> None:
    chat = bot.chat()
    start = chat.say("/start").params["text"]
    assert start.startswith("Welcome to the temporary mail bot.")
    assert "/new" in start and "/cleaninvalidaddress" in start

    assert chat.say("/address").params["text"].startswith("You hold no address yet.")
    name = f"tg{uuid.uuid4().hex[:8]}"
    created = chat.say(f"/new {name}@test.example").params["text"]
    assert f"Address created: {name}@test.example" in created
    jwt = re.search(r"<code>(\S+)</code>", created)
    assert jwt, created
    assert (
        bot.server.client.get(
            "/api/mails?limit=1&offset=0", headers={"Authorization": f"Bearer {jwt[1]}"}
        ).status_code
        == 200
    )

    random_one = _address_in(chat.say("/new").params["text"])
    listed = chat.say("/address").params["text"]
    assert f"{name}@test.example" in listed and random_one in listed

    assert chat.say(f"/mails {name}@test.example").params["text"] == f"No mail in {name}@test.example."
    assert chat.say("/unbind").params["text"] == "Usage: /unbind &lt;address&gt;"
    assert chat.say(f"/unbind {name}@test.example").params["text"] == f"Unbound: {name}@test.example"
    assert chat.say(f"/unbind {name}@test.example").params["text"] == f"You do not hold {name}@test.example."
    assert (
        chat.say("/bind not-a-jwt").params["text"]
        == "That credential is not valid, or its address no longer exists."
    )
    assert chat.say(f"/bind {jwt[1]}").params["text"] == f"Bound: {name}@test.example"

    assert chat.say(f"/delete {name}@test.example").params["text"] == f"Deleted: {name}@test.example"
    assert (
        bot.server.client.get(
            "/api/mails?limit=1&offset=0", headers={"Authorization": f"Bearer {jwt[1]}"}
        ).status_code
        == 401
    )
    assert name not in chat.say("/address").params["text"]

    # An address deleted elsewhere is forgotten by /cleaninvalidaddress.
    other = bot.server.new_address()
    chat.say(f"/bind {other['jwt']}")
    assert bot.server.admin("DELETE", f"/admin/delete_address/{other['address_id']}").status_code == 200
    assert chat.say("/cleaninvalidaddress").params["text"] == "Forgot 1 address(es) that no longer exist."
    assert chat.say("/nonsense").params["text"] == "Unknown command. Send /start for help."
    # Text that is no command gets no answer.
    chat.post(
        {
            "message": {
                "message_id": 2,
                "date": 1,
                "chat": {"id": chat.user_id, "type": "private"},
                "from": {"id": chat.user_id, "is_bot": False, "first_name": "T"},
                "text": "hello",
            }
        }
    )
    assert len(chat.replies()) == 16


def test_chinese_speakers_are_answered_in_chinese(bot: Bot) -> None:
    chat = bot.chat(language="zh-hans")
    assert chat.say("/start").params["text"].startswith("欢迎使用临时邮箱机器人。")
    assert chat.say("/unbind nobody@test.example").params["text"] == "你没有绑定 nobody@test.example。"


def test_the_allow_list_refuses_everyone_else(
    make_server: ServerFactory, telegram_api: FakeTelegramApi, backend: str
) -> None:
    bot = _start_bot(make_server, telegram_api, backend, "allowlist")
    allowed, refused = bot.chat(), bot.chat()
    settings = {"enableAllowList": True, "allowList": [str(allowed.user_id)], "miniAppUrl": ""}
    assert bot.server.admin("POST", "/admin/telegram/settings", json=settings).status_code == 200
    assert chat_text(refused, "/new") == f"You are not allowed to use this bot (your id: {refused.user_id})."
    assert chat_text(allowed, "/address").startswith("You hold no address yet.")
    mini = bot.server.client.post(
        "/telegram/get_bind_address", json={"initData": init_data(bot.token, refused.user_id)}
    )
    assert (mini.status_code, mini.text) == (
        403,
        f"You are not allowed to use this bot (your id: {refused.user_id}).",
    )


def chat_text(chat: Chat, text: str) -> str:
    return str(chat.say(text).params["text"])


def test_a_user_holds_at_most_tg_max_address(
    make_server: ServerFactory, telegram_api: FakeTelegramApi, backend: str
) -> None:
    bot = _start_bot(make_server, telegram_api, backend, "cap", TG_MAX_ADDRESS="2")
    chat = bot.chat()
    chat.say("/new")
    chat.say("/new")
    refused = "You already hold 2 addresses, the most allowed. Unbind or delete one first."
    assert chat_text(chat, "/new") == refused
    assert chat_text(chat, f"/bind {bot.server.new_address()['jwt']}") == refused
    mini = bot.server.client.post(
        "/telegram/new_address", json={"initData": init_data(bot.token, chat.user_id)}
    )
    assert (mini.status_code, mini.text) == (400, refused)


def test_new_mail_is_sent_to_the_user_with_its_code(bot: Bot) -> None:
    chat = bot.chat()
    address = _address_in(chat_text(chat, "/new"))
    bot.server.send(address, CODE_MAIL)
    note = bot.fake.wait_for(
        bot.token, "sendMessage", lambda p: int(p["chat_id"]) == chat.user_id and "New mail" in p["text"]
    )
    text = note.params["text"]
    assert text.startswith(f"<b>New mail to {address}</b>")
    assert "From: Shop &lt;no-reply@shop.example&gt;" in text
    assert "Subject: Your sign-in code" in text
    assert "Code: <code>482913</code>" in text
    assert "Your verification code is 482913." in text
    assert note.params["parse_mode"] == "HTML"

    # /mails shows it too, newest first, with a button to the older one.
    bot.server.send(address, "Subject: second\r\n\r\nnothing to see")
    bot.fake.wait_for(
        bot.token, "sendMessage", lambda p: int(p["chat_id"]) == chat.user_id and "second" in p["text"]
    )
    shown = chat.say("/mails")
    assert shown.params["text"].startswith(f"<b>Mail 1 of 2 in {address}</b>")
    buttons = shown.params["reply_markup"]["inline_keyboard"][0]
    assert [button["text"] for button in buttons] == ["Older"]
    chat.post(callback_update(chat.user_id, buttons[0]["callback_data"], message_id=77))
    edited = [call for call in chat.replies("editMessageText") if int(call.params["message_id"]) == 77]
    assert edited and edited[0].params["text"].startswith(f"<b>Mail 2 of 2 in {address}</b>")
    assert "Code: <code>482913</code>" in edited[0].params["text"]
    assert [b["text"] for b in edited[0].params["reply_markup"]["inline_keyboard"][0]] == ["Newer"]
    # Someone else pressing a button of that address is told the list is gone.
    stranger = bot.chat()
    stranger.post(callback_update(stranger.user_id, buttons[0]["callback_data"], message_id=78))
    answers = [
        call
        for call in bot.fake.calls(bot.token, "answerCallbackQuery")
        if call.params["callback_query_id"] == f"cb{stranger.user_id}78"
    ]
    assert answers[0].params["text"] == "That mail list is gone; send /mails again."


def test_a_failed_notification_is_retried(bot: Bot) -> None:
    chat = bot.chat()
    address = _address_in(chat_text(chat, "/new"))
    bot.fake.fail(bot.token, "sendMessage", 500, "Internal Server Error")
    bot.server.send(address, CODE_MAIL)
    again = bot.fake.wait_for(
        bot.token,
        "sendMessage",
        lambda p: int(p["chat_id"]) == chat.user_id and "New mail" in p["text"],
        nth=2,
    )
    assert "Code: <code>482913</code>" in again.params["text"]
    for _ in range(100):
        rows = bot.server.admin("GET", "/admin/deliveries?limit=50&offset=0").json()["results"]
        mine = [row for row in rows if row["address"] == address and row["kind"] == "telegram"]
        if mine and mine[0]["status"] == "done":
            break
        time.sleep(0.1)
    assert mine[0]["status"] == "done" and mine[0]["attempts"] == 2


def test_mail_to_an_address_nobody_holds_sends_nothing(bot: Bot) -> None:
    address = bot.server.new_address()["address"]
    before = len(bot.fake.calls(bot.token, "sendMessage"))
    bot.server.send(address, CODE_MAIL)
    response = bot.server.with_jwt("GET", "/api/mails?limit=1&offset=0", bot.server.new_address()["jwt"])
    assert response.status_code == 200
    assert all(
        address not in call.params["text"] for call in bot.fake.calls(bot.token, "sendMessage")[before:]
    )


def test_the_mini_app(bot: Bot) -> None:
    user = new_user_id()
    signed = init_data(bot.token, user)
    created = bot.server.client.post(
        "/telegram/new_address", json={"initData": signed, "address": f"mini{uuid.uuid4().hex[:6]}"}
    )
    assert created.status_code == 200, created.text
    address, jwt = created.json()["address"], created.json()["jwt"]
    listed = bot.server.client.post("/telegram/get_bind_address", json={"initData": signed})
    assert listed.json() == [{"address": address, "jwt": jwt}]

    bot.server.send(address, CODE_MAIL)
    mail_id = bot.server.mails(jwt)["results"][0]["id"]
    mail = bot.server.client.post("/telegram/get_mail", json={"initData": signed, "mailId": mail_id})
    assert mail.status_code == 200 and mail.json()["address"] == address
    someone_else = bot.server.client.post(
        "/telegram/get_mail", json={"initData": init_data(bot.token, new_user_id()), "mailId": mail_id}
    )
    assert (someone_else.status_code, someone_else.text) == (404, "Mail not found")

    assert bot.server.client.post(
        "/telegram/unbind_address", json={"initData": signed, "address": address}
    ).json() == {"success": True}
    assert bot.server.client.post("/telegram/get_bind_address", json={"initData": signed}).json() == []
    bound = bot.server.client.post("/telegram/bind_address", json={"initData": signed, "jwt": jwt})
    assert bound.json() == {"address": address, "jwt": jwt}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "user=%7B%22id%22%3A1%7D&auth_date=1&hash=00",
        "not a query string",
    ],
)
def test_the_mini_app_refuses_init_data_telegram_did_not_sign(bot: Bot, bad: str) -> None:
    response = bot.server.client.post("/telegram/get_bind_address", json={"initData": bad})
    assert (response.status_code, response.text) == (401, "Invalid Telegram initData")


def test_the_mini_app_refuses_tampered_or_stale_init_data(bot: Bot) -> None:
    user = new_user_id()
    tampered = init_data(bot.token, user).replace(str(user), str(user + 1))
    stale = init_data(bot.token, user, auth_date=1_000_000)
    other_bot = init_data("1:another-token", user)
    for signed in (tampered, stale, other_bot):
        response = bot.server.client.post("/telegram/get_bind_address", json={"initData": signed})
        assert (response.status_code, response.text) == (401, "Invalid Telegram initData")
    no_body = bot.server.client.post("/telegram/get_bind_address", json={})
    assert no_body.status_code == 400
