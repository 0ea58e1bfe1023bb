"""API key format, generation and hashing.

Keys look like the reference's: ``sk_`` + 16 hex + ``_`` + 64 hex. The first part (``sk_`` + 16 hex)
is the key's public prefix, safe to list and log. Keys are stored as SHA-256 digests: they carry 320
bits of randomness, so a slow password hash would add latency to every request and no security.
Legacy ``uak_`` keys (older contract pages) are accepted by the same rules.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PATTERN = re.compile(r"^(sk|uak)_[0-9A-Za-z]{8,64}_[0-9A-Za-z]{16,128}$")


def generate_key(kind: str = "sk") -> str:
    return f"{kind}_{secrets.token_hex(8)}_{secrets.token_hex(32)}"


def is_well_formed(key: str) -> bool:
    return bool(KEY_PATTERN.match(key))


def key_prefix(key: str) -> str:
    kind, public, _secret = key.split("_", 2)
    return f"{kind}_{public}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
