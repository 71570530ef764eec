"""The inbox's features of issue 19 as a person uses them: search, unread mail and the count in
the tab's title, page numbers and sizes, selecting mails to delete or mark, the `.eml`
download, forwarding, the full-screen reader, relative times, senders, links, the keys."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP

from playwright.sync_api import Page, expect

from tests.support import Server
from tests.web.browser.conftest import create_address, html_mail, unique
from tests.web.browser.test_inbox import jwt_of


def plain(to: str, subject: str, text: str, sender: str = "Bob Sender <bob@remote.example>") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message.as_bytes(policy=SMTP)


def inbox_with(page: Page, server: Server, subjects: list[str]) -> str:
    """A new address on the inbox page with these mails (the last one newest), all listed."""
    address = create_address(page, server, unique("box"))
    for subject in subjects:
        server.send(address, plain(address, subject, f"About {subject.lower()}."))
    expect(page.locator("#mail-list .mail-item")).to_have_count(min(len(subjects), 20))
    return address


def items(page: Page) -> list[str]:
    """The subjects listed, without the "Unread:" that screen readers hear."""
    texts = page.locator("#mail-list .mail-item .subject").all_text_contents()
    return [text.strip().removeprefix("Unread: ") for text in texts]


def expect_cursor_on(page: Page, subject: str) -> None:
    expect(page.locator(".mail-row.cursor .subject")).to_have_text(re.compile(rf"^(Unread: )?{subject}$"))


def test_search_finds_sender_subject_and_text(page: Page, ui_server: Server) -> None:
    address = create_address(page, ui_server, unique("search"))
    ui_server.send(address, plain(address, "Invoice 42", "Total: 17 EUR"))
    ui_server.send(address, plain(address, "Welcome", "Hello there", sender="Dana Shop <dana@shop.example>"))
    ui_server.send(address, plain(address, "Weekly news", "Nothing about money"))
    expect(page.locator("#mail-list .mail-item")).to_have_count(3)
    search = page.get_by_role("searchbox", name="Search mail")
    search.fill("INVOICE")
    expect(page.locator("#mail-list .mail-item")).to_have_count(1)
    expect(page.locator("#mail-list")).to_contain_text("1 found")
    assert items(page) == ["Invoice 42"]
    search.fill("dana shop")  # the sender's name
    expect(page.locator("#mail-list .mail-item .subject")).to_contain_text(["Welcome"])
    search.fill("money")  # the text
    expect(page.locator("#mail-list .mail-item .subject")).to_contain_text(["Weekly news"])
    search.fill("nothing like this")
    expect(page.locator("#mail-list")).to_contain_text("No mail matches.")
    search.fill("")
    expect(page.locator("#mail-list .mail-item")).to_have_count(3)


def test_unread_mail_is_bold_and_counted_in_the_title(page: Page, ui_server: Server) -> None:
    address = inbox_with(page, ui_server, ["First", "Second"])
    expect(page).to_have_title(re.compile(r"^\(2\) Inbox"))
    rows = page.locator("#mail-list .mail-row")
    expect(rows.and_(page.locator(".unread"))).to_have_count(2)
    assert page.locator(".mail-row.unread .mail-item .subject").first.evaluate(
        "el => getComputedStyle(el).fontWeight"
    ) in ("700", "800", "900")

    page.locator(".mail-item", has_text="First").click()
    expect(page.locator("#reader h2.subject")).to_have_text("First")
    expect(page).to_have_title(re.compile(r"^\(1\) Inbox"))
    expect(page.locator(".mail-row.unread")).to_have_count(1)
    first_id = int(page.locator(".mail-item", has_text="First").get_attribute("data-mail-id") or 0)
    # Shared with IMAP: the UI's read mark is the \Seen flag, and a client's \Seen is read here.
    assert ui_server.db.sql("SELECT seen FROM mail_flags WHERE mail_id = ?", first_id) == [(1,)]
    second_id = int(page.locator(".mail-item", has_text="Second").get_attribute("data-mail-id") or 0)
    ui_server.db.sql(
        "INSERT INTO mail_flags (mail_id, seen, answered, flagged, deleted, draft) VALUES (?, 1, 0, 0, 0, 0)",
        second_id,
    )
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".mail-row.unread")).to_have_count(0)
    expect(page).to_have_title(re.compile(r"^Inbox"))

    # New mail comes with the count, without a reload.
    ui_server.send(address, plain(address, "Third", "new"))
    expect(page).to_have_title(re.compile(r"^\(1\) Inbox"))
    expect(page.locator(".mail-row.unread .subject")).to_contain_text(["Third"])


def test_page_numbers_and_a_page_size_that_is_remembered(page: Page, ui_server: Server) -> None:
    inbox_with(page, ui_server, [f"Mail {n:02d}" for n in range(12)])
    expect(page.locator("#mail-list")).to_contain_text("12 in total")
    page.locator("#mail-list select[data-page-size]").select_option("10")
    expect(page.locator("#mail-list .mail-item")).to_have_count(10)
    pager = page.locator("#mail-list nav.pager")
    expect(pager.get_by_role("button", name="Page 1")).to_have_attribute("aria-current", "page")
    pager.get_by_role("button", name="Page 2").click()
    expect(page.locator("#mail-list .mail-item")).to_have_count(2)
    assert items(page) == ["Mail 01", "Mail 00"]
    expect(page.locator("#mail-list")).to_contain_text("12 in total")  # counted on later pages too
    expect(page.locator("#mail-list nav.pager").get_by_role("button", name="Page 2")).to_have_attribute(
        "aria-current", "page"
    )
    page.reload()
    expect(page.locator("#mail-list .mail-item")).to_have_count(10)
    expect(page.locator("#mail-list select[data-page-size]")).to_have_value("10")
    page.locator("#mail-list select[data-page-size]").select_option("50")
    expect(page.locator("#mail-list .mail-item")).to_have_count(12)
    assert page.evaluate("localStorage.getItem('tm.pageSize')") == "50"


def test_select_mails_to_mark_and_delete(page: Page, ui_server: Server) -> None:
    address = inbox_with(page, ui_server, ["One", "Two", "Three"])
    mark_read = page.get_by_role("button", name="Mark read")
    expect(mark_read).to_be_disabled()
    page.get_by_label("Select all on this page").check()
    expect(page.locator(".mail-check:checked")).to_have_count(3)
    mark_read.click()
    expect(page.locator(".mail-row.unread")).to_have_count(0)
    expect(page).to_have_title(re.compile(r"^Inbox"))

    page.get_by_label("Select: Two").check()
    page.get_by_role("button", name="Mark unread").click()
    expect(page.locator(".mail-row.unread .subject")).to_have_text(["Unread: Two"])

    page.get_by_label("Select: One").check()
    page.get_by_label("Select: Three").check()
    page.locator(".list-tools").get_by_role("button", name="Delete").click()  # confirmed
    expect(page.locator("#mail-list .mail-item")).to_have_count(1)
    assert [row["id"] for row in ui_server.mails(jwt_of(page, address))["results"]] == [
        int(page.locator(".mail-item").get_attribute("data-mail-id") or 0)
    ]


def test_download_eml_and_forward(page: Page, ui_server: Server) -> None:
    address = inbox_with(page, ui_server, ["Original news"])
    stored = ui_server.mails(jwt_of(page, address))["results"][0]
    page.locator(".mail-item", has_text="Original news").click()
    reader = page.locator("#reader")
    with page.expect_download() as info:
        reader.get_by_role("button", name="Download .eml").click()
    download = info.value
    assert download.suggested_filename == f"mail-{stored['id']}.eml"
    with open(download.path(), "rb") as saved:
        assert saved.read() == stored["raw"].encode()

    reader.get_by_role("link", name="Forward").click()
    expect(page).to_have_url(f"{ui_server.base_url}/compose?forward={stored['id']}")
    form = page.locator("#compose form")
    expect(form.locator("input[name=subject]")).to_have_value("Fwd: Original news")
    expect(form.locator("input[name=to_mail]")).to_have_value("")
    content = form.locator("textarea[name=content]")
    expect(content).to_contain_text("Forwarded message")
    expect(content).to_contain_text("> From: Bob Sender <bob@remote.example>")
    expect(content).to_contain_text("> About original news.")


def test_full_screen_reader_closes_with_escape(page: Page, ui_server: Server) -> None:
    inbox_with(page, ui_server, ["Read me big"])
    page.locator(".mail-item", has_text="Read me big").click()
    button = page.locator("#reader").get_by_role("button", name="Full screen")
    button.click()
    expect(page.locator("body")).to_have_class(re.compile(r"\breader-full\b"))
    expect(button).to_have_attribute("aria-pressed", "true")
    box = page.locator("#reader").bounding_box()
    assert box is not None and (box["x"], box["y"]) == (0, 0), box
    assert box["width"] >= 1260 and box["height"] >= 840, box  # the viewport, but a scroll bar
    page.keyboard.press("Escape")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\breader-full\b"))


def test_relative_times_and_sender_names(page: Page, ui_server: Server) -> None:
    inbox_with(page, ui_server, ["Just now"])
    when = page.locator(".mail-item time")
    expect(when).to_have_text(re.compile(r"now|second|minute"))
    expect(when).to_have_attribute("title", re.compile(r"\d"))  # the absolute time, on hover
    sender = page.locator(".mail-item .from")
    expect(sender).to_have_text("Bob Sender")
    expect(sender).to_have_attribute("title", "bob@remote.example")


def test_a_verification_link_has_open_and_copy(page: Page, ui_server: Server) -> None:
    address = create_address(page, ui_server, unique("link"))
    link = "https://accounts.example.org/verify-email?token=a8F3kQ92xLmZ7pR4tY6w"
    ui_server.send(
        address,
        html_mail(
            address,
            "Confirm your e-mail",
            f'<p>Welcome!</p><p><a href="{link}">Verify email</a></p>',
            text=f"Welcome! Verify your e-mail: {link}",
        ),
    )
    item = page.locator(".mail-item", has_text="Confirm your e-mail")
    expect(item.locator(".link-badge")).to_be_visible()
    item.click()
    box = page.locator("#reader .linkbox")
    expect(box).to_contain_text("Verification link")
    expect(box.locator(".link-url")).to_have_text(link)
    expect(box.get_by_role("link", name="Open")).to_have_attribute("href", link)
    expect(box.get_by_role("link", name="Open")).to_have_attribute("target", "_blank")
    box.get_by_role("button", name="Copy").click()
    expect(page.locator("#toasts")).to_contain_text("Copied")


def test_keys_move_open_delete_search_and_help(page: Page, ui_server: Server) -> None:
    address = inbox_with(page, ui_server, ["Oldest", "Middle", "Newest"])
    # Keys are ignored while a text field has the focus: start from none.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("j")
    expect_cursor_on(page, "Newest")
    page.keyboard.press("j")
    page.keyboard.press("ArrowDown")
    expect_cursor_on(page, "Oldest")
    page.keyboard.press("k")
    expect_cursor_on(page, "Middle")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page.locator("#reader h2.subject")).to_have_text("Newest")

    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search mail")
    expect(search).to_be_focused()
    page.keyboard.type("jk")  # typed, not moved
    expect(search).to_have_value("jk")
    search.fill("")
    search.blur()

    page.keyboard.press("?")
    dialog = page.locator("#keys-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next mail")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("j")  # the cursor moves on from the mail it is on
    expect_cursor_on(page, "Middle")
    page.keyboard.press("#")  # confirmed
    expect(page.locator("#mail-list .mail-item")).to_have_count(2)
    assert items(page) == ["Newest", "Oldest"]
    page.keyboard.press("j")
    page.keyboard.press("Delete")
    expect(page.locator("#mail-list .mail-item")).to_have_count(1)
    assert len(ui_server.mails(jwt_of(page, address))["results"]) == 1
