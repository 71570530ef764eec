"""Verification code / link extraction: a measured corpus of real-looking mails plus tricky cases.

The corpus of whole messages (tests/inbound/codes/eml/*.eml, answers in expected.json) is scored
for precision (of the answers given, how many are right) and recall (of the mails that have an
answer, how many were found exactly); run with `pytest -s` to see the numbers. The mails written
as data, one test per mail, are in test_cases.py.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter

import pytest

from tempmail.inbound.codes import Extracted, extract, keywords
from tests.inbound.codes.corpus import EML, Mail, Tally, case_mails, eml_expected, eml_mails, load_mail

EXPECTED = eml_expected()
MIN_PRECISION = 0.9
MIN_RECALL = 0.85


# --------------------------------------------------------------------------- corpus
def test_corpus_matches_expected_file() -> None:
    files = {p.name for p in EML.glob("*.eml")}
    assert files == set(EXPECTED), "every .eml needs an answer in expected.json and vice versa"
    assert len(files) >= 40
    kinds = Counter(answer["type"] for answer in EXPECTED.values())
    assert set(kinds) <= {"auth_code", "auth_link", "none"}
    assert kinds["auth_link"] >= 6 and kinds["none"] >= 8
    for answer in EXPECTED.values():
        assert (answer["result"] == "") == (answer["type"] == "none")


def test_corpus_precision_and_recall() -> None:
    tally = Tally()
    for mail in eml_mails():
        got = extract(mail.subject, mail.text, mail.html)
        tally.add(mail, got.type, got.result)
    print(
        f"verification codes: precision {tally.precision:.2%} recall {tally.recall:.2%}, {tally.mails} mails"
    )
    report = "\n".join(tally.misses) or "(no misses)"
    assert tally.precision >= MIN_PRECISION, f"precision {tally.precision:.2%}; misses:\n{report}"
    assert tally.recall >= MIN_RECALL, f"recall {tally.recall:.2%}; misses:\n{report}"


def test_corpus_mails_are_quick() -> None:
    started = time.perf_counter()
    for name in EXPECTED:
        extract(*load_mail(name))
    assert time.perf_counter() - started < 5.0


# --------------------------------------------------------------------------- codes: positives
@pytest.mark.parametrize(
    ("subject", "text", "code"),
    [
        ("", "Your verification code is 482913.", "482913"),
        ("", "Your one-time code is 71940528. It expires in 10 minutes.", "71940528"),
        ("", "Use 2843107 as your Microsoft account security code.", "2843107"),
        ("", "Your code is 1234.", "1234"),
        ("", "Your OTP for the transaction of Rs. 5000 is 482913. Do not share it.", "482913"),
        ("", "您的验证码是１２３４５６，请在5分钟内输入。", "123456"),
        ("", "您的校验码是：582031\n客服热线 95188", "582031"),
        ("", "確認コード：830264\n〒106-6118 東京都港区六本木6-10-1", "830264"),
        ("", "인증번호는 739201입니다.", "739201"),
        ("", "Ihr Code: 4821. Vielen Dank für Ihre Bestellung Nr. 48291034 vom 12.03.2025.", "4821"),
        ("", "Voici votre code de vérification : 618203", "618203"),
        ("", "Tu código de verificación es 746201", "746201"),
        ("", "Ваш код подтверждения: 573019\n119021, Москва, ул. Льва Толстого, 16", "573019"),
        ("", "Here is the Steam Guard code you need to login:\n\nF4K9R\n", "F4K9R"),
    ],
)
def test_code_in_many_languages(subject: str, text: str, code: str) -> None:
    result = extract(subject, text, "")
    assert (result.type, result.result) == ("auth_code", code)
    assert result.result_text == f"Verification code: {code}"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Your login code: 483 920", "483920"),
        ("Enter this code to continue:\n\n4821 9375\n", "48219375"),
        ("Your security code is 4 8 3 9 2 0.", "483920"),
        ("Slack confirmation code:\n\nQ7X-4RK\n", "Q7X-4RK"),
        ("Your verification code: AB12-CD34", "AB12-CD34"),
    ],
)
def test_code_split_in_two(text: str, code: str) -> None:
    """Spaces are only presentation (dropped); a dash is part of the code (kept)."""
    assert extract("", text, "").result == code


def test_code_in_subject_only() -> None:
    result = extract("Your code is 482913", "Thanks for signing up! Welcome aboard.", "")
    assert (result.type, result.result) == ("auth_code", "482913")
    assert extract("482913 is your Instagram code", "", "").result == "482913"


def test_html_only_code_with_emphasis_and_tables() -> None:
    html = """<html><head><style>.c{color:#333333;font-size:12px}</style><title>Verify 2025</title></head>
    <body><table><tr><td style="color:#333333">Use this code to finish setting up:</td></tr>
    <tr><td><div style="font-size:36px;color:#202124">739201</div></td></tr>
    <tr><td style="font-size:11px">&copy; 2025 Google LLC, 1600 Amphitheatre Parkway,
    Mountain View, CA 94043</td></tr>
    </table></body></html>"""
    assert extract("", "", html).result == "739201"


def test_digits_one_per_table_cell() -> None:
    html = "<p>Your code:</p><table><tr>" + "".join(f"<td>{d}</td>" for d in "483920") + "</tr></table>"
    assert extract("", "", html).result == "483920"


def test_html_labelled_as_text_plain() -> None:
    body = "<html><body><p>Your verification code:</p><p><b>654321</b></p></body></html>"
    assert extract("", body, "").result == "654321"


def test_unclosed_head_does_not_hide_the_body() -> None:
    html = "<html><head><title>Hi</title><p>Your verification code is <b>123456</b>"
    assert extract("", "", html).result == "123456"


def test_code_preferred_over_reset_link() -> None:
    html = (
        "<p>Use the following code to confirm your identity:</p><p style='font-size:32px'>307518</p>"
        '<p>If this was not you, <a href="https://ig.example/accounts/password/reset/?uidb36=4l0ay7'
        '&amp;token=BQ3-8a2f1c0e9d7b6a54">reset your password</a>.</p>'
    )
    assert extract("", "", html).result == "307518"


def test_best_of_several_numbers_wins() -> None:
    text = (
        "We received a request to verify a transaction of $1,250.00 at BESTBUY #1042 on 03/11/2025 "
        "using your card ending in 4821.\n\nYour one-time code is 71940528\n\n"
        "If you didn't request this code, call us at 1-800-935-9935."
    )
    assert extract("", text, "").result == "71940528"


# --------------------------------------------------------------------------- codes: false positives
@pytest.mark.parametrize(
    "text",
    [
        # years and dates
        "Please verify your account. Copyright © 2024 Example Inc. All rights reserved.",
        "Your verification code was sent on 2025-03-12.",
        "Verification code requested on 12.03.2025 and 03/14/2025.",
        "Login from Berlin on March 8, 2024 at 14:02 UTC.",
        # times
        "Your code expires at 10:45:00 on 12/03/2025.",
        "Login window: 0830-1730 daily.",
        # prices and amounts
        "Confirm your payment of $1299 for order confirmation.",
        "Please confirm: total 1 299,00 € or ¥4800 or 1299 元 or 3,980円 or 2500 руб.",
        "Verify the transfer of USD 5000 to your account.",
        # phone numbers
        "Call +1 415-890-5404 to verify your account.",
        "Verification hotline: 4000 960 960",
        "如有疑问请致电京东客服 950618，请勿泄露验证码。",
        "To sign in, call us at +49 30 12345678 or (555) 123-4567.",
        # order / invoice / tracking / reference numbers
        "Order #482913 confirmed.",
        "Your order 4829103 has been confirmed. Total: $25.00",
        "Invoice No. 48291034 - please confirm receipt.",
        "Tracking number: 1Z999AA10123456784. Confirm delivery address.",
        "Reference: AB12CD34. Please confirm your booking.",
        "Your confirmation number is 48291034.",
        "订单号：283749 已确认，请登录查看。",
        # zip codes / addresses
        "Verify your address: 1600 Amphitheatre Parkway, Mountain View, CA 94043",
        "Bitte bestätigen Sie Ihre Adresse: Musterstraße 12, 80331 München",
        # numbers inside URLs and e-mail addresses
        "Verify here: https://example.com/verify/482913?ref=2025",
        "Sign in as user482913@example.com to continue.",
        # long numbers
        "Your verification code reference 1234567890123 is logged.",
        "Login ID 98765432109",
        # promo codes and other non-auth codes
        "Use promo code SAVE2024 at checkout to get 20% off!",
        "Use coupon code SPRING25X for free shipping.",
        "Enter ZIP code 90210 to verify delivery.",
        # numbers with units
        "The retry after 3000 ms in the login code path is fixed.",
        "Code review: 1200 lines changed.",
        # meeting invites
        "Join by phone (US) +1 929-205-4821 PIN: 728 193 645#",
        "Meeting ID: 845 2910 4821 Passcode required to sign in",
    ],
)
def test_no_false_code(text: str) -> None:
    result = extract("", text, "")
    assert result.type != "auth_code", result


def test_css_colours_are_not_codes() -> None:
    html = (
        "<style>.a{color:#333333}.b{background:#ffffff}</style>"
        '<p style="color:#222222">Your verification code</p><p>#333333</p>'
        '<p style="color:#123456">#123456</p>'
    )
    assert extract("", "", html).type != "auth_code"


def test_no_keyword_no_code() -> None:
    assert extract("Hello", "The meeting is in room 482913 at 10am.", "") == Extracted("none", "", "")


# --------------------------------------------------------------------------- links
def test_plain_text_link() -> None:
    url = "https://app.example.com/verify-email?token=9f8e7d6c5b4a3f2e1d0c"
    result = extract("Confirm your e-mail", f"Hi! Please verify your email by clicking\n{url}\n", "")
    assert (result.type, result.result) == ("auth_link", url)
    assert result.result_text == "Verification link: app.example.com"


def test_html_anchor_preferred_and_unescaped() -> None:
    url = "https://medium.com/m/callback/email?token=a8c1e7f2b94d0e3c5a6b&operation=login&state=medium"
    html = (
        '<p>Click to sign in.</p><a href="https://medium.com/">Medium</a>'
        f'<a href="{url.replace("&", "&amp;")}">Sign in to Medium</a>'
        '<a href="https://medium.com/me/email-settings?unsubscribe=all&amp;u=abcdef1234567890abcd">Unsubscribe</a>'
        '<img src="https://medium.com/_/stat?event=email.opened&amp;id=abcdef1234567890abcd" width="1">'
    )
    result = extract("Sign in to Medium", "", html)
    assert (result.type, result.result) == ("auth_link", url)
    assert result.result_text.startswith("Sign-in link")


def test_password_reset_link_with_token_wins_over_generic_one() -> None:
    url = "https://github.com/password_reset/1f3c5e7a9b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a"
    text = (
        f"Use the following link to reset your password:\n\n{url}\n\n"
        "To get a new password reset link, visit: https://github.com/password_reset\n"
    )
    result = extract("[GitHub] Please reset your password", text, "")
    assert (result.type, result.result) == ("auth_link", url)
    assert result.result_text == "Password reset link: github.com"


@pytest.mark.parametrize(
    ("subject", "text", "html"),
    [
        # unsubscribe / preference links and tracking pixels carry tokens but are never the answer
        (
            "News",
            "",
            '<a href="https://x.example/unsubscribe?u=abcdef1234567890abcd">Unsubscribe</a>'
            '<img src="https://x.example/open?u=abcdef1234567890abcd" width="1" height="1">',
        ),
        ("News", "", '<a href="https://x.example/prefs?u=abcdef1234567890abcd">Manage email preferences</a>'),
        # a sign-in link without a token is just the login page
        ("Welcome!", "Sign in any time at https://example.com/login", ""),
        ("Statement", "To view your statement, sign in:\nhttps://secure.example.com/web/auth/dashboard", ""),
        # a labelled link about something else, even with "sign-in" nearby and a token
        (
            "Security alert",
            "",
            "<p>We noticed a new sign-in to your account.</p>"
            '<a href="https://accounts.example.com/activity?id=ab12cd34ef56ab78cd90">Check activity</a>',
        ),
        # a newsletter headline that mentions verifying is not a verify button
        (
            "This week in security",
            "",
            "<p>This week: how to verify your identity online.</p>"
            '<h2><a href="https://click.news.example/ls/click?upn=abc123def456ghi789jkl012">'
            "How we verify millions of accounts every day without slowing anyone down</a></h2>"
            '<a href="https://click.news.example/ls/click?upn=abc123def456ghi789jkl013">Read more</a>',
        ),
    ],
)
def test_no_false_link(subject: str, text: str, html: str) -> None:
    assert extract(subject, text, html).type == "none"


# --------------------------------------------------------------------------- robustness
@pytest.mark.parametrize(
    ("subject", "text", "html"),
    [
        ("", "Your verification code: 123456 " * 20_000, ""),
        ("", " ".join(str(n) for n in range(1_000, 60_000)), ""),
        ("", "a" * 500_000 + "@", ""),
        ("", "", "<div>" * 200_000 + "code 123456" + "</div>" * 200_000),
        ("", "", '<a href="https://x.example/verify?token=abcdef1234567890abcdef">Verify</a>' * 30_000),
        ("", "\n" * 1_000_000 + "code 123456", ""),
        ("code 123456 " * 100_000, "", ""),
        ("", "code " + " ".join("1" * 300_000), ""),
    ],
    ids=["code-spam", "number-spam", "long-run", "deep-html", "link-spam", "newlines", "subject", "digits"],
)
def test_huge_input_returns_quickly(subject: str, text: str, html: str) -> None:
    started = time.perf_counter()
    result = extract(subject, text, html)
    assert time.perf_counter() - started < 2.0
    assert result.type in {"auth_code", "auth_link", "none"}


def test_garbage_never_raises() -> None:
    rng = random.Random(7)
    samples = [
        "",
        "\x00" * 1000,
        "\udcff\ud800 code 123456",
        "<" * 10_000,
        "<a href='" * 5_000,
        "<![CDATA[" + "&#" * 5_000,
        "<p style='font-size:999999999999999999999999px'>code 123456</p>",
        "<font size='+99999999999999999999'>code 123456</font>",
        "https://" + "%" * 10_000,
        "http://[::1" + "a" * 100,
    ]
    samples += [bytes(rng.randrange(256) for _ in range(20_000)).decode("latin-1") for _ in range(5)]
    for sample in samples:
        for args in ((sample, "", ""), ("", sample, ""), ("", "", sample), (sample, sample, sample)):
            result = extract(*args)
            assert result.type in {"auth_code", "auth_link", "none"}


def test_none_inputs_do_not_raise() -> None:
    assert extract(None, None, None) == Extracted("none", "", "")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the fast scans
# They stand in front of case-insensitive patterns and must find everything those find.
def _phrase_characters() -> set[str]:
    blocks = [block for pair in keywords._KEYWORDS.values() for block in pair]
    phrases = [
        *(p for block in blocks for p in keywords.phrases(block)),
        *keywords._ADDRESS_WORDS,
        *keywords._ADDRESS_MARKS,
    ]
    return {char for phrase in phrases for char in phrase}


def test_folding_equals_what_ignorecase_equates() -> None:
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for char in _phrase_characters():
        for equal in re.findall(re.escape(char), everything, re.IGNORECASE):
            # A character that folds to two ("İ") sends the whole text down the slow path.
            assert len(keywords._fold(equal)) > 1 or keywords._fold(equal) == keywords._fold(char), (
                char,
                equal,
            )


@pytest.mark.parametrize("mail", [*eml_mails(), *case_mails()], ids=lambda mail: mail.name)
def test_keyword_scan_finds_what_the_pattern_finds(mail: Mail) -> None:
    for body in (mail.subject, mail.text, mail.html):
        expected = [(m.span(), m.lastgroup) for m in keywords.KEYWORD_RE.finditer(body)]
        assert [(m.span(), m.lastgroup) for m in keywords._keyword_matches(body)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Your VERIFICATION CODE is 123456",
        "verification-code: 1234, or verificationcode",
        "barcode 1234 xcode review Ihr Code",  # keywords glued to other letters do not count
        "Your verifıcation code (dotless i) and ſecurity code (long s): 483920",
        "İstanbul: Ihr Code 483920",  # "İ" lower-cases to two characters: the slow path
        "验证码：483920；인증 번호 123456",
    ],
)
def test_keyword_scan_matches_the_pattern_on_tricky_text(text: str) -> None:
    expected = [(m.span(), m.lastgroup) for m in keywords.KEYWORD_RE.finditer(text)]
    assert [(m.span(), m.lastgroup) for m in keywords._keyword_matches(text)] == expected
    assert expected


def test_address_hint_agrees_with_the_pattern() -> None:
    lines = ["1 Main Street", "MAIN STREET 5", "Streets 4", "© 2024 ACME GmbH", "ſtreet 9", "Your code 1234"]
    for line in lines:
        if keywords._ADDRESS_LINE_RE.search(line):
            assert keywords._may_match(keywords._ADDRESS_HINT_RE, line), line
