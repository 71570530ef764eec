"""What the sending and quota compat tests share: a recording SMTP relay for test.example, the
environment that points a server at it, and the lists a POST of account settings must carry."""

from __future__ import annotations

import json
from collections.abc import Iterator

from tests.fakes.smtp_sink import SmtpSink

REQUIRED = {"blockList": [], "sendBlockList": [], "verifiedAddressList": []}


def recording_relay() -> Iterator[SmtpSink]:
    """The body of a module's `sink` fixture: a relay for the whole module."""
    relay = SmtpSink().start()
    try:
        yield relay
    finally:
        relay.stop()


def relay_env(sink: SmtpSink, **extra: str) -> dict[str, str]:
    """SMTP_CONFIG sending test.example's mail through `sink`, plus `extra` settings."""
    relay = {"test.example": {"host": "127.0.0.1", "port": sink.port}}
    return {"SMTP_CONFIG": json.dumps(relay), **extra}
