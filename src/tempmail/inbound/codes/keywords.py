"""The words of every supported language that make a number a code, or not, and how they are found.

The keyword tables are grouped by strength ("verification code" names a code outright, "login"
only makes one likely, "password" barely) plus the phrases that name a code which is not for
logging in (promo codes, postcodes). Words that make a number an identifier (order, phone,
account numbers) and the words of postal-address and legal-footer lines are here too: all of it is
per-language vocabulary. Every keyword pattern is case-insensitive and, for scripts with word
spaces, bounded; a trie prefilter on folded text finds where a match may begin, so the costly
pattern is tried only there.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

# Latin/Cyrillic keywords must not be glued to other letters ("code" must not match inside
# "Bestellbestätigungscode" unless listed); CJK and Hangul have no word spaces, so no boundaries.
_LB = r"(?<![^\W\d_])"
_RB = r"(?![^\W\d_])"


def phrases(block: str) -> list[str]:
    """Phrases written one block of text per language, separated by `|` or line breaks."""
    return [p.strip() for p in re.split(r"[|\n]", block) if p.strip()]


def words(block: str) -> str:
    """Bounded alternation of word phrases; a space or hyphen in a phrase matches " ", "-" or nothing."""
    parts = [
        r"[\s\-]?".join(re.escape(piece) for piece in re.split(r"[\s\-]+", phrase))
        for phrase in phrases(block)
    ]
    return _LB + "(?:" + "|".join(sorted(parts, key=len, reverse=True)) + ")" + _RB


def cjk(block: str) -> str:
    """Alternation of CJK/Hangul phrases; a space in a phrase is optional (Korean spacing varies)."""
    parts = [r"\s?".join(re.escape(piece) for piece in phrase.split()) for phrase in phrases(block)]
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
# A "code" that is not a login code: promotions, referrals, postcodes, program code, meetings.
_NOT_AUTH_WORDS = """
    promo code | promotional code | coupon code | coupon | discount code | voucher code | gift code
    gift card | referral code | invite code | invitation code | zip code | postal code | post code
    postcode | area code | QR code | source code | code review | Gutscheincode | Gutschein | Rabattcode
    code promo | code de réduction | bon de réduction | código promocional | código de descuento
    cupón | cupom | промокод | купон | parrainage | indicação
    """
_NOT_AUTH_CJK = """
    优惠码 | 优惠券 | 兑换码 | 邀请码 | 礼品卡 | 会议密码
    クーポンコード | クーポン | 招待コード | 쿠폰 | 할인 코드 | 초대 코드
    """
_KEYWORDS = {  # in the order they are tried at one position
    "strong": (_STRONG_WORDS, _STRONG_CJK),
    "not_auth": (_NOT_AUTH_WORDS, _NOT_AUTH_CJK),
    "weak": (_WEAK_WORDS, _WEAK_CJK),
    "weakest": (_WEAKEST_WORDS, _WEAKEST_CJK),
}
KEYWORD_RE = re.compile(
    "|".join(f"(?P<{kind}>{words(latin)}|{cjk(eastern)})" for kind, (latin, eastern) in _KEYWORDS.items()),
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


def _prefilter(phrase_units: Iterable[Sequence[str]]) -> re.Pattern[str]:
    """A pattern that finds, in `_fold`ed text, every place one of `phrase_units` (each a sequence
    of regex units: escaped characters and optional separators) may begin.

    The patterns it stands in front of try a few hundred case-insensitive alternatives, each
    behind a word-boundary lookbehind, at every position of the text: about a millisecond per
    mail body. Here the phrases share their prefixes in one trie and need neither case folding
    nor boundaries, so the engine skips most positions by their first character. It matches
    wherever the real pattern does, and at some more places, which the real pattern rejects.
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for phrase in phrase_units:
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
    [_units(phrase, r"[\s\-]+", r"[\s\-]?") for latin, _ in _KEYWORDS.values() for phrase in phrases(latin)]
    + [_units(phrase, r"\s+", r"\s?") for _, eastern in _KEYWORDS.values() for phrase in phrases(eastern)]
)

# Words right before a number that make it an identifier, amount, phone or address number.
ID_CONTEXT_RE = re.compile(
    words(
        """
        order | order number | order no | order id | invoice | receipt | tracking | tracking number
        reference | ref | booking | reservation | confirmation number | account | acct | ending in | ends in
        ending | card | member | customer | ticket | case | incident | flight | seat | room | suite | box
        unit | apt | floor | phone | tel | call | fax | hotline | mobile | ID | UID | Nº | HRB | HRA | ICP
        CNPJ | CPF | VAT | USt | SIRET | SIREN | CP | ZIP | version | release | build | issue | PR
        Bestellnummer | Rechnungsnummer | Kundennummer | Auftragsnummer | Sendungsnummer | Telefon
        Service-Nummer | Rechnung | commande | facture | numéro | téléphone | pedido | factura | teléfono
        reserva | telefone | заказ | номер | телефон | счёт | счет
        """
    )
    + "|"
    + cjk(
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
_ADDRESS_WORDS = phrases(
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


def address_line(line: str) -> bool:
    """A postal address or legal footer line: every number on it is suspect."""
    return bool(
        (_may_match(_ADDRESS_HINT_RE, line) and _ADDRESS_LINE_RE.search(line)) or _STATE_ZIP_RE.search(line)
    )


@dataclass(slots=True)
class Keyword:
    start: int
    end: int
    weight: float
    negative: bool


def _may_match(hint: re.Pattern[str], text: str) -> bool:
    """Whether `hint`, a `_prefilter`, finds where its real pattern may match in `text`."""
    folded = _fold(text)
    return len(folded) != len(text) or hint.search(folded) is not None


def _keyword_matches(text: str) -> Iterator[re.Match[str]]:
    """What `KEYWORD_RE.finditer(text)` yields, found several times faster: the trie of
    `_KEYWORD_START_RE` finds the next place a keyword may begin, `KEYWORD_RE` decides there."""
    folded = _fold(text)
    if len(folded) != len(text):  # a few characters lower-case to two ("İ")
        yield from KEYWORD_RE.finditer(text)
        return
    position = 0
    while (start := _KEYWORD_START_RE.search(folded, position)) is not None:
        match = KEYWORD_RE.match(text, start.start())
        if match is None:
            position = start.start() + 1
        else:
            yield match
            position = match.end()


def keywords_in(text: str) -> list[Keyword]:
    """The keywords of `text` in order, each with its weight (promo/postcode phrases: negative)."""
    found: list[Keyword] = []
    for match in itertools.islice(_keyword_matches(text), 5_000):
        kind = match.lastgroup or "weak"
        found.append(Keyword(match.start(), match.end(), _KEYWORD_WEIGHT.get(kind, 0.0), kind == "not_auth"))
    return found
