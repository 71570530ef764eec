"""Find the one-time verification code or verification/sign-in link in a received mail.

A disposable inbox is mostly used to receive exactly one thing: a code to type or a link to
click. Showing that thing first saves the user from reading the mail. Everything here is local
heuristics (no network, no model), so it is cheap enough to run on every mail and safe to run
on hostile input.

How it works:

* The bodies are turned into plain text with a line structure (HTML: block elements become
  line breaks, table cells tabs) and the positions of emphasised HTML text (bold, headings,
  large font) are remembered, because services display the code big and bold.
* Codes: every number of 4-8 digits, every 5-10 character upper-case letter+digit token (5 for
  Steam Guard), every "123 456" / "123-456" / "AB12-CD34" pair and every "4 8 3 9 2 0" run of
  single digits (one per box or table cell) is a candidate. Candidates in hostile contexts
  (inside a URL, part of a date, price, phone number, tracking/order number, CSS colour, a longer
  number) are dropped; the rest are scored by how close a keyword in any of the supported
  languages is, whether the token stands alone on its line or is emphasised, and penalised for
  order/phone/address/copyright surroundings. A code is only reported when a keyword is near:
  precision matters more than recall, because a wrong "code" misleads the user.
* Links, only when no code was found: anchors and bare URLs whose anchor text, URL or
  surrounding line talk about verifying, confirming, activating, signing in or resetting a
  password, and which carry a token (a verification link is always unique to the mail).
  Unsubscribe/preferences/help links and tracking pixels are never reported.

`extract` never raises and only looks at the first ~100 KB of each body.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from tempmail.inbound.parse import ParsedMail

__all__ = ["Extracted", "extract"]

MAX_BODY_CHARS = 100_000
MAX_SUBJECT_CHARS = 2_000
MAX_CANDIDATES = 3_000
MAX_LINKS = 500
CODE_THRESHOLD = 3.0
LINK_THRESHOLD = 4.0


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a mail asks the user to do: type a code, click a link, or nothing."""

    type: str  # "auth_code" | "auth_link" | "none"
    result: str  # the code (e.g. "483920", "AB12-CD34") or the URL; "" for none
    result_text: str  # a short human label, e.g. "Verification code: 483920"


NOTHING = Extracted("none", "", "")


# --------------------------------------------------------------------------- keywords
# Latin/Cyrillic keywords must not be glued to other letters ("code" must not match inside
# "Bestellbestätigungscode" unless listed); CJK and Hangul have no word spaces, so no boundaries.
_LB = r"(?<![^\W\d_])"
_RB = r"(?![^\W\d_])"


def _phrases(block: str) -> list[str]:
    """Phrases written one block of text per language, separated by `|` or line breaks."""
    return [p.strip() for p in re.split(r"[|\n]", block) if p.strip()]


def _words(block: str) -> str:
    """Bounded alternation of word phrases; a space or hyphen in a phrase matches " ", "-" or nothing."""
    parts = [
        r"[\s\-]?".join(re.escape(piece) for piece in re.split(r"[\s\-]+", phrase))
        for phrase in _phrases(block)
    ]
    return _LB + "(?:" + "|".join(sorted(parts, key=len, reverse=True)) + ")" + _RB


def _cjk(block: str) -> str:
    """Alternation of CJK/Hangul phrases; a space in a phrase is optional (Korean spacing varies)."""
    parts = [r"\s?".join(re.escape(piece) for piece in phrase.split()) for phrase in _phrases(block)]
    return "(?:" + "|".join(sorted(parts, key=len, reverse=True)) + ")"


# Phrases that name a one-time code outright.
_STRONG_WORDS = """
    verification code | verify code | verification pin | security code | confirmation code | login code
    log in code | sign in code | one time code | one time passcode | one time password | one time pin
    OTP | passcode | 2FA code | two factor code | authentication code | auth code | access code
    Steam Guard code | temporary code | your code | your codes | recovery code | activation code
    validation code | Bestätigungscode | Bestaetigungscode | Sicherheitscode | Verifizierungscode
    Verifikationscode | Anmeldecode | Einmalcode | Einmalpasswort | Zugangscode | Prüfcode | Ihr Code
    Dein Code | code de vérification | code de verification | code de confirmation | code de sécurité
    code d'accès | code à usage unique | code de connexion | votre code | código de verificación
    código de verificacion | código de verificação | código de seguridad | código de segurança
    código de acceso | código de acesso | código de confirmación | código de confirmação
    código de validación | tu código | seu código | su código | codice di verifica | codice di sicurezza
    код подтверждения | проверочный код | код для входа | одноразовый код | код безопасности
    код доступа | код верификации | ваш код
    """
_STRONG_CJK = """
    验证码 | 驗證碼 | 校验码 | 校驗碼 | 动态码 | 動態碼 | 确认码 | 確認碼 | 认证码 | 認證碼
    安全码 | 动态密码 | 動態密碼 | 验证代码 | 登录码 | 校验代码
    認証コード | 確認コード | 認証番号 | ワンタイムパスワード | ワンタイム | セキュリティコード
    承認コード | 検証コード | ログインコード | パスコード | 確認番号
    인증번호 | 인증 번호 | 인증 코드 | 보안 코드 | 확인 코드 | 승인번호
    """
