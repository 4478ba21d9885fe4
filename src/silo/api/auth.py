"""Authentication: ``Authorization: Bearer KEYID.SECRET`` -> ``Principal`` -> a handle.

Routes never see a token or an account id from the path for scoping: they take a
``ManagementHandle`` (``Management``) or the caller's own ``AccountHandle`` (``OwnAccount``), both
made by the platform from the authenticated principal.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from silo.accounts import Principal
from silo.errors import AuthenticationError
from silo.platform import AccountHandle, ManagementHandle, Platform

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="KEYID.SECRET",
    description="A Silo access key: management, account or assumed-session key, as `KEYID.SECRET`.",
)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, or 401 ``Unauthenticated`` saying what is wrong with the header."""
    if credentials is None:
        header = request.headers.get("authorization")
        if header is None:
            raise AuthenticationError(
                "missing Authorization header: send 'Authorization: Bearer KEYID.SECRET'"
            )
        scheme = header.strip().split(" ", 1)[0]
        if scheme and scheme.lower() != "bearer":
            raise AuthenticationError(f"unsupported authorization scheme {scheme[:20]!r}: use Bearer")
        raise AuthenticationError("malformed Authorization header: expected 'Bearer KEYID.SECRET'")
    return get_platform(request).authenticate(credentials.credentials)


Caller = Annotated[Principal, Depends(principal)]


def management_handle(request: Request, caller: Caller) -> ManagementHandle:
    """The management plane; 403 ``AccessDenied`` for account and session keys."""
    return get_platform(request).management(caller)


def account_handle(request: Request, caller: Caller) -> AccountHandle:
    """The caller's own account: the account comes from the key, never from the request."""
    return get_platform(request).account(caller)


Management = Annotated[ManagementHandle, Depends(management_handle)]
OwnAccount = Annotated[AccountHandle, Depends(account_handle)]
