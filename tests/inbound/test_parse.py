"""MIME parsing: the fields the API shows, and never an exception on broken mail."""

from __future__ import annotations

import random
from email.headerregistry import ContentTypeHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from tempmail.inbound.parse import POLICY, Attachment, attachment_content, parse_mail


def build(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    for name, value in {"From": "Alice <alice@example.com>", "To": "bob@test.example", **headers}.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_plain_text() -> None:
    msg = build(Subject="Hello")
    msg.set_content("Just text\nsecond line")
    parsed = parse_mail(msg.as_bytes(policy=SMTP))
    assert (parsed.sender, parsed.to, parsed.subject) == (
        "Alice <alice@example.com>",
        "bob@test.example",
        "Hello",
    )
    assert parsed.text == "Just text\nsecond line\n"
    assert (parsed.html, parsed.attachments) == ("", [])


def test_html_only() -> None:
    msg = build(Subject="html")
    msg.set_content("<p>Hi <b>there</b></p>", subtype="html")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.text == ""
    assert parsed.html == "<p>Hi <b>there</b></p>\n"


def test_alternative_and_pdf_attachment() -> None:
    msg = build(Subject="report")
    msg.set_content("text version")
    msg.add_alternative("<p>html version</p>", subtype="html")
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 10
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="report.pdf")
    raw = msg.as_bytes(policy=SMTP)
    parsed = parse_mail(raw)
    assert parsed.text == "text version\n"
    assert parsed.html == "<p>html version</p>\n"
    assert parsed.attachments == [Attachment("report.pdf", "application/pdf", "attachment", len(pdf), "")]
    assert parsed.api_fields()["attachments"] == [
        {
            "filename": "report.pdf",
            "mimeType": "application/pdf",
            "disposition": "attachment",
            "size": len(pdf),
        }
    ]
    found = attachment_content(raw, 0)
    assert found is not None and found[1] == pdf
    assert attachment_content(raw, 1) is None
    assert attachment_content(raw, -1) is None


def test_inline_image_in_related() -> None:
    msg = build(Subject="logo")
    msg.set_content("<img src='cid:logo1'>", subtype="html")
    msg.add_related(b"\x89PNG....", maintype="image", subtype="png", cid="<logo1>")
    (image,) = parse_mail(msg.as_bytes()).attachments
    assert (image.mime_type, image.disposition, image.content_id, image.size) == (
        "image/png",
        "inline",
        "logo1",
        8,
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?b?5rWL6K+V?=", "测试"),
        ("=?gb2312?b?suLK1A==?=", "测试"),
        ("=?gbk?b?suLK1A==?=", "测试"),
        ("=?iso-8859-1?q?caf=E9?=", "café"),
        ("=?unknown-charset?q?abc?=", "abc"),
    ],
)
def test_encoded_subjects(header: str, expected: str) -> None:
    raw = f"From: a@b.c\r\nSubject: {header}\r\n\r\nx".encode()
    assert parse_mail(raw).subject == expected


def test_broken_encoded_word_degrades() -> None:
    assert isinstance(parse_mail(b"Subject: =?utf-8?b?!!!broken?=\r\n\r\nx").subject, str)


def test_encoded_sender_and_rfc2231_filename() -> None:
    raw = (
        b"From: =?utf-8?b?5byg5LiJ?= <zhang@example.cn>\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n'
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.txt\r\n\r\nabc\r\n--b--\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.sender == "张三 <zhang@example.cn>"
    assert parsed.attachments[0].filename == "报告.txt"


def test_raw_utf8_headers() -> None:
    raw = "From: 李四 <li@例子.cn>\r\nSubject: 你好，世界\r\n\r\n正文\r\n".encode()
    parsed = parse_mail(raw)
    assert parsed.subject == "你好，世界"
    assert parsed.sender.startswith("李四")
    assert parsed.text == "正文\n"


def test_eight_bit_latin1_header_and_body_without_charset() -> None:
    parsed = parse_mail(b"Subject: caf\xe9 cr\xe8me\r\n\r\nGr\xfc\xdfe\r\n")
    assert parsed.subject == "café crème"
    assert parsed.text == "Grüße\n"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain; charset=x-unknown-foo", b"caf\xc3\xa9", "café"),
        ("text/plain; charset=utf-8", b"caf\xe9", "café"),
        ("text/plain; charset=iso-8859-1", b"caf\xe9", "café"),
        ("text/plain; charset=gb2312", "中文".encode("gb2312"), "中文"),
    ],
)
def test_charsets(content_type: str, body: bytes, expected: str) -> None:
    raw = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode() + body
    assert parse_mail(raw).text == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"no headers at all, just a line",
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\nplain text, no parts\r\n',
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nunclosed\r\n",
        b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nno boundary parameter\r\n",
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ soft=\r\n",
        b"Subject: =?utf-8?q?unterminated\r\nFrom: <<<>>>@@@\r\nTo: ,,,;;\r\n\r\nx",
        b'Content-Type: text/plain; charset="\r\n\r\nempty charset',
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body",
        b'Content-Disposition: attachment; filename="\r\nContent-Type: application/x\r\n\r\ndata',
    ],
)
def test_broken_mail_never_raises(raw: bytes) -> None:
    parse_mail(raw).api_fields()
    attachment_content(raw, 0)