# Words that make a nearby number likely to be a code without naming it as such.
_WEAK_WORDS = """
    code | codes | PIN | verify | verification | confirm | confirmation | login | log in | sign in
    authenticate | authentication | 2FA | two factor | identity | bestätigen | Bestätigung | anmelden
    Anmeldung | einloggen | verifizieren | vérifier | vérification | confirmer | connexion
    se connecter | código | codigo | verificar | validar | confirmar | iniciar sesión | entrar | acceder
    код | подтвердить | подтверждения | вход | войти
    """
_WEAK_CJK = "代码 | 验证 | 驗證 | 登录 | 登入 | 登錄 | 校验 | コード | ログイン | 認証 | 코드 | 로그인 | 인증"
_WEAKEST_WORDS = "password | passwort | mot de passe | contraseña | senha | пароль"
_WEAKEST_CJK = "密码 | パスワード | 비밀번호"
# A "code" that is not a login code: promotions, postcodes, program code.
_NOT_AUTH_WORDS = """
    promo code | promotional code | coupon code | coupon | discount code | voucher code | gift code
    gift card | referral code | invite code | invitation code | zip code | postal code | post code
    postcode | area code | QR code | source code | code review | Gutscheincode | Gutschein | Rabattcode
    code promo | code de réduction | bon de réduction | código promocional | código de descuento
    cupón | cupom | промокод | купон
    """
_NOT_AUTH_CJK = "优惠码 | 优惠券 | 兑换码 | 邀请码 | 礼品卡 | クーポン | 招待コード | 쿠폰 | 할인 코드"
_KEYWORDS = {  # in the order they are tried at one position
    "strong": (_STRONG_WORDS, _STRONG_CJK),
    "not_auth": (_NOT_AUTH_WORDS, _NOT_AUTH_CJK),
    "weak": (_WEAK_WORDS, _WEAK_CJK),
    "weakest": (_WEAKEST_WORDS, _WEAKEST_CJK),
}
_KEYWORD_RE = re.compile(
    "|".join(f"(?P<{kind}>{_words(words)}|{_cjk(cjk)})" for kind, (words, cjk) in _KEYWORDS.items()),
    re.IGNORECASE,
)
_KEYWORD_WEIGHT = {"strong": 3.0, "weak": 2.0, "weakest": 1.0}

# The characters that `re.IGNORECASE` takes as equal to another beyond what `str.lower` maps
# (dotless i, long s, the Greek symbol variants, the old Cyrillic letter forms), each mapped to
# the one it equals, so that `_fold(a) == _fold(b)` wherever the pattern takes `a` for `b`.
_FOLD_FIXES = str.maketrans(
    # dotless i, long s, micro sign, iota subscript and Greek symbol forms
    "\u0131\u017f\u00b5\u0345\u1fbe\u03d0\u03f5\u03d1\u03f0\u03d6\u03f1\u03c2\u03d5"
    # old Cyrillic letter forms, long s with dot, the st ligature, Greek dialytika with tonos
    "\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85\u1c86\u1c87\u1c88\u1e9b\ufb05\u1fd3\u1fe3",
    "\u0069\u0073\u03bc\u03b9\u03b9\u03b2\u03b5\u03b8\u03ba\u03c0\u03c1\u03c3\u03c6"
    "\u0432\u0434\u043e\u0441\u0442\u0442\u044a\u0463\ua64b\u1e61\ufb06\u0390\u03b0",
)


def _fold(text: str) -> str:
    return text.lower().translate(_FOLD_FIXES)


