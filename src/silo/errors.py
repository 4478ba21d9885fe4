"""The error tree every Silo package raises from.

Each error has a stable ``code`` (what clients match on) and an ``http_status``
(what the API answers with); the API maps any ``SiloError`` generically.

    SiloError (500 InternalError)
    ├── ValidationError (400)            bad input: the message names what and where
    │   ├── InvalidPolicy (400)           a guardrail document that does not parse
    │   ├── InvalidTemplate (400)         a template that does not load or resolve (``path``)
    │   ├── InvalidPattern, InvalidEntry, InvalidTargetInput (400)   events (silo.events)
    │   └── InvalidSchedule (400)         a schedule expression (silo.schedules)
    ├── AuthenticationError (401)        no key, unknown key, revoked or expired key
    ├── AccessDenied (403)               the principal may not do this
    │   ├── GuardrailDenied (403)        a guardrail statement denies the action
    │   └── AccountNotActive (403)       the account is suspended or closed
    ├── NotFound (404)                   the named thing does not exist (in this account)
    ├── Conflict (409)                   duplicate name, or a state that forbids the change
    ├── PayloadTooLarge (413)            a request body over the limit
    └── Throttled (429)                  over a quota
"""

from __future__ import annotations

from typing import Any, ClassVar


class SiloError(Exception):
    """Root of all errors Silo raises on purpose."""

    code: ClassVar[str] = "InternalError"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationError(SiloError):
    code = "ValidationError"
    http_status = 400


class InvalidPolicy(ValidationError):
    code = "InvalidPolicy"


class AuthenticationError(SiloError):
    code = "Unauthenticated"
    http_status = 401


class AccessDenied(SiloError):
    code = "AccessDenied"
    http_status = 403


class GuardrailDenied(AccessDenied):
    code = "GuardrailDenied"


class AccountNotActive(AccessDenied):
    code = "AccountNotActive"


class NotFound(SiloError):
    code = "NotFound"
    http_status = 404


class Conflict(SiloError):
    code = "Conflict"
    http_status = 409


class PayloadTooLarge(SiloError):
    code = "PayloadTooLarge"
    http_status = 413


class Throttled(SiloError):
    code = "TooManyRequestsException"
    http_status = 429
