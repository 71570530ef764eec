"""SMTP submission with a real client (smtplib) against the real server, on SQLite and
PostgreSQL: logins (JWT, password, wrong), TLS (STARTTLS and from the first byte, on a
certificate made here), and sending through the API's path to a real relay, into the sent box,
with the API's refusals as 5xx and nothing charged for them."""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.compat.sending_support import recording_relay, relay_env
from tests.conftest import ServerFactory
from tests.fakes.http_receiver import HttpReceiver
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server, free_port

# Submission ports per backend: the servers of both backends may run at once.
_PORTS: dict[str, tuple[int, int]] = {}


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    yield from recording_relay()


@pytest.fixture(scope="module")
def ports(backend: str) -> tuple[int, int]:
    return _PORTS.setdefault(backend, (free_port(), free_port()))


def submission_env(ports: tuple[int, int], tls_files: tuple[str, str], **extra: str) -> dict[str, str]:
    return {
        "SUBMISSION_LISTEN": f"127.0.0.1:{ports[0]}",
        "SUBMISSION_TLS_LISTEN": f"127.0.0.1:{ports[1]}",
        "TLS_CERT_FILE": tls_files[0],
        "TLS_KEY_FILE": tls_files[1],
        **extra,
    }


@pytest.fixture
def server(
    make_server: ServerFactory, sink: SmtpSink, ports: tuple[int, int], tls_files: tuple[str, str]
) -> Server:
    env = relay_env(sink, TITLE="submission", DEFAULT_SEND_BALANCE="10")
    return make_server(**env, **submission_env(ports, tls_files))


def trusting(tls_files: tuple[str, str]) -> ssl.SSLContext:
    """A client context that trusts the test certificate (and only it). The certificate names
    mx.test.example and the client dials 127.0.0.1, so the name is not compared."""
    context = ssl.create_default_context(cafile=tls_files[0])
    context.check_hostname = False
    return context


def starttls_client(port: int, tls_files: tuple[str, str]) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    client.starttls(context=trusting(tls_files))
    return client


