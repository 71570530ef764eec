"""What a submission client is told: the API's refusal texts as SMTP replies.

A refusal the API would answer 400 (no balance, no send access, a blocked recipient, a quota)
is permanent for this message: 550 with the API's own text, so the user reads in Thunderbird
what the web UI would have said. A relay that did not take the mail may take it later: 451, and
the client keeps the mail to try again (nothing was charged). Texts go on one line (a relay's
error may span several) and are held to a length every client shows.
"""

from __future__ import annotations

from tempmail.outbound.sending import RelayFailed, SendError

MAX_TEXT = 400
AUTH_REQUIRED = "530 5.7.0 Authentication required"
AUTH_INVALID = "535 5.7.8 Authentication credentials invalid"
NOT_YOUR_ADDRESS = "550 5.7.1 MAIL FROM must be the address you logged in as: {address}"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
BAD_RECIPIENT = "553 5.1.3 Invalid recipient address"
TEMPORARY = "451 4.3.0 Temporary failure, please retry later"
SENT = "250 2.0.0 OK: sent"


def locked_out(reason: str) -> str:
    """Too many wrong logins from the client's IP: 454, a temporary refusal (RFC 4954)."""
    return f"454 4.7.0 {one_line(reason)}"


def refusal(error: SendError) -> str:
    """The reply of a send the sending path refused."""
    if isinstance(error, RelayFailed):
        return f"451 4.4.0 {one_line(str(error))}"
    return f"550 5.7.1 {one_line(str(error))}"


def one_line(text: str) -> str:
    """`text` as one reply line of printable ASCII-compatible text, at most MAX_TEXT long."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_TEXT else flat[: MAX_TEXT - 3] + "..."
