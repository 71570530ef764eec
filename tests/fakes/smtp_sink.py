"""A real SMTP relay on 127.0.0.1 that keeps what it is sent, so tests can check outgoing mail end to end.

It is a stand-in for the upstream relay the server sends through: it can demand AUTH (PLAIN/LOGIN), speak
STARTTLS or TLS from the first byte, and refuse every message, which covers the relay behaviours the
sending code has to cope with.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass
class Received:
    """One accepted message, with what the sink learnt about the session that delivered it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    authenticated_as: str | None
    tls: bool


class _Controller(Controller):
    """A Controller bound to port 0 that learns the port the OS picked, so no port is ever guessed."""

    def _trigger_server(self) -> None:
        # Called once the listener is bound and before the first connection is made to it.
        server = cast(asyncio.Server, self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    """aiosmtpd hooks: gate MAIL on AUTH when credentials are configured, then record or refuse DATA."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        # Checked here rather than with aiosmtpd's auth_required, which warns on every connection
        # when AUTH is allowed without TLS.
        if self._sink.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._sink.reject_code is not None:
            return f"{self._sink.reject_code} rejected by test relay"
        data = cast(bytes, envelope.content)
        assert server.transport is not None
        self._sink._record(
            Received(
                mail_from=cast(str, envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                message=email.message_from_bytes(data, policy=email.policy.default),
                authenticated_as=cast("str | None", session.auth_data) if session.authenticated else None,
                tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 OK"


class SmtpSink:
    """An aiosmtpd relay in its own thread; `messages` lists what it accepted, in arrival order.

    `auth` = (username, password) makes AUTH PLAIN/LOGIN mandatory before MAIL (allowed without TLS);
    `tls` = (cert_pem_path, key_pem_path) offers STARTTLS, or with `implicit_tls` wraps the whole
    connection; `reject_code` answers every DATA with that code, and such messages are not recorded.
    """

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        tls: tuple[str, str] | None = None,
        implicit_tls: bool = False,
        reject_code: int | None = None,
    ) -> None:
        if implicit_tls and tls is None:
            raise ValueError("implicit_tls needs tls=(cert_pem_path, key_pem_path)")
        self.auth = auth
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.reject_code = reject_code
        self.host = HOST
        self.port = 0
        self.messages: list[Received] = []
        self._arrived = threading.Condition()
        self._controller: _Controller | None = None

    def start(self) -> SmtpSink:
        """Bind a free port on 127.0.0.1 and serve until `stop()`."""
        kwargs: dict[str, Any] = {}
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.tls)
            kwargs["ssl_context" if self.implicit_tls else "tls_context"] = context
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        # A fixed server_hostname spares a possibly slow reverse lookup on every connection.
        controller = _Controller(
            _Handler(self), hostname=HOST, port=0, server_hostname="relay.test.example", **kwargs
        )
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def smtp_config(self, domains: tuple[str, ...] = ("test.example", "example.org")) -> str:
        """SMTP_CONFIG sending mail from `domains` through this relay (the test servers' own)."""
        return json.dumps({domain: {"host": self.host, "port": self.port} for domain in domains})

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Block until at least `count` messages arrived and return them all; delivery is asynchronous."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(
                    f"expected {count} message(s) within {timeout}s, got {len(self.messages)}"
                )
            return list(self.messages)

    def _record(self, received: Received) -> None:
        with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth is not None
        if mechanism not in ("PLAIN", "LOGIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username, password = self.auth
        if (auth_data.login, auth_data.password) != (username.encode(), password.encode()):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=username)
