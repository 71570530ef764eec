"""A tiny real OAuth2 authorization-code provider on 127.0.0.1, so OAuth2 login is tested over real HTTP.

It enforces what a real provider enforces (client credentials, single-use codes bound to their
redirect_uri, bearer tokens) so a client that skips a step fails here too. The token endpoint answers
JSON, or a form body like GitHub does by default.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlencode, urlsplit

import httpx

HOST = "127.0.0.1"


@dataclass
class _Grant:
    redirect_uri: str
    scope: str
    user: dict[str, Any]


class OAuth2Provider:
    """Serves /authorize, /token and /userinfo in a daemon thread.

    Set `next_user` to the user-info document the next /authorize should log in as; the code, and then
    the access token, stay bound to that document.
    """

    def __init__(
        self,
        *,
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        token_format: Literal["json", "form"] = "json",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_format = token_format
        self.next_user: dict[str, Any] = {"email": "user@oauth.test.example"}
        self.last_authorize_params: dict[str, str] = {}
        self.base_url = ""
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> OAuth2Provider:
        """Bind a free port on 127.0.0.1 and serve until `stop()`."""
        server = _Server((HOST, 0), _Handler)
        server.provider = self
        self._server = server
        self.base_url = f"http://{HOST}:{server.server_address[1]}"
        # A short poll interval keeps stop(), which waits for the serving loop's next poll, quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="oauth2-provider", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> OAuth2Provider:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def authorize(self, redirect_uri: str, state: str, scope: str = "") -> str:
        """Play the browser at /authorize and return the code it was redirected back with."""
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": scope,
        }
        response = httpx.get(f"{self.base_url}/authorize", params=params, follow_redirects=False)
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["state"] == [state]
        return query["code"][0]

    def _issue_code(self, redirect_uri: str, scope: str) -> str:
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Grant(redirect_uri, scope, dict(self.next_user))
        return code

    def _redeem_code(self, code: str, redirect_uri: str) -> tuple[str, str] | None:
        """Trade a code for (access token, scope); a code is spent on its first presentation."""
        with self._lock:
            grant = self._codes.pop(code, None)
            if grant is None or grant.redirect_uri != redirect_uri:
                return None
            token = secrets.token_urlsafe(24)
            self._tokens[token] = grant.user
            return token, grant.scope

    def _user_for(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            return self._tokens.get(token)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: OAuth2Provider


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/authorize":
            self._authorize(dict(parse_qsl(url.query)))
        elif url.path == "/userinfo":
            self._userinfo()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path == "/token":
            self._token()
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, params: dict[str, str]) -> None:
        provider = self.server.provider
        provider.last_authorize_params = params
        if params.get("client_id") != provider.client_id:
            self._json(400, {"error": "invalid_client"})
            return
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            self._json(400, {"error": "invalid_request"})
            return
        if params.get("response_type") != "code":
            self._json(400, {"error": "unsupported_response_type"})
            return
        answer = {"code": provider._issue_code(redirect_uri, params.get("scope", ""))}
        if "state" in params:
            answer["state"] = params["state"]
        separator = "&" if urlsplit(redirect_uri).query else "?"
        self.send_response(302)
        self.send_header("Location", f"{redirect_uri}{separator}{urlencode(answer)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _token(self) -> None:
        provider = self.server.provider
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        client_id, client_secret = self._basic_credentials() or (
            form.get("client_id"),
            form.get("client_secret"),
        )
        if (client_id, client_secret) != (provider.client_id, provider.client_secret):
            self._json(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="token"'})
            return
        if form.get("grant_type") != "authorization_code":
            self._json(400, {"error": "unsupported_grant_type"})
            return
        issued = provider._redeem_code(form.get("code", ""), form.get("redirect_uri", ""))
        if issued is None:
            self._json(400, {"error": "invalid_grant"})
            return
        token, scope = issued
        if provider.token_format == "form":
            body = urlencode({"access_token": token, "token_type": "bearer", "scope": scope}).encode()
            self._send(200, "application/x-www-form-urlencoded", body)
        else:
            self._json(200, {"access_token": token, "token_type": "bearer"})

    def _userinfo(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        user = self.server.provider._user_for(token) if scheme.lower() in ("bearer", "token") else None
        if user is None:
            self._json(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        self._json(200, user)

    def _basic_credentials(self) -> tuple[str, str] | None:
        """Client credentials from `Authorization: Basic`, form-urldecoded as RFC 6749 §2.3.1 says."""
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        return unquote_plus(client_id), unquote_plus(client_secret)

    def _json(self, status: int, document: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, "application/json", json.dumps(document).encode(), headers)

    def _send(
        self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
