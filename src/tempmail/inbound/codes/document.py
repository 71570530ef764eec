"""A mail body as the extractor reads it: plain text with a line structure, plus what HTML said.

Codes and links are found in one representation for text and HTML bodies alike. HTML block
elements become line breaks and table cells tabs, so "alone on its line" means the same in both;
the spans of emphasised text (bold, headings, large or heavy font) and the anchors (href and
text, at their offset in the text) are remembered, because services show the code big and bold
and put the link behind a button. `Lines` answers the line questions the scorers ask.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tempmail.inbound.codes.keywords import address_line, phrases

MAX_LINKS = 500
URL_RE = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)


def url_matches(text: str) -> Iterator[re.Match[str]]:
    """`URL_RE`'s matches in `text`. A text with neither `://` nor `www.` (most of a mail) has
    none, which a substring search finds out far faster than the pattern tried at every
    position (half a millisecond on 10 KB)."""
    if "://" not in text and "www." not in text.lower():
        return iter(())
    return URL_RE.finditer(text)


_BLOCK_TAGS = frozenset(
    phrases(
        "p|div|br|tr|li|ul|ol|h1|h2|h3|h4|h5|h6|table|tbody|thead|tfoot|center|hr|blockquote|pre|section|"
        "article|header|footer|dt|dd|dl|form|title|address|main|nav|aside|figure|figcaption"
    )
)
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset(phrases("br|img|hr|meta|link|input|wbr|col|area|base|source|embed|param|track"))
_SKIP_TAGS = frozenset({"style", "script", "noscript", "template", "svg", "xml"})
_EMPH_TAGS = frozenset({"b", "strong", "h1", "h2", "h3"})
# Elements that may appear in <head>; any other start tag means the body has begun (as browsers do).
_HEAD_TAGS = frozenset(phrases("html|head|title|meta|link|style|script|base|noscript|template"))
LOOKS_HTML_RE = re.compile(r"<(?:!doctype|html|body|div|table|p|br)\b", re.IGNORECASE)
_FONT_SIZE_RE = re.compile(r"font-size\s*:\s*([0-9.]+)\s*(px|pt|em|rem|%)?", re.IGNORECASE)
_FONT_WEIGHT_RE = re.compile(r"font-weight\s*:\s*(bold|bolder|[6-9]00)", re.IGNORECASE)
_SPACE_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def _emphasised(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Bold, heading or large text: how services show the code they want you to type."""
    if tag in _EMPH_TAGS:
        return True
    for name, value in attrs:
        if not value:
            continue
        if name == "style":
            if _FONT_WEIGHT_RE.search(value):
                return True
            for size, unit in _FONT_SIZE_RE.findall(value):
                try:
                    number = float(size)
                except ValueError:
                    continue
                unit = unit.lower()
                if (
                    (unit in ("", "px") and number >= 20)
                    or (unit == "pt" and number >= 15)
                    or (unit in ("em", "rem") and number >= 1.3)
                    or (unit == "%" and number >= 130)
                ):
                    return True
        elif name == "size" and tag == "font" and value.strip().lstrip("+").isdigit():
            return int(value.strip().lstrip("+")) >= 5
    return False


@dataclass(slots=True)
class Anchor:
    href: str
    start: int  # offset of the anchor text in the derived text
    text: str = ""


@dataclass(slots=True)
class Document:
    """Derived plain text of a body plus what the HTML said about it."""

    text: str
    emphasis: list[tuple[int, int]] = field(default_factory=list)  # sorted, non-overlapping-ish spans
    anchors: list[Anchor] = field(default_factory=list)


class _TextBuilder(HTMLParser):
    """HTML -> text with line structure, emphasised spans and anchors; tolerant of tag soup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, bool]] = []
        self.emphasised_open = 0  # how many entries of `stack` are emphasised
        self.skip: list[str] = []
        self.in_head = False
        self.emphasis: list[tuple[int, int]] = []
        self.anchors: list[Anchor] = []
        self.open_anchor: Anchor | None = None
        self.anchor_parts: list[str] = []

    def _emit(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.length += len(chunk)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self._emit("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
        elif tag not in _HEAD_TAGS:
            self.in_head = False
        if tag in _SKIP_TAGS:
            self.skip.append(tag)
            return
        if tag in _BLOCK_TAGS:
            self._newline()
        elif tag in _CELL_TAGS:
            self._emit("\t")
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), "")
            self._close_anchor()
            self.open_anchor = Anchor(href.strip(), self.length)
            self.anchor_parts = []
        if tag not in _VOID_TAGS and len(self.stack) < 512:
            emphasised = _emphasised(tag, attrs)
            self.stack.append((tag, emphasised))
            self.emphasised_open += emphasised

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag in _BLOCK_TAGS:
            self._newline()
        if tag == "a":
            self._close_anchor()
        for index in range(len(self.stack) - 1, max(-1, len(self.stack) - 64), -1):
            if self.stack[index][0] == tag:
                self.emphasised_open -= sum(emph for _, emph in self.stack[index:])
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self.skip or self.in_head:
            return
        chunk = _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", data))
        if not chunk or (chunk == " " and (not self.parts or self.parts[-1][-1:] in " \n\t")):
            return
        start = self.length
        self._emit(chunk)
        if self.open_anchor is not None:
            self.anchor_parts.append(chunk)
        if self.emphasised_open:
            self.emphasis.append((start, self.length))

    def _close_anchor(self) -> None:
        if self.open_anchor is not None:
            self.open_anchor.text = " ".join("".join(self.anchor_parts).split())
            if self.open_anchor.href and len(self.anchors) < MAX_LINKS:
                self.anchors.append(self.open_anchor)
            self.open_anchor = None
            self.anchor_parts = []


def html_document(html: str) -> Document:
    builder = _TextBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # the stdlib parser is lenient, but never let a broken body break extraction
        pass
    builder._close_anchor()
    return Document("".join(builder.parts), builder.emphasis, builder.anchors)


def text_document(text: str) -> Document:
    normalized = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return Document(normalized.replace("\u00a0", " "))


class Lines:
    """Line lookup for a text: which line an offset is on, and whether a line is blank."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._blank: dict[int, bool] = {}
        self._address: dict[int, bool] = {}

    def index(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def bounds(self, index: int) -> tuple[int, int]:
        start = self.starts[index]
        end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.text)
        return start, end

    def line(self, index: int) -> str:
        start, end = self.bounds(index)
        return self.text[start:end]

    def blank(self, index: int) -> bool:
        if index not in self._blank:
            start, end = self.bounds(index)
            self._blank[index] = not self.text[start:end].strip(" \t-—–_=*|·•.")
        return self._blank[index]

    def address(self, index: int) -> bool:
        """Whether line `index` is a postal address or legal footer (`address_line`), asked once."""
        if index not in self._address:
            self._address[index] = address_line(self.line(index))
        return self._address[index]
