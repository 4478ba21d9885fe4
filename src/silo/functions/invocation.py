"""The parts of invocation that are not the sync fast path: payload checks, the SDK channel,
and one attempt of a queued ``Event`` invocation (retries, age limit, on-failure, DLQ)."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from silo.errors import PayloadTooLarge, SiloError, Throttled, ValidationError
from silo.functions.async_queue import AsyncItem
from silo.functions.engine import FunctionsEngine, SdkOperation
from silo.functions.invoker import OnCall, Target
from silo.functions.models import LATEST
from silo.store import utcnow

if TYPE_CHECKING:
    from silo.functions.service import Functions

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 256 * 1024
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


class RequestTooLarge(PayloadTooLarge):
    code = "RequestTooLargeException"


class RecursiveInvocation(SiloError):
    code = "RecursiveInvocationException"
    http_status = 400

    def __init__(self, name: str, depth: int) -> None:
        super().__init__(
            f"function {name}: synchronous call chain deeper than {depth}; stopped as a recursive loop"
        )


def check_payload(payload: bytes | None, invocation_type: str) -> bytes:
    """The payload as JSON bytes; refuses non-JSON and oversize bodies like Lambda does."""
    if invocation_type not in INVOCATION_TYPES:
        raise ValidationError(
            f"invocation_type: one of {', '.join(INVOCATION_TYPES)}, got {invocation_type!r}",
            field="invocation_type",
        )
    if not payload:
        return b"{}"
    limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(payload) > limit:
        raise RequestTooLarge(
            f"payload is {len(payload)} bytes; {invocation_type} invocations take at most {limit}"
        )
    try:
        if payload[:3] == b"\xef\xbb\xbf" or b"\x00" in payload[:4]:
            json.loads(payload, parse_constant=_not_json)  # a BOM or UTF-16/32: json's own detection
        else:
            _DECODER.decode(payload.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"payload: could not parse request body into JSON ({exc})", field="payload"
        ) from None
    except RecursionError:
        raise ValidationError("payload: JSON nested too deeply", field="payload") from None
    return payload if type(payload) is bytes else bytes(payload)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_not_json)


def channel_handler(scope: Functions, operations: Mapping[str, SdkOperation]) -> OnCall:
    """Serve SDK calls made by a running handler, inside the same account as the handler: ``invoke``
    here, the other ``operations`` (registered on the engine) with the scope's context."""

    def on_call(message: dict[str, Any]) -> dict[str, Any]:
        op, args = message.get("op"), message.get("args") or {}
        if not isinstance(args, dict):
            raise ValidationError("sdk: the arguments of a call are an object")
        if op != "invoke":
            serve = operations.get(op) if isinstance(op, str) else None
            if serve is None:
                raise ValidationError(f"sdk: unknown operation {op!r}")
            return serve(scope.context, args)
        payload = json.dumps(args.get("payload")).encode()
        outcome = scope.invoke(
            str(args.get("function_name")),
            payload,
            invocation_type=str(args.get("invocation_type", "RequestResponse")),
            qualifier=args.get("qualifier"),
        )
        from silo.functions.service import Accepted, DryRunOk

        if isinstance(outcome, Accepted):
            return {"status": 202, "invocation_id": outcome.invocation_id}
        if isinstance(outcome, DryRunOk):
            return {"status": 204}
        return {
            "status": 200,
            "payload": json.loads(outcome.payload) if outcome.payload is not None else None,
            "error": outcome.error,
            "executed_version": outcome.executed_version,
        }

    return on_call


def attempt(engine: FunctionsEngine, scope: Functions, item: AsyncItem, target: Target) -> None:
    """One attempt: drop if too old, back off if throttled, retry on error, give up when exhausted."""
    now = utcnow()
    age = now - item.received_at
    policy = engine.async_policy
    max_age = timedelta(seconds=target.async_config.max_event_age)
    if age > max_age:
        engine.metrics.record(scope.context, "Functions", "AsyncEventsDropped", item.function_name, 1)
        give_up(engine, scope, item, reason="EventAgeExceeded", error=item.last_error)
        return
    engine.metrics.record(
        scope.context, "Functions", "AsyncEventAge", item.function_name, age.total_seconds() * 1000
    )
    try:
        outcome = engine.invoker.run(scope.context, target, item.payload, request_id=item.invocation_id)
    except Throttled as exc:
        delay = min(policy.throttle_base * (2**item.throttles), policy.throttle_max) * random.uniform(
            0.5, 1.0
        )
        if age + delay > max_age:
            engine.metrics.record(scope.context, "Functions", "AsyncEventsDropped", item.function_name, 1)
            give_up(engine, scope, item, reason="EventAgeExceeded", error=exc.to_dict())
        else:
            engine.retry_later(
                item, now + delay, attempts=item.attempts, throttles=item.throttles + 1, error=exc.to_dict()
            )
        return
    if outcome.error is None:
        engine.queue.done(item)
        return
    attempts = item.attempts + 1
    if attempts > target.async_config.max_retry_attempts:
        give_up(
            engine,
            scope,
            item,
            reason="RetriesExhausted",
            error=outcome.error,
            attempts=attempts,
            on_failure=target.async_config.on_failure,
        )
        return
    engine.retry_later(
        item,
        now + policy.retry_base * attempts,
        attempts=attempts,
        throttles=item.throttles,
        error=outcome.error,
    )


def function_arn(account: str, name: str, qualifier: str) -> str:
    return f"arn:silo:lambda:local:{account}:function:{name}:{qualifier}"


def give_up(
    engine: FunctionsEngine,
    scope: Functions,
    item: AsyncItem,
    *,
    reason: str,
    error: dict[str, Any] | None,
    attempts: int | None = None,
    on_failure: dict[str, str] | None = None,
) -> None:
    """Send a finally failed item to the function's on-failure destination, else the central DLQ."""
    tries = item.attempts if attempts is None else attempts
    account = scope.context.account_id
    try:
        with engine.store.write() as conn:
            if on_failure is not None:
                record = {
                    "version": "1.0",
                    "timestamp": utcnow().isoformat(),
                    "requestContext": {
                        "requestId": item.invocation_id,
                        "functionArn": function_arn(account, item.function_name, item.qualifier),
                        "condition": reason,
                        "approximateInvokeCount": tries,
                    },
                    "requestPayload": json.loads(item.payload),
                    "responseContext": {
                        "statusCode": 200,
                        "executedVersion": item.qualifier,
                        "functionError": "Unhandled",
                    },
                    "responsePayload": error,
                }
                engine.queue.enqueue(
                    conn,
                    account,
                    on_failure["function"],
                    LATEST,
                    json.dumps(record).encode(),
                    source="on-failure",
                )
            else:
                engine.dlq.put(
                    conn,
                    account,
                    source="functions:async",
                    target={"type": "function", "function": item.function_name, "qualifier": item.qualifier},
                    payload=item.payload,
                    reason=reason,
                    error=error,
                    attempts=tries,
                    first_at=item.received_at,
                )
            engine.queue.finish(conn, item)
    except Exception:
        engine.metrics.record(scope.context, "Functions", "DeadLetterErrors", item.function_name, 1)
        raise
    if on_failure is not None:
        engine.dispatcher.wake()
