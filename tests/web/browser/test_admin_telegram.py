"""The admin console's Telegram tab: no token, and a bot against a fake Bot API on loopback
(its webhook set up from the button, its allow list and mini app saved from the form)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ServerFactory
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import Server
from tests.web.browser.test_admin import admin_login, saved

TOKEN = "777000:browser-token"


@pytest.fixture(scope="module")
def telegram_api() -> Iterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    yield fake
    fake.close()


@pytest.fixture
def bot_server(make_server: ServerFactory, telegram_api: FakeTelegramApi) -> Server:
    return make_server(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=telegram_api.url)


def test_without_a_token_the_tab_says_how_to_set_one(page: Page, ui_server: Server) -> None:
    admin_login(page, ui_server)
    page.get_by_role("link", name="Telegram").click()
    expect(page.locator("[data-telegram=off]")).to_contain_text("No bot token is configured.")
    expect(page.locator("[data-telegram=off]")).to_contain_text("TELEGRAM_BOT_TOKEN")


def test_set_up_the_webhook_and_the_allow_list(
    page: Page, bot_server: Server, telegram_api: FakeTelegramApi
) -> None:
    admin_login(page, bot_server)
    page.get_by_role("link", name="Telegram").click()
    expect(page.locator("[data-telegram-mode]")).to_have_text("Webhook (Telegram calls this server)")
    expect(page.locator("[data-telegram-webhook]")).to_have_text("none")

    with page.expect_response(saved("/admin/telegram/init")):
        page.get_by_role("button", name="Set up the webhook and commands").click()
    expect(page.locator("#toasts")).to_contain_text("Done")
    expect(page.locator("[data-telegram-webhook]")).to_have_text(f"{bot_server.base_url}/telegram/webhook")
    expect(page.locator("[data-telegram-commands]")).to_contain_text("/mails")
    assert telegram_api.state(TOKEN).webhook["url"] == f"{bot_server.base_url}/telegram/webhook"

    form = page.locator("form[hx-post='/admin/telegram/settings']")
    form.get_by_label("Only the Telegram users listed").check()
    form.get_by_label("Telegram user ids (one a line)").fill("1001\n1002")
    form.get_by_label("Mini app URL").fill("https://mini.example/app")
    with page.expect_response(saved("/admin/telegram/settings")):
        form.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved")
    assert bot_server.admin("GET", "/admin/telegram/settings").json() == {
        "enableAllowList": True,
        "allowList": ["1001", "1002"],
        "miniAppUrl": "https://mini.example/app",
    }
