"""One logged-in IMAP connection's view of its address: pymap's `BaseSession` over our two
mailboxes, and the realtime listener its IDLE uses, ended with the connection."""

from __future__ import annotations

from pymap.backend.session import BaseSession

from tempmail.imap.config import ImapConfig
from tempmail.imap.mailboxes import LiveListener, MailboxSet, Message
from tempmail.security.tokens import AddressClaim
from tempmail.services import Services


class Session(BaseSession[Message]):
    def __init__(self, claim: AddressClaim, services: Services, config: ImapConfig) -> None:
        super().__init__(claim.address)
        self._config = config
        self._live = LiveListener(services, claim.address)
        self._mailbox_set = MailboxSet(claim, services, self._live)

    @property
    def config(self) -> ImapConfig:
        return self._config

    @property
    def mailbox_set(self) -> MailboxSet:
        return self._mailbox_set

    def end(self) -> None:
        """The connection is over: stop listening for its address's mail."""
        self._live.end()
