"""pymap's settings for our IMAP listeners: what each port offers before and after login.

One `ImapConfig` per kind of port. The plain port offers STARTTLS when a certificate is
configured, and refuses LOGIN/AUTHENTICATE (LOGINDISABLED) before TLS unless
IMAP_ALLOW_PLAINTEXT, so that no password or JWT crosses the network in clear by accident;
pymap lets loopback clients log in regardless (nothing crosses a network there). The TLS port
accepts logins at once. Capabilities are only what we implement: no MOVE, no APPEND limits, no
MULTIAPPEND, no OBJECTID (pymap would announce them by default).
"""

from __future__ import annotations

import ssl
from argparse import Namespace

from proxyprotocol.version import ProxyProtocolVersion
from pymap.concurrent import Subsystem
from pymap.config import BackendCapability, IMAPConfig
from pysasl import SASLAuth
from pysasl.hashing import BuiltinHash

GREETING = b"tempmail IMAP4rev1 ready"


class ImapConfig(IMAPConfig):
    def __init__(
        self, ssl_context: ssl.SSLContext | None, *, implicit_tls: bool, allow_plaintext: bool
    ) -> None:
        # pymap would load a certificate named by the CERT_FILE environment variable when given
        # no context: it always gets one, an empty server context when there is no certificate.
        super().__init__(
            Namespace(),
            host=None,
            port=0,
            ssl_context=ssl_context or ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
            tls_enabled=ssl_context is not None and not implicit_tls,
            hash_context=BuiltinHash(),
            cpu_subsystem=Subsystem.for_asyncio(),
            proxy_protocol=ProxyProtocolVersion.get(None),
            reject_dnsbl=False,
            # Our login sleeps on failures itself (MailClientLogins).
            invalid_user_sleep=0,
            max_append_len=None,
        )
        self.login_at_once = implicit_tls or allow_plaintext

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=True, object_id=False, multi_append=False)

    @property
    def initial_auth(self) -> SASLAuth:
        """PLAIN and LOGIN where logging in is allowed from the start, none (LOGINDISABLED)
        until STARTTLS otherwise."""
        return self.tls_auth if self.login_at_once else SASLAuth([])

    @property
    def login_capability(self) -> list[bytes]:
        return [b"BINARY", b"UIDPLUS", b"CHILDREN", *self.backend_capability]

    @property
    def greeting(self) -> bytes:
        return GREETING