def message(
    sender: str, to: str, subject: str | None = None, body: str = "Hello from Thunderbird"
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Alice <{sender}>"
    mail["To"] = to
    mail["Subject"] = subject or f"submitted {uuid.uuid4().hex[:8]}"
    mail.set_content(body)
    return mail


def sendbox(server: Server, jwt: str) -> list[dict[str, object]]:
    rows = server.with_jwt("GET", "/api/sendbox?limit=20&offset=0", jwt).json()["results"]
    return [json.loads(row["raw"]) for row in rows]


def balance(server: Server, jwt: str) -> int:
    return int(server.with_jwt("GET", "/api/settings", jwt).json()["send_balance"])


def test_jwt_login_sends_through_the_relay_into_the_sendbox(
    server: Server, sink: SmtpSink, ports: tuple[int, int], tls_files: tuple[str, str]
) -> None:
    address = server.new_address()
    mail = message(address["address"], "Bob <bob@remote.example>")
    before = len(sink.messages)
    with starttls_client(ports[0], tls_files) as client:
        client.login(address["address"], address["jwt"])
        refused = client.send_message(mail, to_addrs=["bob@remote.example", "carol@remote.example"])
    assert refused == {}
    received = sink.wait_for(before + 1)[before]
    assert received.mail_from == address["address"]
    assert received.rcpt_tos == ["bob@remote.example", "carol@remote.example"]
    assert received.message["Subject"] == mail["Subject"]
    assert received.message["Message-ID"] and received.message["Date"]
    assert received.message.get_content().strip() == "Hello from Thunderbird"
    # Two recipients, two API sends' worth.
    assert balance(server, address["jwt"]) == 8
    [record] = sendbox(server, address["jwt"])
    assert record == {
        "version": "v2",
        "from_name": "Alice",
        "to_mail": "bob@remote.example, carol@remote.example",
        "to_name": "",
        "subject": mail["Subject"],
        "content": "Hello from Thunderbird\n",
        "is_html": False,
        "geoData": {"ip": "127.0.0.1"},
    }


def test_password_login_with_plain_and_login(
    server: Server, sink: SmtpSink, ports: tuple[int, int], tls_files: tuple[str, str]
) -> None:
    address = server.new_address()
    # The web UI sends the SHA-256 of what its user typed; a mail client sends the text.
    digest = hashlib.sha256(b"s3cret pass").hexdigest()
    changed = server.with_jwt(
        "POST", "/api/address_change_password", address["jwt"], json={"new_password": digest}
    )
    assert changed.status_code == 200, changed.text
    for mechanism in ("PLAIN", "LOGIN"):
        with starttls_client(ports[0], tls_files) as client:
            client.ehlo()
            client.user, client.password = address["address"], "s3cret pass"
            code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
            assert code == 235
            client.send_message(message(address["address"], "bob@remote.example", subject=f"via {mechanism}"))
    subjects = [row["subject"] for row in sendbox(server, address["jwt"])]
    assert subjects == ["via LOGIN", "via PLAIN"]


def test_wrong_password_is_535(server: Server, ports: tuple[int, int], tls_files: tuple[str, str]) -> None:
    address = server.new_address()
    with (
        starttls_client(ports[0], tls_files) as client,
        pytest.raises(smtplib.SMTPAuthenticationError) as refused,
    ):
        client.login(address["address"], "not the password")
    assert refused.value.smtp_code == 535
    assert refused.value.smtp_error == b"5.7.8 Authentication credentials invalid"
    # Another address's JWT is no credential of this one.
    other = server.new_address()
    with starttls_client(ports[0], tls_files) as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(address["address"], other["jwt"])


def test_no_login_before_tls_and_no_mail_before_login(server: Server, ports: tuple[int, int]) -> None:
    address = server.new_address()
    with smtplib.SMTP("127.0.0.1", ports[0], timeout=30) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        code, answer = client.docmd("AUTH", "PLAIN " + "AGEAYg==")
        assert code == 538, answer
        code, answer = client.mail(address["address"])
        assert (code, answer) == (530, b"5.7.0 Authentication required")


def test_mail_from_must_be_the_login(
    server: Server, ports: tuple[int, int], tls_files: tuple[str, str]
) -> None:
    address, other = server.new_address(), server.new_address()
    with starttls_client(ports[0], tls_files) as client:
        client.login(address["address"], address["jwt"])
        code, answer = client.mail(other["address"])
        assert code == 550
        assert address["address"].encode() in answer
        # The From header too: the API writes it, here the client does.
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(
                address["address"],
                ["bob@remote.example"],
                message(other["address"], "bob@remote.example").as_bytes(),
            )
        assert refused.value.smtp_code == 550
    assert sendbox(server, address["jwt"]) == []


def test_implicit_tls_port(
    server: Server, sink: SmtpSink, ports: tuple[int, int], tls_files: tuple[str, str]
) -> None:
    address = server.new_address()
    before = len(sink.messages)
    with smtplib.SMTP_SSL("127.0.0.1", ports[1], timeout=30, context=trusting(tls_files)) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        client.login(address["address"], address["jwt"])
        client.send_message(message(address["address"], "bob@remote.example", subject="over implicit TLS"))
    assert sink.wait_for(before + 1)[before].message["Subject"] == "over implicit TLS"
    assert [row["subject"] for row in sendbox(server, address["jwt"])] == ["over implicit TLS"]


def test_open_api_settings_shows_the_submission_port(server: Server, ports: tuple[int, int]) -> None:
    proxy = server.client.get("/open_api/settings").json()["smtpImapProxyConfig"]
    assert proxy["smtp"] == {"host": "mx.test.example", "port": ports[0], "starttls": True}


def test_refusals_are_the_apis_texts_and_cost_nothing(
    make_server: ServerFactory, sink: SmtpSink, tls_files: tuple[str, str]
) -> None:
    """No send access (no default balance): 550 with the API's text; plaintext logins allowed
    on this server (SUBMISSION_ALLOW_PLAINTEXT), and no certificate needed then."""
    port = free_port()
    server = make_server(
        **relay_env(sink, TITLE="submission-refusals"),
        SUBMISSION_LISTEN=f"127.0.0.1:{port}",
        SUBMISSION_ALLOW_PLAINTEXT="true",
    )
    address = server.new_address()
    before = len(sink.messages)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        client.login(address["address"], address["jwt"])
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(message(address["address"], "bob@remote.example"))
    assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 No balance")
    api = server.with_jwt(
        "POST",
        "/api/send_mail",
        address["jwt"],
        json={"to_mail": "bob@remote.example", "subject": "s", "content": "c"},
    )
    assert api.status_code == 400 and "No balance" in api.text
    assert len(sink.messages) == before
    assert sendbox(server, address["jwt"]) == []
    # Granted access, a blocked recipient is the API's refusal too.
    server.admin(
        "POST",
        "/admin/account_settings",
        json={"blockList": [], "sendBlockList": ["blocked.example"], "verifiedAddressList": []},
    )
    row = server.admin("GET", f"/admin/address_sender?limit=10&offset=0&address={address['address']}").json()
    if not row["results"]:
        assert server.with_jwt("POST", "/api/request_send_mail_access", address["jwt"]).status_code == 200
        row = server.admin(
            "GET", f"/admin/address_sender?limit=10&offset=0&address={address['address']}"
        ).json()
    sender_id = row["results"][0]["id"]
    granted = server.admin(
        "POST",
        "/admin/address_sender",
        json={"address": address["address"], "address_id": sender_id, "balance": 3, "enabled": True},
    )
    assert granted.status_code == 200, granted.text
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.login(address["address"], address["jwt"])
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(message(address["address"], "x@blocked.example"))
        assert (refused.value.smtp_code, refused.value.smtp_error) == (550, b"5.7.1 Address is blocked")
        client.send_message(message(address["address"], "bob@remote.example", subject="granted"))
    assert balance(server, address["jwt"]) == 2
    server.admin(
        "POST",
        "/admin/account_settings",
        json={"blockList": [], "sendBlockList": [], "verifiedAddressList": []},
    )


def test_a_relay_refusal_is_451_and_refunded(make_server: ServerFactory, tls_files: tuple[str, str]) -> None:
    with SmtpSink(reject_code=554) as refusing:
        port = free_port()
        server = make_server(
            **relay_env(refusing, TITLE="submission-relay-refuses", DEFAULT_SEND_BALANCE="5"),
            SUBMISSION_LISTEN=f"127.0.0.1:{port}",
            SUBMISSION_ALLOW_PLAINTEXT="true",
        )
        address = server.new_address()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.login(address["address"], address["jwt"])
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.send_message(message(address["address"], "bob@remote.example"))
        assert refused.value.smtp_code == 451
        assert refused.value.smtp_error.startswith(b"4.4.0 The mail relay did not accept the mail")
        assert balance(server, address["jwt"]) == 5
        assert sendbox(server, address["jwt"]) == []


@pytest.mark.backends("sqlite")
def test_several_workers_share_the_submission_ports(
    backend: str, sink: SmtpSink, tls_files: tuple[str, str], tmp_path: Path
) -> None:
    ports = (free_port(), free_port())
    env = {**relay_env(sink, DEFAULT_SEND_BALANCE="10"), **submission_env(ports, tls_files)}
    server = Server(backend, env, workers=2).start()
    try:
        address = server.new_address()
        before = len(sink.messages)
        for index in range(4):
            with starttls_client(ports[0], tls_files) as client:
                client.login(address["address"], address["jwt"])
                client.send_message(message(address["address"], "bob@remote.example", subject=f"w{index}"))
        with smtplib.SMTP_SSL("127.0.0.1", ports[1], timeout=30, context=trusting(tls_files)) as client:
            client.login(address["address"], address["jwt"])
            client.send_message(message(address["address"], "bob@remote.example", subject="w-tls"))
        assert len(sink.wait_for(before + 5)) >= before + 5
        assert balance(server, address["jwt"]) == 5
        assert server.stop() == 0
    finally:
        server.close()


@pytest.mark.parametrize(
    ("flags", "env", "named"),
    [
        (["--submission", "127.0.0.1:1587"], {}, "SUBMISSION_LISTEN: logins need STARTTLS"),
        ([], {"SUBMISSION_TLS_LISTEN": "127.0.0.1:1465"}, "SUBMISSION_TLS_LISTEN: needs a certificate"),
        (
            ["--submission", "1587"],
            {"SUBMISSION_ALLOW_PLAINTEXT": "true"},
            "SUBMISSION_LISTEN: expected HOST:PORT",
        ),
    ],
)
def test_a_submission_port_no_one_could_log_in_on_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    from tempmail.cli import main

    for key in ("TLS_CERT_FILE", "TLS_KEY_FILE", "SMTP_TLS_CERT", "SMTP_TLS_KEY", "SUBMISSION_LISTEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["serve", *flags]) == 2
    assert named in capsys.readouterr().err


def test_through_resend_the_envelope_decides_who_gets_it(make_server: ServerFactory) -> None:
    """Resend takes fields, not bytes: To and Cc keep their place, a recipient of the envelope
    only (a client's Bcc) goes as Bcc, and a header recipient not in the envelope gets nothing."""
    with HttpReceiver() as resend:
        port = free_port()
        server = make_server(
            TITLE="submission-resend",
            DEFAULT_SEND_BALANCE="10",
            RESEND_TOKEN_EXAMPLE_ORG="re_test_token",
            RESEND_API_URL=resend.url,
            SUBMISSION_LISTEN=f"127.0.0.1:{port}",
            SUBMISSION_ALLOW_PLAINTEXT="true",
        )
        address = server.new_address(domain="example.org")
        mail = message(address["address"], "bob@remote.example, eve@remote.example", subject="via Resend")
        mail["Cc"] = "carol@remote.example"
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.login(address["address"], address["jwt"])
            client.send_message(
                mail, to_addrs=["bob@remote.example", "carol@remote.example", "dave@remote.example"]
            )
        [request] = resend.wait_for(1)
    payload = json.loads(request.body)
    assert request.headers["Authorization"] == "Bearer re_test_token"
    assert (payload["to"], payload["cc"], payload["bcc"]) == (
        ["bob@remote.example"],
        ["carol@remote.example"],
        ["dave@remote.example"],
    )
    assert payload["subject"] == "via Resend"
    assert payload["text"].strip() == "Hello from Thunderbird"
    assert balance(server, address["jwt"]) == 7


def test_a_submitted_mail_is_in_the_imap_sent_mailbox(
    make_server: ServerFactory, sink: SmtpSink, tls_files: tuple[str, str]
) -> None:
    """Issue 18: what a mail client sends shows in its Sent folder, as the sendbox has it."""
    ports, imap_port = (free_port(), free_port()), free_port()
    env = relay_env(sink, TITLE="submission and imap", DEFAULT_SEND_BALANCE="10")
    server = make_server(
        **env,
        **submission_env(ports, tls_files),
        IMAP_LISTEN=f"127.0.0.1:{imap_port}",
        IMAP_ALLOW_PLAINTEXT="true",
    )
    address = server.new_address()
    mail = message(address["address"], "bob@remote.example")
    with starttls_client(ports[0], tls_files) as client:
        client.login(address["address"], address["jwt"])
        assert client.send_message(mail) == {}
    with IMAPClient("127.0.0.1", port=imap_port, ssl=False, timeout=30) as imap:
        imap.login(address["address"], address["jwt"])
        assert imap.select_folder("Sent", readonly=True)[b"EXISTS"] == 1
        (fetched,) = imap.fetch(imap.search(), ["ENVELOPE"]).values()
        assert fetched[b"ENVELOPE"].subject.decode() == mail["Subject"]
