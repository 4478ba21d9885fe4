"""Credentials: management keys, account keys and short-lived assumed sessions."""

from silo.credentials.models import AccessKey, IssuedKey, KeyStatus
from silo.credentials.service import AccessKeys, check_key_id

__all__ = ["AccessKey", "AccessKeys", "IssuedKey", "KeyStatus", "check_key_id"]
