"""The composition root: a ``Platform`` built from ``Settings``, and the handles it gives out."""

from silo.platform.account import AccountHandle, AccountKeys
from silo.platform.core import Initialised, Platform
from silo.platform.management import AssumedSession, ManagementHandle

__all__ = ["AccountHandle", "AccountKeys", "AssumedSession", "Initialised", "ManagementHandle", "Platform"]
