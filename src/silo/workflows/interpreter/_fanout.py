"""Map and Parallel: start children (at most ``MaxConcurrency`` at a time), gather their results,
and decide when the state succeeds or fails.

A Parallel state fails with the error of the first branch that fails. A Map state without
``ToleratedFailureCount``/``ToleratedFailurePercentage`` fails with the error of the first item
that fails; with them, it fails with ``States.ExceedToleratedFailureThreshold`` once more items
failed than tolerated, and a tolerated failure leaves ``{"Error", "Cause"}`` in its result slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from silo.workflows import expressions, paths
from silo.workflows.errors import RUNTIME, TOLERATED_FAILURE, StatesError
from silo.workflows.interpreter._io import StateData, context_object
from silo.workflows.interpreter._model import (
    ChildFailed,
    Children,
    ChildSucceeded,
    StartChild,
)

if TYPE_CHECKING:
    from silo.workflows.interpreter._machine import Run


def start(run: Run, data: StateData, *, on_done: Callable[[Run, Any], None]) -> None:
    state = run.state
    # tells this attempt's children from those of an earlier state entry or attempt
    generation = f"{run.execution.transitions}.{run.execution.retry_count}"
    if state.type == "Parallel":
        effective = data.effective()
        inputs = tuple(effective for _ in state.branches)
        children = Children(inputs, tuple(None for _ in inputs), generation=generation)
        run.record("ParallelStateStarted")
    else:
        inputs = _map_inputs(run, data)
        children = Children(
            inputs,
            tuple(None for _ in inputs),
            max_concurrency=_count(data.field("MaxConcurrency", 0), "MaxConcurrency"),
            tolerated_count=_optional(data.field("ToleratedFailureCount"), "ToleratedFailureCount"),
            tolerated_percentage=_percentage(data.field("ToleratedFailurePercentage")),
            generation=generation,
        )
        run.record("MapStateStarted", length=len(inputs))
    run.update(children=children, waiting="children")
    if not inputs:
        _succeeded(run)
        on_done(run, [])
        return
    _launch(run)


def _map_inputs(run: Run, data: StateData) -> tuple[Any, ...]:
    state = run.state
    if state.jsonata:
        items = data.jsonata(state.get("Items")) if state.has("Items") else data.raw
        effective = data.raw
    else:
        effective = paths.select(state.get("InputPath", "$"), data.raw, data.context, data.variables)
        items = paths.select(state.get("ItemsPath", "$"), effective, data.context, data.variables)
    if not isinstance(items, list):
        raise StatesError(RUNTIME, f"The Map items must be an array, got {type(items).__name__}")
    selector = state.get("ItemSelector", state.get("Parameters"))
    if selector is None:
        return tuple(items)
    inputs = []
    for index, item in enumerate(items):
        context = context_object(run.execution, {"Index": index, "Value": item})
        if state.jsonata:
            states = {"input": data.raw, "context": context}
            inputs.append(expressions.evaluate_template(selector, states, data.variables))
        else:
            inputs.append(paths.render(selector, effective, context, data.variables, data.rng))
    return tuple(inputs)


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesError(RUNTIME, f"{name} must be a non-negative integer, got {value!r}")
    return value


def _optional(value: Any, name: str) -> int | None:
    return None if value is None else _count(value, name)


def _percentage(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise StatesError(RUNTIME, f"ToleratedFailurePercentage must be from 0 to 100, got {value!r}")
    return float(value)


def _launch(run: Run) -> None:
    """Start as many waiting children as the concurrency limit allows."""
    children = run.execution.children
    assert children is not None
    state = run.state
    running = children.started - children.finished
    room = len(children.inputs) if children.max_concurrency == 0 else children.max_concurrency - running
    started = children.started
    while room > 0 and started < len(children.inputs):
        machine = state.branches[started] if state.type == "Parallel" else state.branches[0]
        run.commands.append(
            StartChild(
                started, machine, children.inputs[started], dict(run.execution.variables), children.generation
            )
        )
        if state.type == "Map":
            run.record("MapIterationStarted", name=state.name, index=started)
        started += 1
        room -= 1
    run.update(children=replace(children, started=started))


def child_done(run: Run, event: ChildSucceeded | ChildFailed) -> Any:
    """Record a child's outcome; returns the results list when all are done, a StatesError when
    the state fails, or None while children are still running."""
    children = run.execution.children
    if children is None or event.generation != children.generation:
        return None
    state = run.state
    results = list(children.results)
    failed = children.failed
    prefix = "MapIteration" if state.type == "Map" else "ParallelBranch"
    if isinstance(event, ChildSucceeded):
        results[event.index] = event.output
        if state.type == "Map":
            run.record(f"{prefix}Succeeded", name=state.name, index=event.index)
    else:
        failed += 1
        results[event.index] = {"Error": event.error, "Cause": event.cause}
        if state.type == "Map":
            run.record(f"{prefix}Failed", name=state.name, index=event.index)
        failure = _failure(state.type, children, failed, event)
        if failure is not None:
            run.record(f"{state.type}StateFailed")
            return failure
    children = replace(children, results=tuple(results), finished=children.finished + 1, failed=failed)
    run.update(children=children)
    if children.finished == len(children.inputs):
        _succeeded(run)
        return list(children.results)
    _launch(run)
    return None


def _failure(kind: str, children: Children, failed: int, event: ChildFailed) -> StatesError | None:
    tolerated = children.tolerated_count is not None or children.tolerated_percentage is not None
    if kind == "Parallel" or not tolerated:
        return StatesError(event.error, event.cause)
    over_count = children.tolerated_count is not None and failed > children.tolerated_count
    percentage = children.tolerated_percentage
    over_percentage = percentage is not None and failed * 100 > percentage * len(children.inputs)
    if over_count or over_percentage:
        return StatesError(TOLERATED_FAILURE, f"{failed} of {len(children.inputs)} items failed")
    return None


def _succeeded(run: Run) -> None:
    run.record(f"{run.state.type}StateSucceeded")
