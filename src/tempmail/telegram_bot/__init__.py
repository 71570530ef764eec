"""The Telegram bot (TELEGRAM_BOT_TOKEN): chat commands, the mini app, new-mail notifications.

Built on python-telegram-bot's `Bot` (the Bot API's methods and types over httpx, which the
server already uses); updates arrive on `/telegram/webhook` or, in polling mode, from one node's
getUpdates job. A Telegram user's addresses are kept in the settings table (`store`), as the
reference keeps them in KV: no table of its own.
"""
