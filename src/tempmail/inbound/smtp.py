"""The inbound SMTP listener: aiosmtpd protocol instances on our own asyncio loop.

RCPT decides whether a recipient is ours (else 550: never an open relay); DATA hands the
message to the pipeline and answers 250 only once it is committed, 451 if it could not be
(the sender retries), 550 if every recipient was refused by a check.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tempmail.config import Settings
from tempmail.inbound.pipeline import InboundMail, Pipeline, StoreFailed

log = logging.getLogger(__name__)

# Recipients of one transaction: the hundred RFC 5321 (4.5.3.1.8) asks a server to take; the
# sender sends the rest in another transaction.
MAX_RECIPIENTS = 100


class InboundHandler:
    """aiosmtpd handler hooks; one instance serves every connection."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.in_flight: set[asyncio.Task[Any]] = set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        local, _, domain = address.rpartition("@")
        if not local or not await self.pipeline.accepts_domain(domain):
            return "550 5.7.1 Relaying denied: we do not accept mail for this domain"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        mail = InboundMail(
            mail_from=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
            raw=content if isinstance(content, bytes) else content.encode("utf-8"),
            peer_ip=session.peer[0] if isinstance(session.peer, tuple) else None,
            helo=session.host_name or "",
        )
        # Shield the delivery: a client hanging up mid-commit must not cancel it, and shutdown
        # waits for these tasks before closing the database.
        task = asyncio.ensure_future(self.pipeline.receive(mail))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        try:
            result = await asyncio.shield(task)
        except StoreFailed:
            return "451 4.3.0 Temporary storage failure, please retry later"
        except Exception:
            # A bug in a stage must not turn into a permanent 5xx: the sender keeps the mail
            # and retries, and the failure is in our log.
            log.exception("receiving a mail from %s failed", mail.mail_from)
            return "451 4.3.0 Temporary failure, please retry later"
        if not result.stored_ids and result.rejected:
            return f"550 5.7.1 {result.refusal()}"
        return "250 OK"


class InboundServer:
    """Owns the listening socket and the live sessions, so shutdown can drain them."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.handler = InboundHandler(settings, pipeline)
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()
        self._tls = _tls_context(settings)

    def _protocol(self) -> SMTP:
        protocol = _TrackedSMTP(
            self.handler,
            sessions=self._sessions,
            data_size_limit=self.settings.MAX_MESSAGE_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.settings.SMTP_HOSTNAME,
            ident="tempmail ESMTP",
            tls_context=self._tls,
            loop=asyncio.get_running_loop(),
        )
        return protocol

    async def start(self, host: str = "", port: int = 0, sock: socket.socket | None = None) -> int:
        """Listen on `host:port`, or accept on `sock`, a listening socket the workers of one
        server share; return the bound port (useful when asked for port 0)."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            self._server = await loop.create_server(self._protocol, sock=sock)
        else:
            self._server = await loop.create_server(self._protocol, host=host or None, port=port)
        bound_host, bound = self._server.sockets[0].getsockname()[:2]
        log.info("SMTP listening on %s:%d", bound_host, bound)
        return int(bound)

    async def stop(self, drain_seconds: float = 30.0) -> None:
        """Stop accepting, let in-flight DATA commits finish, then close the sessions."""
        if self._server is not None:
            self._server.close()
        pending = list(self.handler.in_flight)
        if pending:
            await asyncio.wait(pending, timeout=drain_seconds)
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        if self._server is not None:
            await self._server.wait_closed()


class _TrackedSMTP(SMTP):
    """aiosmtpd's protocol, remembering itself in a set while its connection is open.

    Every mail from the world is a connection of its own, so what aiosmtpd does per connection
    and per address is paid per mail; two of its steps cost more than they need to (a fifth of
    the no-op server's CPU, measured with py-spy), and are answered here the same way, cheaper.
    """

    def __init__(self, handler: Any, *, sessions: set[SMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._tracked = sessions

    def __dir__(self) -> list[str]:
        """The `smtp_` commands and `auth_` mechanisms, the only names aiosmtpd's constructor
        looks for in `dir(self)` and `inspect.getmembers(self)`; answering with every name
        made it read each attribute of a new protocol, properties included."""
        return _COMMAND_NAMES

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's own address parsing of MAIL FROM and RCPT TO (the stdlib's RFC 5322
        parser), without the typing class that it defines anew on every call."""
        if not arg:
            return "", ""
        parse: Any = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
        try:
            address, rest = parse(arg)
        except HeaderParseError:
            return None, None
        addr: str = address.addr_spec
        localpart = addr.rpartition("@")[0]
        if self.local_part_limit and len(localpart) > self.local_part_limit:
            return None, None
        return addr, rest

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._tracked.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._tracked.discard(self)
        super().connection_lost(error)


_COMMAND_NAMES = [name for name in dir(_TrackedSMTP) if name.startswith(("smtp_", "auth_"))]


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.SMTP_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY)
    return context