def test_undecodable_base64_body_degrades() -> None:
    text = parse_mail(b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@\r\n").text
    assert isinstance(text, str)


def test_binary_garbage() -> None:
    rng = random.Random(7)
    for _ in range(50):
        parse_mail(bytes(rng.randrange(256) for _ in range(rng.randrange(2000)))).api_fields()


def test_mutations_of_a_valid_multipart_never_raise() -> None:
    msg = build(Subject="=?utf-8?q?Gr=C3=BC=C3=9Fe?=")
    msg.set_content("text")
    msg.add_alternative("<p>html</p>", subtype="html")
    msg.add_attachment(b"x" * 500, maintype="application", subtype="zip", filename="a.zip")
    original = msg.as_bytes(policy=SMTP)
    rng = random.Random(1234)
    for _ in range(200):
        mutated = bytearray(original)
        for _ in range(rng.randrange(1, 30)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cut = bytes(mutated[: rng.randrange(len(mutated) + 1)])
        parse_mail(cut).api_fields()
        attachment_content(cut, 0)


def test_deep_nesting() -> None:
    depth = 60
    raw = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode() for i in range(depth)
    )
    raw += b"Content-Type: text/plain\r\n\r\ndeep inside\r\n"
    assert parse_mail(raw).text.strip() == "deep inside"


def test_message_rfc822_attachment() -> None:
    inner = build(Subject="inner")
    inner.set_content("inner body")
    outer = build(Subject="outer")
    outer.set_content("see attached")
    outer.add_attachment(inner)
    parsed = parse_mail(outer.as_bytes(policy=SMTP))
    assert parsed.text == "see attached\n"
    (attached,) = parsed.attachments
    assert attached.mime_type == "message/rfc822"
    assert attached.size > 0


def test_single_part_binary_mail() -> None:
    raw = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
    parsed = parse_mail(raw)
    assert (parsed.text, parsed.html) == ("", "")
    assert parsed.attachments == [Attachment("", "application/pdf", "attachment", 4, "")]


def test_five_megabyte_attachment_size_is_exact() -> None:
    msg = build(Subject="big")
    msg.set_content("see file")
    data = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename="big.bin")
    (attachment,) = parse_mail(msg.as_bytes(policy=SMTP)).attachments
    assert attachment.size == len(data)


def test_structure_headers_are_parsed_once_per_value() -> None:
    factory = POLICY.header_factory
    assert isinstance(factory, HeaderRegistry)
    first = factory("Content-Type", 'text/plain; charset="utf-8"')
    assert factory("Content-Type", 'text/plain; charset="utf-8"') is first
    assert isinstance(first, ContentTypeHeader)
    assert first.params["charset"] == "utf-8"
    assert factory("Content-Type", "text/html") == "text/html"
    assert factory("Subject", "Hi") is not factory("Subject", "Hi")
    assert factory["Subject"] is factory["subject"]
    assert factory("X-Anything", "=?utf-8?q?caf=C3=A9?=") == "café"


def test_mails_sharing_structure_headers_parse_alike() -> None:
    mails = [
        f"From: a@x.example\r\nSubject: {n}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="utf-8"\r\n\r\nbody {n}\r\n'.encode()
        for n in range(3)
    ]
    parsed = [parse_mail(raw) for raw in mails]
    assert [(p.subject, p.text) for p in parsed] == [(str(n), f"body {n}\n") for n in range(3)]
