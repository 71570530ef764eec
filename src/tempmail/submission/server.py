"""The submission listeners: 1587 (STARTTLS) and 1465 (TLS from the first byte), each the
inbound listener with the submission handler and protocol, so the connection caps, the idle
timeout and the drain at shutdown (a send under way is answered before its connection closes)
are the inbound port's.
"""

from __future__ import annotations

from aiosmtpd.smtp import SMTP

from tempmail.config import Settings
from tempmail.inbound.smtp import InboundServer
from tempmail.security.tls import server_context
from tempmail.services import Services
from tempmail.submission.handler import SubmissionHandler
from tempmail.submission.session import SubmissionSMTP


class SubmissionServer(InboundServer):
    """One submission port. `implicit_tls`: TLS from the first byte (no STARTTLS offered)."""

    def __init__(self, settings: Settings, services: Services, implicit_tls: bool = False) -> None:
        context = server_context(settings.mail_client_tls)
        handler = SubmissionHandler(services.sending)
        if implicit_tls:
            self._set_up(settings, handler, None, implicit_tls=context)
        else:
            self._set_up(settings, handler, context)
        self.name = "SMTP submission (TLS)" if implicit_tls else "SMTP submission"
        self.implicit_tls = implicit_tls
        self.logins = services.mail_logins
        self.allow_plaintext = settings.SUBMISSION_ALLOW_PLAINTEXT

    def _protocol(self) -> SMTP:
        return SubmissionSMTP(
            self.handler,
            logins=self.logins,
            implicit_tls=self.implicit_tls,
            ident="tempmail ESMTP submission",
            auth_require_tls=not self.allow_plaintext,
            **self._protocol_options(),
        )
