"""Request bodies and views of the event endpoints (``/v1/account/events``).

Patterns and events are taken as JSON text or as JSON values and checked by ``silo.events``, not
here, so a bad one gets the same message from the API as from ``silo events test-pattern``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, JsonValue

from silo.api.schemas import RequestBody


class EventPatternTest(RequestBody):
    """TestEventPattern: an event pattern and an event to try it on; nothing is stored."""

    pattern: JsonValue = Field(description="The event pattern: JSON text, or the JSON object itself.")
    event: JsonValue = Field(
        description="The event, JSON text or the object, with id, account, source, time, region and "
        "detail-type (as EventBridge's TestEventPattern requires)."
    )


class EventPatternTestResult(BaseModel):
    matches: bool = Field(description="Whether the pattern matches the event.")