def _prefilter(phrases: Iterable[Sequence[str]]) -> re.Pattern[str]:
    """A pattern that finds, in `_fold`ed text, every place one of `phrases` (each a sequence
    of regex units: escaped characters and optional separators) may begin.

    The patterns it stands in front of try a few hundred case-insensitive alternatives, each
    behind a word-boundary lookbehind, at every position of the text: about a millisecond per
    mail body. Here the phrases share their prefixes in one trie and need neither case folding
    nor boundaries, so the engine skips most positions by their first character. It matches
    wherever the real pattern does, and at some more places, which the real pattern rejects.
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for phrase in phrases:
        node = trie
        for unit in phrase:
            node = node.setdefault(unit, {})
        node[""] = {}

    def alternation(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        if "" in node:
            return ""  # a whole phrase ends here: enough to say one may begin
        branches = [unit + alternation(child) for unit, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(alternation(trie))


def _units(phrase: str, separators: str = "", gap: str = "") -> list[str]:
    """`phrase`, folded, as the units `_prefilter` takes; between pieces split at `separators`
    goes the optional `gap`."""
    pieces = re.split(separators, _fold(phrase)) if separators else [_fold(phrase)]
    units = [re.escape(char) for char in pieces[0]]
    for piece in pieces[1:]:
        units += [gap, *(re.escape(char) for char in piece)]
    return units


_KEYWORD_START_RE = _prefilter(
    [_units(phrase, r"[\s\-]+", r"[\s\-]?") for words, _ in _KEYWORDS.values() for phrase in _phrases(words)]
    + [_units(phrase, r"\s+", r"\s?") for _, cjk in _KEYWORDS.values() for phrase in _phrases(cjk)]
)

# Words right before a number that make it an identifier, amount, phone or address number.
_ID_CONTEXT_RE = re.compile(
    _words(
        """
        order | order number | order no | order id | invoice | receipt | tracking | tracking number
        reference | ref | booking | reservation | confirmation number | account | acct | ending in | ends in
        ending | card | member | customer | ticket | case | incident | flight | seat | room | suite | box
        unit | apt | floor | phone | tel | call | fax | hotline | mobile | ID | UID | Nº | HRB | HRA | ICP
        CNPJ | CPF | VAT | USt | SIRET | SIREN | CP | ZIP | version | release | build | issue | PR
        Bestellnummer | Rechnungsnummer | Kundennummer | Auftragsnummer | Sendungsnummer | Telefon
        Service-Nummer | Rechnung | commande | facture | numéro | téléphone | pedido | factura | teléfono
        telefone | заказ | номер | телефон | счёт | счет
        """
    )
    + "|"
    + _cjk(
        """
        订单 | 訂單 | 单号 | 單號 | 运单 | 運單 | 快递 | 尾号 | 尾號 | 卡号 | 电话 | 電話 | 客服 | 热线
        熱線 | 致电 | 邮编 | 郵編 | 编号 | 編號 | 工号 | 注文番号 | 受注番号 | お問い合わせ番号 | 伝票番号
        会員番号 | 〒 | 주문번호 | 송장번호 | 운송장 | 고객센터 | 사업자등록번호 | 전화 | 대표번호
        """
    )
    + r"|[#＃№]|(?<![^\W\d_])(?:No|Nr|Núm|Num)\.",
    re.IGNORECASE,
)
# Lines that are postal addresses or legal footers: every number on them is suspect.
_ADDRESS_WORDS = _phrases(
    """
    street | st. | avenue | ave | road | rd. | blvd | boulevard | parkway | lane | suite | floor
    po box | p.o. box | straße | strasse | str. | platz | allee | rue | quai | calle | avenida | av.
    rua | piso | plaza | ул. | улица | проспект | москва | copyright | all rights reserved | gmbh
    inc. | llc | ltd | corp. | corporation | amtsgericht | handelsregister
    """
)
_ADDRESS_MARKS = ["有限公司", "株式会社", "주식회사", "(주)", "〒", "版权所有", "版權所有", "©", "(c)"]
_ADDRESS_LINE_RE = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(word) for word in _ADDRESS_WORDS)
    + r")(?!\w)|"
    + "|".join(re.escape(mark) for mark in _ADDRESS_MARKS),
    re.IGNORECASE,
)
_ADDRESS_HINT_RE = _prefilter(_units(phrase) for phrase in [*_ADDRESS_WORDS, *_ADDRESS_MARKS])
_STATE_ZIP_RE = re.compile(r"\b[A-Z]{2},? [0-9]{5}(?:-[0-9]{4})?\b")
_CURRENCY_BEFORE = "$€£¥￥₩₽₹฿₫"
_CURRENCY_WORD_BEFORE_RE = re.compile(
    r"(?<![^\W\d_])(?:rs|inr|usd|eur|gbp|rmb|cny|jpy|krw|chf|r\$|us\$|hk\$)\.?$", re.IGNORECASE
)
_AFTER_UNIT_RE = re.compile(
    r"\s?(?:[年月日時时分秒号號元円원€%％$₽]|"
    r"(?:px|pt|em|ms|kg|km|mb|gb|tb|kb|mins?|minutes?|hours?|hrs?|days?|secs?|seconds?|lbs?|usd|eur|gbp|"
    r"cny|rmb|jpy|krw|rub|dollars?|euros?|yuan|yen|won|руб|мин|сек|ч)(?![^\W\d_])|"
    r"[人件个個名位回次点歳岁살개명층호室楼樓階]|р\.)",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"(?:19|20)[0-9]{2}")
_DATE8_RE = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_PRODUCT_RE = re.compile(r"[0-9]+(?:GB|MB|TB|KB|MP|MM|CM|HZ|KG|ML|K|P|W|V|X|G|FPS)")

_URL_RE = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)
# The lookbehind makes a match start only at the beginning of a run: no quadratic backtracking.
_EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_RUN_RE = re.compile(r"[A-Za-z0-9]+")
_RUN_TAIL_RE = re.compile(r"[A-Za-z0-9]{1,6}$")  # with endpos: the run that ends there
_DIGIT_RUN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]*[0-9][A-Za-z0-9]*")
_DIGIT_RE = re.compile(r"[0-9]")
# Digits shown one per box: "4 8 3 9 2 0", or one per table cell.
_SPACED_DIGITS_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][ \t])[0-9](?:[ \t]{1,2}[0-9]){3,7}(?![ \t]{0,2}[0-9A-Za-z])"
)


# --------------------------------------------------------------------------- HTML to text
_BLOCK_TAGS = frozenset(
    _phrases(
        "p|div|br|tr|li|ul|ol|h1|h2|h3|h4|h5|h6|table|tbody|thead|tfoot|center|hr|blockquote|pre|section|"
        "article|header|footer|dt|dd|dl|form|title|address|main|nav|aside|figure|figcaption"
    )
)
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset(_phrases("br|img|hr|meta|link|input|wbr|col|area|base|source|embed|param|track"))
_SKIP_TAGS = frozenset({"style", "script", "noscript", "template", "svg", "xml"})
_EMPH_TAGS = frozenset({"b", "strong", "h1", "h2", "h3"})
# Elements that may appear in <head>; any other start tag means the body has begun (as browsers do).
_HEAD_TAGS = frozenset(_phrases("html|head|title|meta|link|style|script|base|noscript|template"))
_LOOKS_HTML_RE = re.compile(r"<(?:!doctype|html|body|div|table|p|br)\b", re.IGNORECASE)
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
class _Anchor:
    href: str
    start: int  # offset of the anchor text in the derived text
    text: str = ""


@dataclass(slots=True)
class _Document:
    """Derived plain text of a body plus what the HTML said about it."""

    text: str
    emphasis: list[tuple[int, int]] = field(default_factory=list)  # sorted, non-overlapping-ish spans
    anchors: list[_Anchor] = field(default_factory=list)


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
        self.anchors: list[_Anchor] = []
        self.open_anchor: _Anchor | None = None
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
            self.open_anchor = _Anchor(href.strip(), self.length)
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


def _html_document(html: str) -> _Document:
    builder = _TextBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # the stdlib parser is lenient, but never let a broken body break extraction
        pass
    builder._close_anchor()
    return _Document("".join(builder.parts), builder.emphasis, builder.anchors)


def _text_document(text: str) -> _Document:
    normalized = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _Document(normalized.replace("\u00a0", " "))


# --------------------------------------------------------------------------- code candidates
@dataclass(slots=True)
class _Candidate:
    value: str  # as reported
    key: str  # for merging occurrences (separators removed, upper-cased)
    start: int
    end: int
    numeric: bool
    score: float = 0.0
    keyword: float = 0.0


class _Lines:
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
        """A postal address or legal footer line: every number on it is suspect."""
        if index not in self._address:
            line = self.line(index)
            self._address[index] = bool(
                (_may_match(_ADDRESS_HINT_RE, line) and _ADDRESS_LINE_RE.search(line))
                or _STATE_ZIP_RE.search(line)
            )
        return self._address[index]


def _blocked_spans(text: str) -> list[tuple[int, int]]:
    """URLs and e-mail addresses: numbers inside them are never codes."""
    spans = [m.span() for m in _URL_RE.finditer(text)] + [m.span() for m in _EMAIL_RE.finditer(text)]
    return sorted(spans)


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    index = bisect.bisect_right(spans, (start, 10**12)) - 1
    return any(s < end and start < e for s, e in spans[max(0, index - 2) : index + 2])


def _char(text: str, index: int) -> str:
    return text[index] if 0 <= index < len(text) else ""


def _hostile_neighbours(text: str, start: int, end: int, numeric: bool) -> bool:
    """True when the characters around a token make it part of something that is not a code."""
    before, after = _char(text, start - 1), _char(text, end)
    before2, after2 = _char(text, start - 2), _char(text, end + 1)
    if (before and before in "_#＃№+*/\\@=&?%.") or (after and after in "_*/\\@=%％"):
        return True  # #333333, +49 ..., 139****2046, /path/1234, a=1234, 1234%
    if (before and before in ".,:" and before2.isdigit()) or (after and after in ".,:" and after2.isdigit()):
        return True  # 1,250.00  14:32  203.0.113.42  18.236.120
    if (before and before in "-–" and before2.isalnum()) or (after and after in "-–" and after2.isalnum()):
        return True  # 2025-03-12  1-800-935-9935  SF-123  3F9A2C1E-0004
    if numeric and ((before == " " and before2.isdigit()) or (after == " " and after2.isdigit())):
        return True  # 4000 960 960, 0800 887 0463: a phone number or a long spaced id
    window = text[max(0, start - 5) : start].rstrip()
    if (window and window[-1] in _CURRENCY_BEFORE) or _CURRENCY_WORD_BEFORE_RE.search(window):
        return True  # $1299, ¥128, Rs. 5000, EUR 20
    if _AFTER_UNIT_RE.match(text, end):
        return True  # 2025年, 3000 ms, 1299 руб., 950 円
    return bool(re.match(r"\s?\.[0-9]", text[end : end + 3]))


def _pair_value(left: str, sep: str, right: str) -> tuple[str, bool] | None:
    """A code printed in two halves ("483 920", "123-456", "AB12-CD34"): (value, numeric) or None.

    Spaces are presentation and are dropped from the value; a dash is usually part of what the
    site accepts, so it is kept.
    """
    if left.isdigit() and right.isdigit():
        if len(left) == len(right) and (sep == " " or len(left) == 3):
            return (left + right if sep == " " else f"{left}-{right}"), True
        return None
    token = left + right
    if (
        sep == "-"
        and token.upper() == token
        and any(c.isdigit() for c in token)
        and sum(c.isalpha() for c in token) >= 2
        and 6 <= len(token) <= 10
    ):
        return f"{left}-{right}", False
    return None


def _single_kind(token: str) -> bool | None:
    """Whether a lone token can be a code: True numeric, False alphanumeric, None not a code.

    Alphanumeric codes must be upper case with at least one digit and two letters: that keeps
    out words, hex hashes, product names (128GB) and mixed-case URL tokens.
    """
    if token.isdigit():
        return True if 4 <= len(token) <= 8 else None
    if (
        5 <= len(token) <= 10
        and token.upper() == token
        and any(c.isdigit() for c in token)
        and sum(c.isalpha() for c in token) >= 2
        and not _PRODUCT_RE.fullmatch(token)
    ):
        return False
    return None


def _pairs(text: str, runs: list[re.Match[str]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Two runs of 3-5 characters with one space or dash between ("483 920", "AB12-CD34"), at
    least one of them among `runs` (the runs that hold a digit), in the order of the text."""
    pairs: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}
    for run in runs:
        start, end = run.span()
        if start >= 4 and text[start - 1] in " -":
            left = _RUN_TAIL_RE.search(text, max(0, start - 7), start - 1)
            # the whole run, not the tail of a longer one
            if left is not None and (left.start() == 0 or not _RUN_RE.match(text, left.start() - 1)):
                pairs[left.start()] = (left.span(), (start, end))
        if end < len(text) - 1 and text[end] in " -" and (right := _RUN_RE.match(text, end + 1)):
            pairs[start] = ((start, end), right.span())
    return [pairs[start] for start in sorted(pairs)]


