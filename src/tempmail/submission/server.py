"""The submission listeners: 1587 (STARTTLS) and 1465 (TLS from the first byte), each the
inbound listener with the submission handler and protocol, so the connection caps, the idle
timeout and the drain at shutdown (a send under way is answered before its connection closes)
are the inbound port's.
"""

from __future__ import annotations

import socket
import ssl

from aiosmtpd.smtp import SMTP

from tempmail.config import Settings
from tempmail.inbound.smtp import InboundServer
from tempmail.services import Services
from tempmail.submission.handler import SubmissionHandler
from tempmail.submission.session import SubmissionSMTP


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The context of the mail-client certificate (TLS_CERT_FILE, else SMTP_TLS_CERT)."""
    files = settings.mail_client_tls
    if files is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*files)
    return context


class SubmissionServer(InboundServer):
    """One submission port. `implicit_tls`: TLS from the first byte (no STARTTLS offered)."""

    def __init__(self, settings: Settings, services: Services, implicit_tls: bool = False) -> None:
        context = tls_context(settings)
        self._set_up(settings, SubmissionHandler(services.sending), None if implicit_tls else context)
        self.name = "SMTP submission (TLS)" if implicit_tls else "SMTP submission"
        self.implicit_tls = implicit_tls
        self.ssl_context = context if implicit_tls else None
        self.logins = services.mail_logins
        self.allow_plaintext = settings.SUBMISSION_ALLOW_PLAINTEXT

    async def start(
        self,
        host: str = "",
        port: int = 0,
        sock: socket.socket | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> int:
        return await super().start(host, port, sock, ssl_context or self.ssl_context)

    def _protocol(self) -> SMTP:
        return SubmissionSMTP(
            self.handler,
            logins=self.logins,
            implicit_tls=self.implicit_tls,
            ident="tempmail ESMTP submission",
            auth_require_tls=not self.allow_plaintext,
            **self._protocol_options(),
        )
