"""SMTP submission (RFC 6409) for mail clients: Thunderbird sends as a tempmail address.

A client logs in (AUTH PLAIN/LOGIN, over TLS unless SUBMISSION_ALLOW_PLAINTEXT) with the address
and its JWT or password, the IMAP server's login; MAIL FROM must be that address; the message
then goes through the API's own sending path (`SendService.send_submitted`): send access,
balance, quotas, the relay of the domain, the sent box. Modules: `replies` (what the client is
told), `session` (the protocol: asynchronous AUTH), `handler` (the transaction), `server` (the
listeners, sharing the inbound listener's caps, idle timeout and drain).
"""