def _code_candidates(text: str, blocked: list[tuple[int, int]]) -> list[_Candidate]:
    found: list[_Candidate] = []
    # Every candidate holds a digit: the runs that have one, and their neighbours (the other
    # half of a pair), are all that need a look. Most runs of a mail are words.
    runs = list(itertools.islice(_DIGIT_RUN_RE.finditer(text), MAX_CANDIDATES * 4))
    used: set[int] = set()
    # digits shown one per box ("4 8 3 9 2 0", one per table cell)
    for match in _SPACED_DIGITS_RE.finditer(text):
        start, end = match.span()
        if _inside(blocked, start, end) or _hostile_neighbours(text, start, end, True):
            continue
        value = re.sub(r"\s", "", match.group(0))
        found.append(_Candidate(value, value, start, end, True))
        used.update(range(start, end))
    for (start, middle), (right_start, end) in _pairs(text, runs):
        a, b = text[start:middle], text[right_start:end]
        if not (3 <= len(a) <= 5 and 3 <= len(b) <= 5):
            continue
        pair = _pair_value(a, text[middle], b)
        if pair is None or start in used:
            continue
        value, numeric = pair
        if _inside(blocked, start, end) or _hostile_neighbours(text, start, end, numeric):
            continue
        found.append(_Candidate(value, (a + b).upper(), start, end, numeric))
        used.update((start, right_start))
    for match in runs:
        if len(found) >= MAX_CANDIDATES:
            break
        token, start, end = match.group(0), match.start(), match.end()
        if start in used:
            continue
        kind = _single_kind(token)
        if kind is None or _inside(blocked, start, end) or _hostile_neighbours(text, start, end, kind):
            continue
        found.append(_Candidate(token, token, start, end, kind))
    return found


