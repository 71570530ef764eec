"""Find the one-time verification code or verification/sign-in link in a received mail.

A disposable inbox is mostly used to receive exactly one thing: a code to type or a link to
click. Showing that thing first saves the user from reading the mail. Everything here is local
heuristics (no network, no model), so it is cheap enough to run on every mail and safe to run
on hostile input.

How it works, in the order the strategies are tried:

* `document`: the bodies are turned into plain text with a line structure (HTML: block elements
  become line breaks, table cells tabs) and the positions of emphasised HTML text (bold,
  headings, large font) and of the anchors are remembered, because services display the code
  big and bold and put the link behind a button.
* Codes, from the subject and every body. Candidates: `delimited` finds codes printed in parts
  (every "123 456" / "123-456" / "AB12-CD34" pair and every "4 8 3 9 2 0" run of single digits,
  one per box or table cell), `standalone` every number of 4-8 digits and every 5-10 character
  upper-case letter+digit token (5 for Steam Guard) that is not part of one. `candidates` drops
  those in hostile contexts (inside a URL, part of a date, price, phone number, CSS colour, a
  longer number). `scoring` scores the rest by how close a keyword in any of the supported
  languages (`keywords`) is, whether the token stands alone on its line or after a label's
  colon or is emphasised, and penalises order/phone/tracking/address/copyright surroundings. A
  code is only reported when a keyword is near: precision matters more than recall, because a
  wrong "code" misleads the user.
* `links`, only when no code was found: anchors and bare URLs whose anchor text, URL or
  surrounding line talk about verifying, confirming, activating, signing in or resetting a
  password, and which carry a token (a verification link is always unique to the mail).
  Unsubscribe/preferences/help links and tracking pixels are never reported.

`extract` never raises and only looks at the first ~100 KB of each body. The package imports
nothing of tempmail but `tempmail.inbound.parse` (for `ParsedMail`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tempmail.inbound.codes.document import LOOKS_HTML_RE, Document, html_document, text_document
from tempmail.inbound.codes.links import find_link, host
from tempmail.inbound.codes.scoring import find_code
from tempmail.inbound.parse import ParsedMail

__all__ = ["NOTHING", "Extracted", "extract", "extract_from"]

MAX_BODY_CHARS = 100_000
MAX_SUBJECT_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a mail asks the user to do: type a code, click a link, or nothing."""

    type: str  # "auth_code" | "auth_link" | "none"
    result: str  # the code (e.g. "483920", "AB12-CD34") or the URL; "" for none
    result_text: str  # a short human label, e.g. "Verification code: 483920"


NOTHING = Extracted("none", "", "")


def extract(subject: str, text: str, html: str) -> Extracted:
    """The likely one-time code (preferred) or verification link of a mail, else "none".

    Never raises: a mail that cannot be understood simply has nothing to extract.
    """
    try:
        return _extract(subject or "", text or "", html or "")
    except Exception:  # hostile input must never break mail delivery or the API
        return NOTHING


def extract_from(parsed: ParsedMail) -> Extracted:
    """`extract` on a parsed mail's subject and bodies."""
    return extract(parsed.subject, parsed.text, parsed.html)


def _extract(subject: str, text: str, html: str) -> Extracted:
    subject = subject[:MAX_SUBJECT_CHARS]
    docs: list[tuple[Document, bool]] = []
    text, html = text[:MAX_BODY_CHARS], html[:MAX_BODY_CHARS]
    if not html.strip() and LOOKS_HTML_RE.search(text[:2_000]):
        text, html = "", text  # some senders label their HTML as text/plain
    if text.strip():
        docs.append((text_document(text), False))
    if html.strip():
        docs.append((html_document(html), True))
    code = find_code(subject, [doc for doc, _ in docs])
    if code is not None:
        return Extracted("auth_code", code.value, f"Verification code: {code.value}")
    link = find_link(docs)
    if link is not None:
        return Extracted("auth_link", link.url, f"{link.kind}: {host(link.url)}")
    return NOTHING
