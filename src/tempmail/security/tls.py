"""The server side of TLS, for every port that offers it (inbound SMTP's STARTTLS, IMAP and
submission): one way to load a certificate."""

from __future__ import annotations

import ssl


def server_context(files: tuple[str, str] | None) -> ssl.SSLContext | None:
    """A server context on the (certificate, key) PEM files, or None without them."""
    if files is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*files)
    return context