@dataclass(slots=True)
class _Keyword:
    start: int
    end: int
    weight: float
    negative: bool


def _may_match(hint: re.Pattern[str], text: str) -> bool:
    """Whether `hint`, a `_prefilter`, finds where its real pattern may match in `text`."""
    folded = _fold(text)
    return len(folded) != len(text) or hint.search(folded) is not None


def _keyword_matches(text: str) -> Iterator[re.Match[str]]:
    """What `_KEYWORD_RE.finditer(text)` yields, found several times faster: the trie of
    `_KEYWORD_START_RE` finds the next place a keyword may begin, `_KEYWORD_RE` decides there."""
    folded = _fold(text)
    if len(folded) != len(text):  # a few characters lower-case to two ("İ")
        yield from _KEYWORD_RE.finditer(text)
        return
    position = 0
    while (start := _KEYWORD_START_RE.search(folded, position)) is not None:
        match = _KEYWORD_RE.match(text, start.start())
        if match is None:
            position = start.start() + 1
        else:
            yield match
            position = match.end()


def _keywords(text: str) -> list[_Keyword]:
    found: list[_Keyword] = []
    for match in itertools.islice(_keyword_matches(text), 5_000):
        kind = match.lastgroup or "weak"
        found.append(_Keyword(match.start(), match.end(), _KEYWORD_WEIGHT.get(kind, 0.0), kind == "not_auth"))
    return found


