"""Random tokens for links and sessions, stored only as SHA-256 digests, and the CSRF token of a session."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The session's CSRF token: derived from the session token, so nothing more is stored, and
    useless to anyone who cannot read the HttpOnly session cookie."""
    return hmac.new(session_token.encode(), b"showfloor-console-csrf", hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
