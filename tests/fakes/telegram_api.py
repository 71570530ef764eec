"""A Telegram Bot API server on loopback: the methods the bot calls, speaking the Bot API's JSON.

Each bot token has a state of its own (several test servers, one per back end and mode, share
one fake without seeing each other's webhook or updates). It records every call, answers
getMe, sendMessage, editMessageText, answerCallbackQuery, setWebhook, deleteWebhook,
getWebhookInfo, setMyCommands and getMyCommands as Telegram does, and serves getUpdates from a
queue (a long poll: it waits up to the asked timeout for an update), refusing it with 409 while
a webhook is set, as Telegram does. `fail` scripts errors for the next calls of a method.
Parameters arrive as a form (values of objects JSON-encoded) or as JSON, as clients send them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "tempmail", "username": "tempmail_test_bot"}
# The longest a test's long poll is held (whatever timeout the client asked for).
MAX_POLL_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class BotState:
    calls: list[Call] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    next_update_id: int = 1000
    next_message_id: int = 1


def _decode(value: str) -> Any:
    """A form value: JSON for objects, arrays, numbers and booleans, else the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegramApi:
    def __init__(self) -> None:
        self._states: dict[str, BotState] = {}
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                kind = self.headers.get("content-type", "")
                if "json" in kind:
                    params = json.loads(body or b"{}")
                else:
                    params = {key: _decode(value) for key, value in parse_qsl(body.decode())}
                status, answer = fake._answer(self.path, params)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        Handler.protocol_version = "HTTP/1.1"
        Handler.disable_nagle_algorithm = True
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests do ----------------------------------------------------------------------

    def state(self, token: str) -> BotState:
        with self._changed:
            return self._states.setdefault(token, BotState())

    def push_update(self, token: str, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; its update_id."""
        with self._changed:
            state = self._states.setdefault(token, BotState())
            update_id = state.next_update_id
            state.next_update_id += 1
            state.updates.append({"update_id": update_id, **update})
            self._changed.notify_all()
        return update_id

    def fail(self, token: str, method: str, status: int, description: str, times: int = 1) -> None:
        with self._changed:
            self._states.setdefault(token, BotState()).failures.setdefault(method, []).extend(
                [(status, description)] * times
            )

    def calls(self, token: str, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.state(token).calls if call.method == method]

    def wait_for(self, token: str, method: str, match: Any = None, timeout: float = 20, nth: int = 1) -> Call:
        """The `nth` call of `method` (for which `match(params)` holds), waiting for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    call
                    for call in self._states.setdefault(token, BotState()).calls
                    if call.method == method and (match is None or match(call.params))
                ]
                if len(found) >= nth:
                    return found[nth - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} call came; calls: {self._states[token].calls}")
                self._changed.wait(left)

    # --- the Bot API ------------------------------------------------------------------------

    def _answer(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix, _, method = path.lstrip("/").partition("/")
        if not prefix.startswith("bot") or ":" not in prefix:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token = prefix[3:]
        if method == "getUpdates":
            return self._get_updates(token, params)
        with self._changed:
            state = self._states.setdefault(token, BotState())
            state.calls.append(Call(method, params))
            self._changed.notify_all()
            failures = state.failures.get(method)
            if failures:
                status, description = failures.pop(0)
                return status, {"ok": False, "error_code": status, "description": description}
            return 200, {"ok": True, "result": self._result(state, method, params)}

    def _result(self, state: BotState, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "editMessageText"):
            message_id = params.get("message_id") or state.next_message_id
            state.next_message_id += 1
            chat_id = int(params["chat_id"])
            return {
                "message_id": int(message_id),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        if method == "setWebhook":
            state.webhook = {"url": params["url"], "secret_token": params.get("secret_token", "")}
            return True
        if method == "deleteWebhook":
            state.webhook = {}
            return True
        if method == "getWebhookInfo":
            return {
                "url": state.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(state.updates),
            }
        if method == "setMyCommands":
            state.commands[str(params.get("language_code", ""))] = list(params["commands"])
            return True
        if method == "getMyCommands":
            return state.commands.get(str(params.get("language_code", "")), [])
        return True

    def _get_updates(self, token: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        deadline = time.monotonic() + wait
        with self._changed:
            state = self._states.setdefault(token, BotState())
            state.calls.append(Call("getUpdates", params))
            self._changed.notify_all()
            if state.webhook:
                description = "Conflict: can't use getUpdates method while webhook is active"
                return 409, {"ok": False, "error_code": 409, "description": description}
            # An offset confirms every update before it, as Telegram forgets them.
            state.updates = [update for update in state.updates if update["update_id"] >= offset]
            while not state.updates and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return 200, {"ok": True, "result": list(state.updates)}
