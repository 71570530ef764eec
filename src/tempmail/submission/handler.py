"""The transaction of a submission session: who may send, to whom, and the send itself.

MAIL needs a login and must name the address logged in as (a client cannot send as another of
our addresses, or as anyone else); RCPT takes any well-formed address, up to the hundred one
transaction may carry; DATA hands the message to the sending path and answers with its outcome,
250 only once the relay took the mail and the sent box has it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tempmail.errors import InvalidMail
from tempmail.inbound.smtp import MAX_RECIPIENTS
from tempmail.outbound.relays import mailbox
from tempmail.outbound.sending import SendError, SendService, Submission
from tempmail.security.tokens import AddressClaim
from tempmail.submission import replies

log = logging.getLogger(__name__)


class SubmissionHandler:
    """aiosmtpd handler hooks; one instance serves every connection of a listener."""

    def __init__(self, sending: SendService) -> None:
        self.sending = sending
        # Sends whose client hung up: they finish (a charge is never left half-done), and
        # shutdown waits for them (see InboundServer.stop).
        self.in_flight: set[asyncio.Task[Any]] = set()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        claim = _claim(session)
        if claim is None:
            return replies.AUTH_REQUIRED
        if address.strip().lower() != claim.address:
            return replies.NOT_YOUR_ADDRESS.format(address=claim.address)
        envelope.mail_from = claim.address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return replies.TOO_MANY_RECIPIENTS
        try:
            mailbox(address, "", "recipient address")
        except InvalidMail:
            return replies.BAD_RECIPIENT
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        claim = _claim(session)
        if claim is None:  # MAIL needed it; a session cannot lose it
            return replies.AUTH_REQUIRED
        content = envelope.original_content or envelope.content or b""
        peer = session.peer
        submission = Submission(
            address=claim.address,
            address_id=claim.address_id,
            recipients=list(envelope.rcpt_tos),
            raw=content if isinstance(content, bytes) else content.encode("utf-8"),
            client_ip=str(peer[0]) if isinstance(peer, tuple) else "",
        )
        task = asyncio.ensure_future(self.sending.send_submitted(submission))
        self.in_flight.add(task)
        task.add_done_callback(self._finished)
        try:
            await asyncio.shield(task)
        except SendError as exc:
            log.info("submission from %s refused: %s", claim.address, exc)
            return replies.refusal(exc)
        except Exception:
            log.exception("a submitted mail from %s failed", claim.address)
            return replies.TEMPORARY
        return replies.SENT

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.in_flight.discard(task)
        # Read, so a send whose client had gone does not log "exception never retrieved".
        if not task.cancelled():
            task.exception()


def _claim(session: Session) -> AddressClaim | None:
    data = session.auth_data if session.authenticated else None
    return data if isinstance(data, AddressClaim) else None
