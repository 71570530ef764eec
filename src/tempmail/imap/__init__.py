"""The IMAP4rev1 server (issue 18): mail clients read an address's mail as `INBOX` and its sent
items as `Sent`, logging in with the address and its JWT or password.

The protocol is pymap's (parser, state machine, FETCH/SEARCH/STORE semantics, IDLE); this
package only gives it a backend over our services: `login` (who may log in, through the shared
`MailClientLogins`), `mailboxes` (the two mailboxes, their messages and flags), `session` (what
pymap calls per logged-in connection), `config` (capabilities, TLS and LOGINDISABLED) and
`server` (the listeners, shared by the workers, and their graceful stop). It sees services
only, never a store.
"""
