"""What the SMTP listeners write to the log: one INFO line per mail, and one per refused
recipient, as an MTA's log reads; aiosmtpd's own dialogue (a dozen INFO lines per mail: every
command, the peer, the sender, each recipient) is demoted to DEBUG.

The mail's line comes once its answer is known: the envelope, the size, the client, the
answer with the stored ids (or the refusal), and how long receiving it took.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

log = logging.getLogger("tempmail.inbound.smtp")

# aiosmtpd's logger (aiosmtpd.smtp logs every command and reply on it at INFO).
AIOSMTPD_LOGGER = "mail.log"


class _DemoteToDebug(logging.Filter):
    """INFO records become DEBUG ones, kept only where DEBUG is enabled (LOG_LEVEL=debug);
    warnings and errors pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_DEMOTE = _DemoteToDebug()


def quiet_aiosmtpd() -> None:
    """Demote aiosmtpd's chatter to DEBUG (idempotent: every listener calls it). Unless DEBUG
    is on, its logger is simply held to WARNING, so that no record of it is even made: a dozen
    per mail, on the ingest path."""
    logger = logging.getLogger(AIOSMTPD_LOGGER)
    if not logger.isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)
    elif _DEMOTE not in logger.filters:
        logger.addFilter(_DEMOTE)


def _addresses(addresses: Iterable[str]) -> str:
    return ",".join(f"<{address}>" for address in addresses)


def mail(
    mail_from: str,
    recipients: Sequence[str],
    size: int | str,
    peer: str | None,
    answer: str,
    stored_ids: Sequence[int] = (),
    refused: Iterable[str] = (),
    seconds: float | None = None,
) -> None:
    """The line of one mail: `mail from=<a> to=<b> size=N peer=IP: <answer> ids=… in N ms`.
    `refused`: recipients a check refused while others were stored."""
    if not log.isEnabledFor(logging.INFO):
        return
    details = ""
    if stored_ids:
        details += " ids=" + ",".join(str(mail_id) for mail_id in stored_ids)
    refused_text = _addresses(refused)
    if refused_text:
        details += f" refused={refused_text}"
    if seconds is not None:
        details += f" in {seconds * 1000:.0f} ms"
    log.info(
        "mail from=<%s> to=%s size=%s peer=%s: %s%s",
        mail_from,
        _addresses(recipients),
        size,
        peer or "-",
        answer,
        details,
    )


def refused_recipient(mail_from: str | None, recipient: str, peer: str | None, answer: str) -> None:
    """The line of a recipient refused at RCPT (no mail follows for it)."""
    log.info(
        "recipient refused from=<%s> to=<%s> peer=%s: %s", mail_from or "", recipient, peer or "-", answer
    )
