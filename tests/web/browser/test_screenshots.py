"""Screenshots of the main pages, for the README.

`TEMPMAIL_SCREENSHOTS=1 pytest tests/web/browser/test_screenshots.py` writes them into
docs/screenshots/; otherwise they go to a temporary folder, so a test run never changes the work
tree but the pages are still rendered and checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support import ADMIN_PASSWORD, Server
from tests.web.browser.conftest import create_address, html_mail, unique

DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}

NEWSLETTER = """
<table width="100%" style="background-color:#f4f1ea;padding:16px"><tr><td>
<h2 style="color:#7a3e12;font-family:Georgia,serif">Spring collection is here</h2>
<p style="font-size:15px">Fresh colours, light fabrics and 20% off for newsletter readers.</p>
<p><img src="https://images.example/banner.png" alt="banner" width="400"></p>
<p><a href="https://shop.example/spring"
      style="background-color:#7a3e12;color:#fff;padding:8px 14px">Shop now</a></p>
</td></tr></table>
"""
SEED = [
    (
        "Anna from Shop <news@shop.example>",
        "Spring collection is here",
        NEWSLETTER,
        "Spring collection is here.",
    ),
    (
        "GitHub <noreply@github.example>",
        "[GitHub] Please verify your device",
        "<p>Hey! A sign-in attempt requires further verification.</p><p>Verification code: <b>718204</b></p>",
        "Verification code: 718204",
    ),
    (
        "Carla Jones <carla@friends.example>",
        "Dinner on Friday?",
        "<p>Hi! Are you free on Friday evening? The new place on 5th street has a terrace.</p>",
        "Hi! Are you free on Friday evening? The new place on 5th street has a terrace.",
    ),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if os.environ.get("TEMPMAIL_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


def seeded_inbox(page: Page, server: Server) -> str:
    address = create_address(page, server, unique("demo"))
    for sender, subject, html, text in SEED:
        server.send(address, html_mail(address, subject, html, text=text, sender=sender))
    expect(page.locator(".mail-item")).to_have_count(len(SEED))
    return address


def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_screenshots(page: Page, chromium: Browser, ui_server: Server, folder: Path) -> None:
    seeded_inbox(page, ui_server)
    shot(page, folder, "inbox")

    page.locator(".mail-item", has_text="Spring collection").click()
    expect(page.frame_locator("#reader iframe").locator("h2")).to_have_text("Spring collection is here")
    shot(page, folder, "reader")

    page.locator(".mail-item", has_text="Dinner on Friday").click()
    page.locator("#reader").get_by_role("link", name="Reply").click()
    expect(page.locator("#compose input[name=subject]")).to_have_value("Re: Dinner on Friday?")
    page.locator("#compose textarea[name=content]").press("Control+Home")
    page.locator("#compose textarea[name=content]").type("Friday works for me, see you at 8!")
    shot(page, folder, "compose")

    page.goto(ui_server.base_url + "/")
    expect(page.locator("#mail-list .mail-item")).to_have_count(len(SEED))
    page.get_by_role("searchbox", name="Search mail").fill("verif")
    expect(page.locator("#mail-list .mail-item")).to_have_count(1)
    page.locator(".mail-item", has_text="verify your device").click()
    expect(page.locator("#reader .codebox")).to_be_visible()
    shot(page, folder, "search")
    page.get_by_role("searchbox", name="Search mail").fill("")
    expect(page.locator("#mail-list .mail-item")).to_have_count(len(SEED))
    page.get_by_label("Select all on this page").check()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("?")
    expect(page.locator("#keys-dialog")).to_be_visible()
    shot(page, folder, "keys")
    page.keyboard.press("Escape")

    page.goto(ui_server.base_url + "/admin")
    page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#admin-addresses table")).to_be_visible()
    shot(page, folder, "admin-addresses")
    page.get_by_role("link", name="Statistics").click()
    expect(page.locator("[data-stat=mailCount]")).not_to_have_text("0")
    shot(page, folder, "admin-statistics")
    page.get_by_role("link", name="Database").click()
    expect(page.locator("[data-stat=databaseSize]")).to_contain_text("iB")
    shot(page, folder, "admin-database")

    phone = chromium.new_context(viewport=PHONE, color_scheme="dark", locale="en-US", device_scale_factor=2)
    try:
        mobile = phone.new_page()
        seeded_inbox(mobile, ui_server)
        shot(mobile, folder, "phone-dark")
        mobile.locator(".mail-item", has_text="verify your device").click()
        expect(mobile.locator("#reader .codebox")).to_be_visible()
        shot(mobile, folder, "phone-dark-reader")
    finally:
        phone.close()

    chinese = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    try:
        zh = chinese.new_page()
        zh.goto(ui_server.base_url + "/")
        expect(zh.get_by_role("link", name="收件箱")).to_be_visible()
        shot(zh, folder, "chinese")
    finally:
        chinese.close()

    japanese = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 860})
    try:
        ja = japanese.new_page()
        ja.goto(ui_server.base_url + "/")
        expect(ja.locator("html")).to_have_attribute("lang", "ja")
        shot(ja, folder, "japanese")
    finally:
        japanese.close()
