"""A mail as a Telegram message: who sent it, its subject, the code found in it (in a `<code>`
element, which Telegram copies with one tap) and the start of its text, in the Bot API's HTML
(every piece of the mail escaped), well under the 4096 characters a message may hold.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass

from tempmail.inbound.codes import extract_from
from tempmail.inbound.metadata import Result
from tempmail.inbound.parse import ParsedMail, parse_mail
from tempmail.telegram_bot.texts import say

PREVIEW_CHARS = 800
SUBJECT_CHARS = 300


@dataclass(frozen=True, slots=True)
class MailFacts:
    """What a message shows of a mail."""

    sender: str
    subject: str
    found: Result | None
    preview: str


def _facts(raw: bytes, mail_from: str, found: Result | None) -> MailFacts:
    parsed: ParsedMail = parse_mail(raw)
    if found is None:
        extracted = extract_from(parsed)
        if extracted.type != "none" and extracted.result:
            found = {"type": extracted.type, "result": extracted.result, "result_text": extracted.result_text}
    preview = " ".join(parsed.text.split())
    return MailFacts(parsed.sender or mail_from, parsed.subject, found, preview)


async def mail_facts(raw: bytes, mail_from: str, found: Result | None) -> MailFacts:
    """Parse (off the loop) and, when the extraction left nothing, look for a code here."""
    return await asyncio.to_thread(_facts, raw, mail_from, found)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mail_message(lang: str, title: str, facts: MailFacts) -> str:
    """`title` (already in the user's language) and the mail, as Bot API HTML."""
    lines = [f"<b>{html.escape(title)}</b>"]
    lines.append(html.escape(say(lang, "From: {sender}", sender=facts.sender)))
    lines.append(html.escape(say(lang, "Subject: {subject}", subject=_cut(facts.subject, SUBJECT_CHARS))))
    if facts.found is not None:
        value = f"<code>{html.escape(facts.found['result'])}</code>"
        label = "Code: {code}" if facts.found["type"] == "auth_code" else "Link: {link}"
        lines.append(html.escape(say(lang, label, code="\0", link="\0")).replace("\0", value))
    if facts.preview:
        lines.append("")
        lines.append(html.escape(_cut(facts.preview, PREVIEW_CHARS)))
    return "\n".join(lines)
