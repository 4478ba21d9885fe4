"""Key ids, secrets and their hashes.

Secrets are 256 random bits, so a fast salted SHA-256 is the right hash (as for API tokens
generally): a slow password hash buys nothing against a secret that cannot be guessed, and
would cost milliseconds on every authenticated request. See docs/decisions/0003.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from silo.accounts.context import KeyKind
from silo.errors import AuthenticationError

_PREFIX = {KeyKind.MANAGEMENT: "SKM", KeyKind.ACCOUNT: "SKA", KeyKind.SESSION: "SKS"}
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TOKEN = re.compile(r"^(SK[MAS][A-Z2-7]{17})\.([A-Za-z0-9_-]{43})$")


def new_key_id(kind: KeyKind) -> str:
    return _PREFIX[kind] + "".join(secrets.choice(_BASE32) for _ in range(17))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(key_id: str, secret: str) -> str:
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def secret_matches(key_id: str, secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(key_id, secret), stored_hash)


def split_token(token: str) -> tuple[str, str]:
    """``KEYID.SECRET`` -> (key id, secret); anything else is refused without a lookup."""
    match = _TOKEN.match(token.strip())
    if match is None:
        raise AuthenticationError("malformed access key: expected KEYID.SECRET as issued by silo")
    return match.group(1), match.group(2)


def join_token(key_id: str, secret: str) -> str:
    return f"{key_id}.{secret}"
