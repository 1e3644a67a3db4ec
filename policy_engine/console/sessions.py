"""Console sessions: signed cookies that hold a session id and a key's id, never the key.

A token is ``base64url(JSON) "." base64url(HMAC-SHA256)``, signed with the console's
session key (``PE_CONSOLE_SESSION_KEY_FILE``) over a purpose prefix, so that a token made
for one purpose (a session, a sign-in form) is never accepted for another. Tokens expire;
signing out ends a session on this process at once (other replicas sharing the key accept
its cookie until it expires, at most ``PE_CONSOLE_SESSION_MINUTES``). Each request checks
that the key behind the session is still usable, so revoking the key ends its sessions.

Forms carry a CSRF token derived from the session id (or, on the sign-in form, from a
nonce held in a short-lived signed cookie): a page of another site can neither read it
nor, with ``SameSite=Strict`` cookies, send the session along.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The session cookie and the sign-in form's nonce cookie (both HttpOnly, SameSite=Strict).
SESSION_COOKIE = "pe_console_session"
SIGN_IN_COOKIE = "pe_console_sign_in"
#: How long a sign-in form stays valid, in seconds.
SIGN_IN_SECONDS = 3600
_DOMAIN = b"policy-engine console v1\n"


@dataclass(frozen=True)
class Session:
    """A signed-in browser: ``sid`` names the session, ``key_id`` the key that signed in."""

    sid: str
    key_id: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and checks session tokens, sign-in nonces and CSRF tokens."""

    def __init__(
        self, secret: bytes, lifetime_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the session key must be at least 16 bytes")
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._ended: dict[str, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return "SessionSigner(secret=<hidden>)"

    # ------------------------------------------------------------------ tokens

    def _mac(self, purpose: str, body: str) -> str:
        message = _DOMAIN + purpose.encode("ascii") + b"\n" + body.encode("ascii")
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def _seal(self, purpose: str, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def _open(self, purpose: str, token: str) -> dict[str, Any] | None:
        body, _, mac = token.partition(".")
        if not body or not mac or len(token) > 1024:
            return None
        if not hmac.compare_digest(mac, self._mac(purpose, body)):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
            return None
        return payload if payload["exp"] > self._clock() else None

    # ------------------------------------------------------------------ sessions

    def issue(self, key_id: str) -> tuple[Session, str]:
        """A new session for ``key_id`` and its cookie value."""
        expires = int(self._clock()) + self.lifetime_seconds
        session = Session(secrets.token_urlsafe(18), key_id, expires)
        token = self._seal("session", {"sid": session.sid, "kid": key_id, "exp": expires})
        return session, token

    def read(self, token: str) -> Session | None:
        """The session of a cookie value: None when forged, expired or signed out."""
        payload = self._open("session", token)
        if payload is None:
            return None
        sid, key_id = payload.get("sid"), payload.get("kid")
        if not isinstance(sid, str) or not isinstance(key_id, str):
            return None
        with self._lock:
            if sid in self._ended:
                return None
        return Session(sid, key_id, payload["exp"])

    def end(self, session: Session) -> None:
        """Sign ``session`` out (this process forgets ended sessions once they expire)."""
        now = self._clock()
        with self._lock:
            self._ended = {sid: exp for sid, exp in self._ended.items() if exp > now}
            self._ended[session.sid] = session.expires

    # ------------------------------------------------------------------ forms

    def sign_in_nonce(self) -> tuple[str, str]:
        """A nonce for a sign-in form and its cookie value."""
        nonce = secrets.token_urlsafe(18)
        expires = int(self._clock()) + SIGN_IN_SECONDS
        return nonce, self._seal("sign-in", {"nonce": nonce, "exp": expires})

    def read_nonce(self, token: str) -> str | None:
        payload = self._open("sign-in", token)
        nonce = payload.get("nonce") if payload is not None else None
        return nonce if isinstance(nonce, str) else None

    def csrf_token(self, bound_to: str) -> str:
        """The CSRF token of the forms of a session (its id) or a sign-in form (its nonce)."""
        return self._mac("csrf", bound_to)

    def csrf_valid(self, bound_to: str, token: str) -> bool:
        return bool(token) and hmac.compare_digest(token, self.csrf_token(bound_to))