def _keyword_score(
    cand: _Candidate, keywords: list[_Keyword], starts: list[int], lines: _Lines
) -> tuple[float, bool]:
    """Keyword support for a candidate, and whether a promo/postcode phrase governs it.

    Keywords before the code on its line count most ("Your code: 123456"), then keywords after
    it on the line ("123456 is your code"), then keywords on the few lines above ("Use this code:"
    with the code on a line of its own). A keyword right next to the code ("code is 1234",
    "1234 es tu código") is worth extra: that is how every code sentence is built.
    """
    text = lines.text
    line_no = lines.index(cand.start)
    first_line, seen = line_no, 0
    while first_line > 0 and seen < 3 and line_no - first_line < 20:
        first_line -= 1
        seen += not lines.blank(first_line)
    window_start = max(lines.starts[first_line], cand.start - 300)
    window_end = min(lines.bounds(line_no)[1], cand.end + 100)
    lo = bisect.bisect_left(starts, window_start)
    hi = bisect.bisect_right(starts, window_end)
    supports: list[float] = []
    nearest_before: _Keyword | None = None
    adjacent = False
    for kw in keywords[lo:hi]:
        kw_line = lines.index(kw.start)
        if kw.end <= cand.start:
            gap = cand.start - kw.end
            if kw_line == line_no:
                factor = max(0.0, 1.0 - gap / 150)
                adjacent |= not kw.negative and gap <= 12 and not _DIGIT_RE.search(text, kw.end, cand.start)
            else:
                above = sum(1 for i in range(kw_line + 1, line_no + 1) if not lines.blank(i))
                factor = max(0.0, 0.85 - 0.15 * (above - 1) - gap / 600)
            if nearest_before is None or kw.end > nearest_before.end:
                nearest_before = kw
        elif kw.start >= cand.end and kw_line == line_no:
            gap = kw.start - cand.end
            factor = max(0.0, 0.9 - gap / 150)
            adjacent |= not kw.negative and gap <= 20 and not _DIGIT_RE.search(text, cand.end, kw.start)
        else:
            continue
        if not kw.negative and factor > 0:
            supports.append(kw.weight * factor)
    governed_by_negative = (
        nearest_before is not None
        and nearest_before.negative
        and lines.index(nearest_before.start) == line_no
        and cand.start - nearest_before.end <= 40
    )
    if not supports:
        return 0.0, governed_by_negative
    supports.sort(reverse=True)
    bonus = supports[0] + 0.25 * sum(1 for s in supports[1:4] if s >= 0.8)
    if adjacent:
        bonus += 0.75
        if text[max(0, cand.start - 3) : cand.start].strip().endswith((":", "：")):
            bonus += 0.5  # "Code: 4821", a label and its value
    return bonus, governed_by_negative


