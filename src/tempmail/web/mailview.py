"""Mails as the UI shows them: list summaries, and the reader's view with a sanitised body.

HTML mail is untrusted twice over: nh3 removes everything active (scripts, event handlers,
`javascript:` and `data:` links, forms, frames, styles that load URLs), and what remains is shown
in a sandboxed `srcdoc` iframe (no scripts, an opaque origin) whose own Content-Security-Policy
loads nothing from the network. Remote images are left out of the document until the person asks
for them; only then are they kept and the policy lets `http:`/`https:` images through.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

import nh3

from tempmail.inbound.codes import extract, extract_from
from tempmail.inbound.parse import Attachment, attachment_content, parse_mail
from tempmail.inbound.views import parsed_row, stored_raw

PREVIEW_CHARS = 140
# Inline (cid:) images larger than this are offered as attachments but not embedded.
MAX_INLINE_IMAGE = 2 * 1024 * 1024

TAGS = {
    "a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite",
    "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small",
    "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt",
    "u", "ul", "wbr",
}  # fmt: skip
COMMON_ATTRIBUTES = {"id", "align", "valign", "dir", "lang", "title", "style", "width", "height", "bgcolor"}
ATTRIBUTES = {
    "*": COMMON_ATTRIBUTES,
    "a": {"href", "name"},
    "img": {"src", "alt", "border", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "th": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
# Formatting only: nothing here takes a URL (no background/background-image, list-style-image,
# content, cursor, behavior, ...), so no style can make the mail load something.
STYLE_PROPERTIES = {
    "background-color", "border", "border-bottom", "border-collapse", "border-color", "border-left",
    "border-radius", "border-right", "border-spacing", "border-style", "border-top", "border-width",
    "color", "direction", "display", "font", "font-family", "font-size", "font-style", "font-variant",
    "font-weight", "height", "letter-spacing", "line-height", "margin", "margin-bottom", "margin-left",
    "margin-right", "margin-top", "max-height", "max-width", "min-height", "min-width", "padding",
    "padding-bottom", "padding-left", "padding-right", "padding-top", "table-layout", "text-align",
    "text-decoration", "text-indent", "text-transform", "vertical-align", "white-space", "width",
    "word-break", "word-spacing", "word-wrap", "overflow-wrap",
}  # fmt: skip
LINK_SCHEMES = ("http:", "https:", "mailto:")
REMOTE_SCHEMES = ("http:", "https:")

DOCUMENT_STYLE = (
    "html{color-scheme:light}body{margin:0;padding:12px;font:15px/1.5 system-ui,sans-serif;"
    "color:#1b1b1f;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}"
    "pre{white-space:pre-wrap}"
)


@dataclass(frozen=True, slots=True)
class SafeHtml:
    """A complete document for `<iframe sandbox srcdoc>`, and how many remote images it left out."""

    document: str
    blocked_images: int


def _img_policy(remote_images: bool) -> str:
    return "data: cid: https: http:" if remote_images else "data: cid:"


def safe_document(html: str, inline_images: dict[str, str], remote_images: bool) -> SafeHtml:
    """Sanitise `html` and wrap it in a document that can load nothing unless allowed.

    `inline_images` maps Content-IDs to data: URIs so `cid:` pictures show without a request.
    """
    blocked = 0

    def attribute(tag: str, name: str, value: str) -> str | None:
        nonlocal blocked
        lowered = value.strip().lower()
        if name == "href":
            return value if lowered.startswith(LINK_SCHEMES) or lowered.startswith("#") else None
        if tag == "img" and name == "src":
            if lowered.startswith("cid:"):
                return inline_images.get(value.strip()[4:].strip("<>"))
            if lowered.startswith("data:image/"):
                return value
            if lowered.startswith(REMOTE_SCHEMES):
                if remote_images:
                    return value
                blocked += 1
            return None
        if name in ("src", "cite"):
            return None
        return value

    cleaned = nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "noscript", "textarea", "select"},
        attributes=ATTRIBUTES,
        attribute_filter=attribute,
        url_schemes={"http", "https", "mailto", "data", "cid"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties=STYLE_PROPERTIES,
        strip_comments=True,
    )
    policy = f"default-src 'none'; style-src 'unsafe-inline'; img-src {_img_policy(remote_images)}"
    document = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="referrer" content="no-referrer">'
        f"<style>{DOCUMENT_STYLE}</style></head><body>{cleaned}</body></html>"
    )
    return SafeHtml(document, blocked)


def plain_preview(text: str, html: str) -> str:
    """The first words of a mail, from its text part or else its HTML with the tags taken out."""
    source = text or nh3.clean(html, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    flat = " ".join(source.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class MailSummary:
    """One line of a mail list."""

    id: int
    address: str
    sender: str
    subject: str
    preview: str
    created_at: str
    code: str
    attachments: int
    # The From header's display name (else its address) and its address, shown on hover.
    sender_name: str = ""
    sender_address: str = ""
    # A verification, sign-in or password-reset link found in the mail (when it has no code).
    link: str = ""
    seen: bool = False

    @classmethod
    def of(cls, row: dict[str, Any]) -> MailSummary:
        """From a row of `tempmail.inbound.views.parsed_rows` (what /api/parsed_mails returns);
        the code is found here, so mails stored before any metadata was written show it too."""
        subject, text, html = (str(row.get(key) or "") for key in ("subject", "text", "html"))
        found = extract(subject, text, html)
        sender = str(row.get("sender") or row.get("source") or "")
        name, address = parseaddr(sender)
        return cls(
            id=int(row["id"]),
            address=str(row.get("address") or ""),
            sender=sender,
            subject=subject,
            preview=plain_preview(text, html),
            created_at=str(row.get("created_at") or ""),
            code=found.result if found.type == "auth_code" else "",
            attachments=len(row.get("attachments") or []),
            sender_name=name or address or sender,
            sender_address=address,
            link=found.result if found.type == "auth_link" else "",
        )


async def mail_summaries(rows: Sequence[Any]) -> list[MailSummary]:
    """A page of mail rows as list lines, parsed off the event loop as the parsed-mail API does."""
    return await asyncio.to_thread(lambda: [MailSummary.of(parsed_row(row)) for row in rows])


@dataclass(frozen=True, slots=True)
class MailView:
    """Everything the reader shows of one mail."""

    id: int
    address: str
    source: str
    created_at: str
    sender: str
    to: str
    subject: str
    date: str
    text: str
    body: SafeHtml | None
    code: str
    attachments: list[Attachment] = field(default_factory=list)
    # A verification, sign-in or password-reset link (see `tempmail.inbound.codes`) and what
    # kind it is ("Sign-in link", ...).
    link: str = ""
    link_kind: str = ""


def _inline_images(raw: bytes, attachments: list[Attachment]) -> dict[str, str]:
    images = {}
    for index, item in enumerate(attachments):
        if item.content_id and item.mime_type.startswith("image/") and item.size <= MAX_INLINE_IMAGE:
            found = attachment_content(raw, index)
            if found is not None:
                encoded = base64.b64encode(found[1]).decode("ascii")
                images[item.content_id] = f"data:{item.mime_type};base64,{encoded}"
    return images


def _view(row: Any, remote_images: bool) -> MailView:
    raw = stored_raw(row)
    parsed = parse_mail(raw)
    body = None
    if parsed.html:
        body = safe_document(parsed.html, _inline_images(raw, parsed.attachments), remote_images)
    found = extract_from(parsed)
    return MailView(
        id=int(row.id),
        address=str(row.address or ""),
        source=str(row.source or ""),
        created_at=str(row.created_at or ""),
        sender=parsed.sender or str(row.source or ""),
        to=parsed.to,
        subject=parsed.subject,
        date=parsed.date,
        text=parsed.text,
        body=body,
        code=found.result if found.type == "auth_code" else "",
        attachments=parsed.attachments,
        link=found.result if found.type == "auth_link" else "",
        link_kind=found.result_text.partition(":")[0] if found.type == "auth_link" else "",
    )


async def mail_view(row: Any, remote_images: bool) -> MailView:
    """Parse off the event loop, as the parsed-mail API does: big mails must not stall SMTP."""
    return await asyncio.to_thread(_view, row, remote_images)


async def attachment_of(row: Any, index: int) -> tuple[Attachment, bytes] | None:
    return await asyncio.to_thread(attachment_content, stored_raw(row), index)


def reply_draft(original: MailView | None) -> dict[str, str]:
    """The compose form's starting values: empty, or an answer to `original` that quotes it."""
    if original is None:
        return {"to_mail": "", "to_name": "", "subject": "", "content": ""}
    name, mail = parseaddr(original.sender)
    subject = original.subject
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    body = original.text or plain_preview("", original.body.document if original.body else "")
    quoted = "\n".join(f"> {line}" for line in body.splitlines())
    when = original.date or original.created_at
    return {
        "to_mail": mail or original.source,
        "to_name": name,
        "subject": subject,
        "content": f"\n\n{when}, {original.sender}:\n{quoted}\n",
    }


def forward_draft(original: MailView) -> dict[str, str]:
    """The compose form's starting values to forward `original`: no recipient yet, "Fwd:" and
    the original's headers and text, quoted."""
    subject = original.subject
    if not subject.lower().startswith(("fwd:", "fw:")):
        subject = f"Fwd: {subject}"
    body = original.text or plain_preview("", original.body.document if original.body else "")
    headers = (
        ("From", original.sender),
        ("Date", original.date or original.created_at),
        ("Subject", original.subject),
        ("To", original.to or original.address),
    )
    quoted = "\n".join(f"> {line}" for line in [*(f"{k}: {v}" for k, v in headers), "", *body.splitlines()])
    return {
        "to_mail": "",
        "to_name": "",
        "subject": subject,
        "content": f"\n\n---------- Forwarded message ----------\n{quoted}\n",
    }


def sent_item(row: Any) -> dict[str, Any]:
    """A sendbox row with its stored JSON (`{from_name, to_mail, subject, content, ...}`) opened."""
    try:
        sent = json.loads(row.raw or "{}")
    except ValueError:
        sent = {}
    return {
        "id": row.id,
        "address": row.address,
        "created_at": row.created_at,
        **(sent if isinstance(sent, dict) else {}),
    }
