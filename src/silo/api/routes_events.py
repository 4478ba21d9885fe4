"""``/v1/account/events``: the caller's event buses, rules and patterns.

``POST /test-pattern`` is TestEventPattern: it reads and writes no data, and answers for any key
of an active account (the check is the pure one in ``silo.events.sample_events``).
"""

from __future__ import annotations

from fastapi import APIRouter

from silo.api.auth import OwnAccount
from silo.api.event_schemas import EventPatternTest, EventPatternTestResult
from silo.api.views import ERROR_RESPONSES
from silo.events.sample_events import pattern_matches

router = APIRouter(prefix="/v1/account/events", tags=["events"], responses=ERROR_RESPONSES)


@router.post("/test-pattern")
def test_event_pattern(body: EventPatternTest, account: OwnAccount) -> EventPatternTestResult:
    """Whether an event pattern matches an event; a bad pattern or event is a 400 saying where."""
    account.authorize("events:TestEventPattern", write=False)
    return EventPatternTestResult(matches=pattern_matches(body.pattern, body.event))