def _in_emphasis(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    index = bisect.bisect_right(spans, (start, 10**12)) - 1
    return any(s <= start and end <= e for s, e in spans[max(0, index - 3) : index + 1])


def _layout_score(doc: _Document, cand: _Candidate, lines: _Lines) -> float:
    """How the code is presented: alone on its line, after a colon, emphasised."""
    text = doc.text
    line_start, line_end = lines.bounds(lines.index(cand.start))
    score = 0.0
    if line_end - line_start <= (cand.end - cand.start) + 16:
        bare = text[line_start:line_end].strip(" \t[]()【】「」<>:：-—–.,。!！*\"'")
        if bare == text[cand.start : cand.end]:
            score += 2.0  # the code alone on its line
    if not score and line_end - cand.end <= 4 and not text[cand.end : line_end].strip(" \t.。,)]】」!！"):
        score += 0.5  # "Label: code" ending the line
    if text[max(line_start, cand.start - 6) : cand.start].rstrip().endswith((":", "：")):
        score += 0.5
    if doc.emphasis and _in_emphasis(doc.emphasis, cand.start, cand.end):
        score += 1.5
    return score


def _format_score(cand: _Candidate) -> float:
    """Six digits is by far the most common code; four-digit years and yyyymmdd dates are not codes."""
    if not cand.numeric:
        return 0.5
    digits = cand.key
    score = {4: -0.5, 6: 1.0}.get(len(digits), 0.0)
    if len(digits) == 4 and _YEAR_RE.fullmatch(digits):
        score -= 3.0
    if len(digits) == 8 and _DATE8_RE.fullmatch(digits):
        score -= 2.0
    return score


def _context_penalty(text: str, cand: _Candidate, lines: _Lines) -> float:
    """Order/phone/account/legal-id words just before the number, or an address line."""
    line_no = lines.index(cand.start)
    line_start = lines.starts[line_no]
    context = text[max(line_start, cand.start - 28) : cand.start]
    penalty = 0.0
    matches = list(_ID_CONTEXT_RE.finditer(context))
    if matches and not _KEYWORD_RE.search(context, matches[-1].end()):
        penalty += 6.0
    if lines.address(line_no):
        penalty += 3.0
    return penalty


def _score_document(doc: _Document, *, is_subject: bool = False) -> list[_Candidate]:
    text = doc.text
    blocked = _blocked_spans(text)
    candidates = _code_candidates(text, blocked)
    if not candidates:
        return []
    keywords = _keywords(text)
    starts = [k.start for k in keywords]
    lines = _Lines(text)
    per_line = Counter(lines.index(c.start) for c in candidates)
    scored: list[_Candidate] = []
    for cand in candidates:
        keyword, negative = _keyword_score(cand, keywords, starts, lines)
        if keyword < 1.2:
            continue  # no keyword near: whatever this number is, nothing says it is a code
        score = keyword + _layout_score(doc, cand, lines) + _format_score(cand)
        line_no = lines.index(cand.start)
        line_start, line_end = lines.bounds(line_no)
        if is_subject or (per_line[line_no] == 1 and line_end - line_start <= 120 and keyword >= 1.5):
            score += 1.0  # a short line (or subject) about a code, with one number in it
        score -= _context_penalty(text, cand, lines) + (6.0 if negative else 0.0)
        cand.score, cand.keyword = score, keyword
        scored.append(cand)
    return scored


def _find_code(subject: str, docs: list[_Document]) -> _Candidate | None:
    subject_doc = _Document(" ".join(unicodedata.normalize("NFKC", subject).split()))
    subject_cands = _score_document(subject_doc, is_subject=True)
    in_subject = {c.key for c in _code_candidates(subject_doc.text, _blocked_spans(subject_doc.text))}
    body_cands = [c for doc in docs for c in _score_document(doc)]
    for cand in body_cands:
        if cand.key in in_subject:
            cand.score += 1.5  # the subject repeats what the body shows
    best: dict[str, _Candidate] = {}
    order: dict[str, int] = {}
    for cand in [*subject_cands, *body_cands]:
        order.setdefault(cand.key, len(order))
        if cand.key not in best or cand.score > best[cand.key].score:
            best[cand.key] = cand
    ranked = sorted(best.values(), key=lambda c: (-c.score, order[c.key]))
    if ranked and ranked[0].score >= CODE_THRESHOLD:
        return ranked[0]
    return None


# --------------------------------------------------------------------------- links
_LINK_STRONG = re.compile(
    _words(
        """
        verify | verification | confirm | confirmation | activate | activation | validate | magic link
        reset password | reset your password | password reset | set password | choose a new password
        create password | subscribe me | bestätigen | bestaetigen | verifizieren | aktivieren
        Passwort zurücksetzen | confirmer | confirmez | vérifier | vérifiez | activer | activez
        réinitialiser | confirmar | confirme | verificar | activar | ativar | validar | restablecer
        redefinir | подтвердить | подтвердите | активировать | сбросить пароль | восстановить
        """
    )
    + "|"
    + _cjk(
        """
        验证 | 驗證 | 确认 | 確認 | 激活 | 啟用 | 重置密码 | 重設密碼 | 找回密码 | 認証 | 有効化 | 本登録
        パスワード再設定 | パスワードをリセット | 인증 | 확인 | 활성화 | 비밀번호 재설정
        """
    ),
    re.IGNORECASE,
)
_LINK_SIGN_IN = re.compile(
    _words("sign in | log in | anmelden | se connecter | iniciar sesión | войти")
    + "|"
    + _cjk("登录 | 登入 | ログイン | 로그인"),
    re.IGNORECASE,
)
_URL_KEYWORDS = re.compile(
    r"verif|confirm|activat|validat|magic|sign[-_]?in|log[-_]?in|passwordless|"
    r"password[-_/]?reset|reset[-_/]?password|pwreset|bestaetig|bestatig|verifizier|aktivier|"
    r"subscribe/confirm|opt[-_]?in|email[-_]?confirm",
    re.IGNORECASE,
)
_LINK_NEGATIVE = re.compile(
    r"unsubscrib|opt[-_ ]?out|preference|email[-_ ]?settings|manage[-_ ]?(?:subscription|email)|privacy|"
    r"legal|terms|help|support|faq|contact|policy|policies|cookie|report|view[-_ ]?in[-_ ]?browser|"
    r"abbestell|abmelden|désabonner|desabonner|désinscri|darse de baja|cancelar suscripci|отписат|"
    r"退订|退訂|取消订阅|配信停止|수신거부|datenschutz|impressum|confidentialit|privacidad|"
    r"/open\b|/wf/open|track/open|open\.php|pixel|beacon|\.(?:png|jpe?g|gif|svg|webp)(?:$|\?)",
    re.IGNORECASE,
)
_PASSWORD_RE = re.compile(r"passw|contrase|mot de passe|密码|密碼|パスワード|비밀번호|пароль|pwreset", re.I)
_TOKENISH = re.compile(r"[A-Za-z0-9_\-.~%]{12,}")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


def _has_token(url: str) -> bool:
    """A random-looking component: what makes a link specific to this mail and this user."""
    try:
        parts = urlsplit(url)
        values = [v for _, v in parse_qsl(parts.query, keep_blank_values=True)]
    except ValueError:
        return False
    components = [*parts.path.split("/"), *values]
    for comp in components:
        if "://" in comp or comp.lower().startswith(("http", "www.")):
            continue
        for run in _TOKENISH.findall(comp):
            letters = sum(c.isalpha() for c in run)
            digits = sum(c.isdigit() for c in run)
            if letters >= 2 and digits >= 2 and len(run) >= 16:
                return True
            if _UUID_RE.fullmatch(run):
                return True
    return False


@dataclass(slots=True)
class _LinkCandidate:
    url: str
    anchor: str
    context: str
    order: int
    from_html: bool
    score: float = 0.0
    kind: str = "Verification link"


def _link_kind(*texts: str) -> str:
    joined = " ".join(texts)
    if _PASSWORD_RE.search(joined):
        return "Password reset link"
    if _LINK_SIGN_IN.search(joined) or re.search(r"magic|sign[-_]?in|log[-_]?in", joined, re.I):
        return "Sign-in link"
    return "Verification link"


def _score_link(link: _LinkCandidate) -> float:
    url = link.url
    if not url.lower().startswith(("http://", "https://")) or len(url) > 4_000:
        return 0.0
    try:
        parts = urlsplit(url)
    except ValueError:
        return 0.0
    if _LINK_NEGATIVE.search(link.anchor) or _LINK_NEGATIVE.search(parts.path):
        return 0.0
    if not _has_token(url):
        return 0.0
    query = parse_qsl(parts.query, keep_blank_values=True)
    url_text = parts.path + "?" + "&".join(k if len(v) > 30 or "://" in v else f"{k}={v}" for k, v in query)
    anchor_is_url = link.anchor.strip().lower().startswith(("http", "www."))
    anchor = "" if anchor_is_url else link.anchor
    # A button says "Verify email"; a long anchor is a headline that merely mentions verifying.
    button = len(anchor) <= 60 and len(anchor.split()) <= 10
    if _LINK_STRONG.search(anchor):
        anchor_signal = 3.0 if button else 1.0
    elif _LINK_SIGN_IN.search(anchor):
        anchor_signal = 2.0 if button else 1.0
    else:
        anchor_signal = 0.0
    url_signal = 3.0 if _URL_KEYWORDS.search(url_text) else 0.0
    context = link.context
    context_signal = 2.0 if _LINK_STRONG.search(context) else 1.5 if _LINK_SIGN_IN.search(context) else 0.0
    if anchor:
        # a labelled link is what its label or its URL says; the text around it only supports that
        if not anchor_signal and not url_signal:
            return 0.0  # "Check activity", "View order", "Read more"
        signals = sorted((anchor_signal, url_signal), reverse=True)
        score = signals[0] + 0.5 * (signals[1] > 0) + 0.5 * (context_signal > 0)
    else:
        signals = sorted((url_signal, context_signal), reverse=True)
        if not signals[0]:
            return 0.0
        score = signals[0] + 0.5 * (signals[1] > 0)
    score += 2.0  # the token, checked above
    if link.from_html:
        score += 0.3
    link.kind = _link_kind(anchor, url_text, link.context)
    return score


def _text_links(doc: _Document, from_html: bool, base_order: int) -> list[_LinkCandidate]:
    """Bare URLs in a text, with the line they sit on (or the line above) as their context."""
    lines = _Lines(doc.text)
    found: list[_LinkCandidate] = []
    for match in _URL_RE.finditer(doc.text):
        url = match.group(0).rstrip(".,;:!?)]}>'\"")
        if url.lower().startswith("www."):
            continue
        line_no = lines.index(match.start())
        line_start, _ = lines.bounds(line_no)
        context = doc.text[line_start : match.start()]
        probe = line_no
        while not context.strip(" \t<>:-") and probe > max(0, line_no - 5):
            probe -= 1
            context = lines.line(probe)
        found.append(_LinkCandidate(url, "", context[-160:], base_order + len(found), from_html))
        if len(found) >= MAX_LINKS:
            break
    return found


def _find_link(docs: list[tuple[_Document, bool]]) -> _LinkCandidate | None:
    candidates: list[_LinkCandidate] = []
    for doc, is_html in docs:
        if is_html:
            for anchor in doc.anchors:
                context = doc.text[max(0, anchor.start - 160) : anchor.start]
                candidates.append(_LinkCandidate(anchor.href, anchor.text, context, len(candidates), True))
        candidates.extend(_text_links(doc, is_html, len(candidates)))
    # Newsletters and shop mails link everywhere; a verification mail has a handful of links.
    crowded = len({link.url for link in candidates}) > 25
    best: _LinkCandidate | None = None
    for link in candidates:
        link.score = _score_link(link) - (1.0 if crowded else 0.0)
        if link.score >= LINK_THRESHOLD and (best is None or link.score > best.score):
            best = link
    return best


# --------------------------------------------------------------------------- entry point
def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


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
    docs: list[tuple[_Document, bool]] = []
    text, html = text[:MAX_BODY_CHARS], html[:MAX_BODY_CHARS]
    if not html.strip() and _LOOKS_HTML_RE.search(text[:2_000]):
        text, html = "", text  # some senders label their HTML as text/plain
    if text.strip():
        docs.append((_text_document(text), False))
    if html.strip():
        docs.append((_html_document(html), True))
    code = _find_code(subject, [doc for doc, _ in docs])
    if code is not None:
        return Extracted("auth_code", code.value, f"Verification code: {code.value}")
    link = _find_link(docs)
    if link is not None:
        return Extracted("auth_link", link.url, f"{link.kind}: {_host(link.url)}")
    return NOTHING
