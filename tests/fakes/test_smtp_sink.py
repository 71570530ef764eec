"""Self-test: the SMTP sink must behave like a real relay towards a stock client (smtplib), or the
outgoing-mail tests built on it would prove nothing."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.fakes.smtp_sink import SmtpSink
from tests.support import self_signed_certificate

CLIENT = "client.test.example"


@pytest.fixture
def cert_files(tmp_path: Path) -> tuple[str, str]:
    """A throw-away self-signed certificate and key, as PEM paths."""
    return self_signed_certificate(tmp_path, "relay.test.example")


@pytest.fixture
def unverified() -> ssl.SSLContext:
    """The client side trusts the throw-away certificate blindly; only the encryption is under test."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.fixture
def plain_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def wire_message(subject: str = "hello") -> bytes:
    """A message with CRLF line ends, as smtplib sends bytes verbatim."""
    message = EmailMessage()
    message["From"] = "sender@test.example"
    message["To"] = "rcpt@test.example"
    message["Subject"] = subject
    message.set_content("body text\n")
    return message.as_bytes(policy=email.policy.SMTP)


def test_plain_delivery_is_recorded(plain_sink: SmtpSink) -> None:
    with smtplib.SMTP(plain_sink.host, plain_sink.port, local_hostname=CLIENT) as client:
        client.sendmail("sender@test.example", ["a@test.example", "b@test.example"], wire_message())

    [received] = plain_sink.wait_for(1)
    assert received.mail_from == "sender@test.example"
    assert received.rcpt_tos == ["a@test.example", "b@test.example"]
    assert received.message["Subject"] == "hello"
    assert received.message.get_content().rstrip() == "body text"
    assert b"Subject: hello" in received.data
    assert received.authenticated_as is None
    assert received.tls is False


def test_wait_for_times_out(plain_sink: SmtpSink) -> None:
    with pytest.raises(AssertionError, match="expected 1 message"):
        plain_sink.wait_for(1, timeout=0.2)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_is_required_and_checked(mechanism: str) -> None:
    with SmtpSink(auth=("relay-user", "relay-pass")) as sink:
        with smtplib.SMTP(sink.host, sink.port, local_hostname=CLIENT) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("sender@test.example", ["rcpt@test.example"], wire_message())
            assert refused.value.smtp_code == 530

            client.ehlo()
            client.esmtp_features["auth"] = mechanism  # make smtplib use this mechanism only
            with pytest.raises(smtplib.SMTPAuthenticationError) as denied:
                client.login("relay-user", "wrong")
            assert denied.value.smtp_code == 535

            client.login("relay-user", "relay-pass")
            client.sendmail("sender@test.example", ["rcpt@test.example"], wire_message())

        [received] = sink.wait_for(1)
        assert received.authenticated_as == "relay-user"


def test_starttls(cert_files: tuple[str, str], unverified: ssl.SSLContext) -> None:
    with SmtpSink(tls=cert_files, auth=("relay-user", "relay-pass")) as sink:
        with smtplib.SMTP(sink.host, sink.port, local_hostname=CLIENT) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=unverified)
            client.login("relay-user", "relay-pass")
            client.sendmail("sender@test.example", ["rcpt@test.example"], wire_message())

        [received] = sink.wait_for(1)
        assert received.tls is True
        assert received.authenticated_as == "relay-user"


def test_implicit_tls(cert_files: tuple[str, str], unverified: ssl.SSLContext) -> None:
    with SmtpSink(tls=cert_files, implicit_tls=True) as sink:
        with smtplib.SMTP_SSL(sink.host, sink.port, local_hostname=CLIENT, context=unverified) as client:
            assert not client.has_extn("starttls")
            client.sendmail("sender@test.example", ["rcpt@test.example"], wire_message())

        [received] = sink.wait_for(1)
        assert received.tls is True


def test_reject_code_refuses_data() -> None:
    with SmtpSink(reject_code=550) as sink:
        with (
            smtplib.SMTP(sink.host, sink.port, local_hostname=CLIENT) as client,
            pytest.raises(smtplib.SMTPDataError) as rejected,
        ):
            client.sendmail("sender@test.example", ["rcpt@test.example"], wire_message())
        assert rejected.value.smtp_code == 550
        assert rejected.value.smtp_error == b"rejected by test relay"
        assert sink.messages == []
