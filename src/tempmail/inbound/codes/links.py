"""Verification, confirmation, activation, sign-in and password-reset links.

Looked for only when a mail has no code. Candidates are the HTML anchors and the bare URLs of
every body; a link is reported when its anchor text or its URL talks about verifying, confirming,
activating, signing in or resetting a password (the text before it only supports that), and when
it carries a token: a verification link is always unique to the mail, a link without one is just
the site's login page. Unsubscribe, preferences, help and legal links and tracking pixels never
count, and a mail crowded with links (a newsletter, a shop mail) needs a stronger signal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from tempmail.inbound.codes.document import MAX_LINKS, Document, Lines, url_matches
from tempmail.inbound.codes.keywords import cjk, words

LINK_THRESHOLD = 4.0
_LINK_STRONG = re.compile(
    words(
        """
        verify | verification | confirm | confirmation | activate | activation | validate | magic link
        reset password | reset your password | password reset | set password | choose a new password
        create password | subscribe me | bestätigen | bestaetigen | verifizieren | aktivieren
        Passwort zurücksetzen | confirmer | confirmez | vérifier | vérifiez | activer | activez
        réinitialiser | confirmar | confirme | verificar | activar | ativar | validar | restablecer
        redefinir | подтвердить | подтвердите | активировать | сбросить пароль | восстановить
        восстановление пароля | новый пароль
        """
    )
    + "|"
    + cjk(
        """
        验证 | 驗證 | 确认 | 確認 | 激活 | 啟用 | 重置密码 | 重設密碼 | 找回密码 | 認証 | 有効化 | 本登録
        パスワード再設定 | パスワードをリセット | 인증 | 확인 | 활성화 | 비밀번호 재설정
        """
    ),
    re.IGNORECASE,
)
_LINK_SIGN_IN = re.compile(
    words("sign in | log in | anmelden | se connecter | iniciar sesión | войти")
    + "|"
    + cjk("登录 | 登入 | ログイン | 로그인"),
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
class LinkCandidate:
    """A URL of the mail with what surrounds it; `score` and `kind` are set by `_score_link`."""

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


def _score_link(link: LinkCandidate) -> float:
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


def _text_links(doc: Document, from_html: bool, base_order: int) -> list[LinkCandidate]:
    """Bare URLs in a text, with the line they sit on (or the line above) as their context."""
    lines = Lines(doc.text)
    found: list[LinkCandidate] = []
    for match in url_matches(doc.text):
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
        found.append(LinkCandidate(url, "", context[-160:], base_order + len(found), from_html))
        if len(found) >= MAX_LINKS:
            break
    return found


def find_link(docs: list[tuple[Document, bool]]) -> LinkCandidate | None:
    """The best-scored link of the bodies (each with whether it was HTML), if one is good enough."""
    candidates: list[LinkCandidate] = []
    for doc, is_html in docs:
        if is_html:
            for anchor in doc.anchors:
                context = doc.text[max(0, anchor.start - 160) : anchor.start]
                candidates.append(LinkCandidate(anchor.href, anchor.text, context, len(candidates), True))
        candidates.extend(_text_links(doc, is_html, len(candidates)))
    # Newsletters and shop mails link everywhere; a verification mail has a handful of links.
    crowded = len({link.url for link in candidates}) > 25
    best: LinkCandidate | None = None
    for link in candidates:
        link.score = _score_link(link) - (1.0 if crowded else 0.0)
        if link.score >= LINK_THRESHOLD and (best is None or link.score > best.score):
            best = link
    return best


def host(url: str) -> str:
    """What a link is labelled by: its host name (the whole URL if it has none)."""
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url
