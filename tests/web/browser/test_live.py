"""The inbox shows new mail as the server pushes it (the event stream, issue 17): no timer
polling while the stream is up, the mail on screen right after the SMTP 250; and polling again
when the stream cannot be had."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tests.support import Server
from tests.web.browser.conftest import create_address, html_mail, unique

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

# The UI's timer (app.js POLL_MS) and a margin: a quiet stretch this long has seen a poll.
POLL_SECONDS = 5
# The issue asks for new mail on screen within 1 s of the 250; a margin for a busy CI machine.
ON_SCREEN_SECONDS = 2.0


def _list_loads(page: Page) -> list[str]:
    loads: list[str] = []

    def seen(request: Request) -> None:
        if "/ui/mails" in request.url:
            loads.append(request.url)

    page.on("request", seen)
    return loads


def test_new_mail_is_pushed_and_nothing_polls(page: Page, ui_server: Server) -> None:
    from playwright.sync_api import expect

    address = create_address(page, ui_server, unique("live"))
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    loads = _list_loads(page)
    time.sleep(POLL_SECONDS + 1.5)
    assert loads == [], "the inbox polled while its event stream was connected"

    ui_server.send(address, html_mail(address, "Pushed to you", "<p>Code 482913</p>", text="Code 482913"))
    answered = time.monotonic()
    item = page.locator(".mail-item", has_text="Pushed to you")
    expect(item).to_be_visible(timeout=ON_SCREEN_SECONDS * 1000)
    assert time.monotonic() - answered < ON_SCREEN_SECONDS
    assert len(loads) == 1, loads


def test_without_the_stream_the_inbox_polls(page: Page, ui_server: Server) -> None:
    from playwright.sync_api import expect

    page.route("**/api/events", lambda route: route.abort())
    address = create_address(page, ui_server, unique("nolive"))
    ui_server.send(address, html_mail(address, "Polled for you", "<p>Hello</p>"))
    # The timer's next round (every 5 s) finds it.
    expect(page.locator(".mail-item", has_text="Polled for you")).to_be_visible()
    expect(page.locator("body")).not_to_have_attribute("data-live", "on")
