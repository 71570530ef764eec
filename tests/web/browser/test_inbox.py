"""The inbox as a person uses it: get an address, watch mail arrive, read it safely, reply, delete."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server
from tests.web.browser.conftest import RemoteHost, create_address, html_mail, unique


def test_create_receive_read_reply_delete(page: Page, ui_server: Server, relay: SmtpSink) -> None:
    address = create_address(page, ui_server, unique("alice"))
    expect(page.locator("#mail-list")).to_contain_text("No mail yet")

    raw = html_mail(
        address,
        "Your sign-in code",
        "<h1>Welcome</h1><p>Your code is <b>482913</b>.</p>",
        text="Welcome\n\nYour code is 482913.",
    )
    ui_server.send(address, raw, mail_from="bob@remote.example")

    # No reload and no click: the inbox polls.
    item = page.locator(".mail-item", has_text="Your sign-in code")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Bob Sender")
    expect(item.locator(".badge")).to_have_text("482913")

    item.click()
    reader = page.locator("#reader")
    expect(reader.locator("h2.subject")).to_have_text("Your sign-in code")
    expect(reader.locator(".codebox strong")).to_have_text("482913")
    body = page.frame_locator("#reader iframe.mail-frame")
    expect(body.locator("h1")).to_have_text("Welcome")

    reader.get_by_role("link", name="Reply").click()
    expect(page).to_have_url(f"{ui_server.base_url}/compose?reply={item_id(page, ui_server, address)}")
    form = page.locator("#compose form")
    expect(form.locator("input[name=to_mail]")).to_have_value("bob@remote.example")
    expect(form.locator("input[name=subject]")).to_have_value("Re: Your sign-in code")
    expect(form.locator("textarea[name=content]")).to_contain_text("> Your code is")
    form.locator("input[name=from_name]").fill("Alice")
    form.locator("textarea[name=content]").fill("Thanks, got it.")
    form.get_by_role("button", name="Send").click()
    expect(page.locator("#toasts")).to_contain_text("Mail sent")

    (sent,) = relay.wait_for(1)
    assert sent.rcpt_tos == ["bob@remote.example"]
    assert parseaddr(str(sent.message["From"])) == ("Alice", address)
    assert sent.message["Subject"] == "Re: Your sign-in code"
    original_id = ui_server.mails(jwt_of(page, address))["results"][0]["message_id"]
    assert sent.message["In-Reply-To"] == original_id
    expect(page.locator("#sendbox")).to_contain_text("Re: Your sign-in code")

    page.goto(ui_server.base_url + "/")
    page.locator(".mail-item", has_text="Your sign-in code").click()
    page.locator("#reader").get_by_role("button", name="Delete").click()
    expect(page.locator("#mail-list")).to_contain_text("No mail yet")
    assert ui_server.mails(jwt_of(page, address))["count"] == 0


def jwt_of(page: Page, address: str) -> str:
    """The credential the page keeps for `address` (localStorage)."""
    entries = page.evaluate("JSON.parse(localStorage.getItem('tm.addresses'))")
    return str(next(entry["jwt"] for entry in entries if entry["address"] == address))


def item_id(page: Page, server: Server, address: str) -> int:
    return int(server.mails(jwt_of(page, address))["results"][0]["id"])


XSS_HTML = """
<p id="hello">Hello <b>there</b></p>
<script>window.__xss = 1</script>
<img src="x" onerror="window.__xss = 2">
<a id="js-link" href="javascript:window.__xss = 3">click me</a>
<svg onload="window.__xss = 4"><circle r="5"></circle></svg>
<img id="pixel" src="{remote}/pixel.png" alt="tracking pixel">
<iframe src="{remote}/frame"></iframe>
<form action="{remote}/form"><input name="q"><button>go</button></form>
<div style="background-image: url({remote}/background.png)">styled</div>
<style>@import url({remote}/import.css); p {{ background: url({remote}/style.png) }}</style>
<link rel="stylesheet" href="{remote}/link.css">
<object data="{remote}/object"></object>
<meta http-equiv="refresh" content="0; url={remote}/refresh">
"""


def test_html_mail_cannot_run_script_or_load_remote_content(
    page: Page, ui_server: Server, remote_host: RemoteHost
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    address = create_address(page, ui_server, unique("xss"))
    ui_server.send(address, html_mail(address, "Totally harmless", XSS_HTML.format(remote=remote_host.url)))

    page.locator(".mail-item", has_text="Totally harmless").click()
    body = page.frame_locator("#reader iframe.mail-frame")
    expect(body.locator("#hello")).to_have_text("Hello there")
    body.locator("#js-link").click()
    page.wait_for_timeout(500)

    def no_script_ran() -> None:
        assert len(page.frames) == 2, "the mail must not have brought frames of its own"
        for frame in page.frames:
            assert frame.evaluate("typeof window.__xss") == "undefined", frame.url

    no_script_ran()
    assert remote_host.paths == []
    assert not [url for url in requests if url.startswith(remote_host.url)]
    frame_element = page.locator("#reader iframe.mail-frame")
    expect(frame_element).to_have_attribute("sandbox", "allow-popups allow-popups-to-escape-sandbox")
    expect(body.locator("#pixel")).not_to_have_attribute("src", f"{remote_host.url}/pixel.png")

    page.locator("#reader").get_by_role("button", name="Show remote images").click()
    expect(body.locator("#pixel")).to_have_attribute("src", f"{remote_host.url}/pixel.png")
    deadline = time.monotonic() + 10
    while "/pixel.png" not in remote_host.paths and time.monotonic() < deadline:
        time.sleep(0.05)
    assert remote_host.paths == ["/pixel.png"], "only the image, nothing the styles or tags asked for"
    no_script_ran()


def test_raw_source_and_attachment_download(page: Page, ui_server: Server) -> None:
    address = create_address(page, ui_server, unique("files"))
    message = EmailMessage()
    message["From"] = "files@remote.example"
    message["To"] = address
    message["Subject"] = "Report attached"
    message.set_content("See the report.")
    message.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="report.html"
    )
    ui_server.send(address, message.as_bytes(policy=SMTP))

    page.locator(".mail-item", has_text="Report attached").click()
    reader = page.locator("#reader")
    expect(reader.locator("pre.mail-text")).to_contain_text("See the report.")
    reader.locator("summary", has_text="Source").click()
    expect(reader.locator("pre.raw")).to_contain_text("Subject: Report attached")
    with page.expect_download() as info:
        reader.get_by_role("button", name="report.html").click()
    download = info.value
    assert download.suggested_filename == "report.html"
    assert Path(download.path()).read_bytes() == b"<script>alert(1)</script>"
