"""An address's own page, and coming back to an address from another browser."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.conftest import ServerFactory
from tests.support import Server
from tests.web.browser.conftest import create_address, html_mail, unique


def test_auto_reply_and_webhook_settings(page: Page, ui_server: Server) -> None:
    create_address(page, ui_server, unique("settings"))
    page.get_by_role("link", name="Address", exact=True).click()
    auto_reply = page.locator("form[hx-post='/api/auto_reply']")
    auto_reply.get_by_label("Subject").fill("Away")
    auto_reply.get_by_label("Message").fill("Back on Monday.")
    auto_reply.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved")
    page.reload()
    expect(page.locator("form[hx-post='/api/auto_reply']").get_by_label("Subject")).to_have_value("Away")

    # Stored as given, as the reference does (a URL that cannot be delivered fails the test).
    webhook = page.locator("form[hx-post='/api/webhook/settings']")
    webhook.get_by_label("Enabled").check()
    webhook.get_by_label("URL", exact=True).fill("ftp://files.example/hook")
    webhook.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Saved")
    page.reload()
    saved = page.locator("form[hx-post='/api/webhook/settings']").get_by_label("URL", exact=True)
    expect(saved).to_have_value("ftp://files.example/hook")


def test_switched_off_features_are_explained(page: Page, make_server: ServerFactory) -> None:
    server = make_server()  # the base settings: no auto-reply, no webhooks, no relay
    create_address(page, server, unique("plain"))
    page.goto(server.base_url + "/address")
    expect(page.locator("#address-settings")).to_contain_text("Not available: Auto reply is disabled")
    expect(page.locator("#address-settings")).to_contain_text("Not available: Webhook is not enabled")
    page.goto(server.base_url + "/compose")
    expect(page.locator("#compose")).to_contain_text("Sending mail is not enabled for this address's domain.")


def test_come_back_with_credential_or_password(page: Page, chromium: Browser, ui_server: Server) -> None:
    address = create_address(page, ui_server, unique("later"))
    ui_server.send(address, html_mail(address, "Kept for tomorrow", "<p>still here</p>"))
    expect(page.locator(".mail-item", has_text="Kept for tomorrow")).to_be_visible()
    page.get_by_role("button", name="Show credential").click()
    secret = page.locator("#secret-dialog textarea").input_value()
    jwt, password = secret.split()[0], secret.rsplit("password: ", 1)[1].strip()

    # The same browser, another day: localStorage still has it.
    page.reload()
    expect(page.locator(".mail-item", has_text="Kept for tomorrow")).to_be_visible()

    for way in ("credential", "password"):
        other = chromium.new_context()
        try:
            fresh = other.new_page()
            fresh.goto(ui_server.base_url + "/")
            fresh.get_by_text("Use an address you already have").click()
            if way == "credential":
                fresh.get_by_label("Paste the credential you saved").fill(jwt)
                fresh.get_by_role("button", name="Add", exact=True).click()
            else:
                login = fresh.locator("form[hx-post='/api/address_login']")
                login.get_by_label("Address").fill(address)
                login.get_by_label("Password").fill(password)
                login.get_by_role("button", name="Log in").click()
            expect(fresh.locator(".mail-item", has_text="Kept for tomorrow")).to_be_visible()
        finally:
            other.close()
