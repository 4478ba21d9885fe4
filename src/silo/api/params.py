"""Query parameters shared by list endpoints: pagination and the account tag filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from silo.errors import ValidationError
from silo.store.pages import DEFAULT_LIMIT, MAX_LIMIT

_TOKEN_PATTERN = r"^[A-Za-z0-9_=-]*$"


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int | None
    next_token: str | None


def paging(
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_LIMIT, description=f"Page size, default {DEFAULT_LIMIT}.")
    ] = None,
    next_token: Annotated[
        str | None,
        Query(
            max_length=512,
            pattern=_TOKEN_PATTERN,
            description="The `next_token` of the previous page.",
        ),
    ] = None,
) -> Paging:
    return Paging(limit, next_token or None)


PageParams = Annotated[Paging, Depends(paging)]

IncludeRevoked = Annotated[bool, Query(description="Also list revoked keys.")]


def tag_filter(
    tag: Annotated[
        list[str] | None,
        Query(
            description="`key=value` (that value) or `key` (the tag exists); repeat to require several.",
        ),
    ] = None,
) -> dict[str, str | None]:
    """``?tag=env=prod&tag=team`` -> ``{"env": "prod", "team": None}``; bad syntax is a 400."""
    wanted: dict[str, str | None] = {}
    for raw in tag or []:
        key, sep, value = raw.partition("=")
        if not key or len(key) > 128 or len(value) > 256 or any(ord(c) < 32 for c in raw):
            raise ValidationError(
                f"tag: expected key=value or key (key 1-128 characters, value up to 256), got {raw!r}",
                field="tag",
            )
        if key in wanted:
            raise ValidationError(f"tag: key {key!r} given twice", field="tag")
        wanted[key] = value if sep else None
    return wanted


TagFilter = Annotated[dict[str, str | None], Depends(tag_filter)]
