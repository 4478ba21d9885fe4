"""A state's data flow in either query language: effective input, output, variables to assign."""

from __future__ import annotations

import random
from typing import Any

from silo.workflows import expressions, paths
from silo.workflows.definition import Catcher, State
from silo.workflows.definition._model import UNSET
from silo.workflows.interpreter._model import Execution

_WITH_RESULT = ("Task", "Map", "Parallel")
WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"


def context_object(execution: Execution, map_item: dict[str, Any] | None = None) -> dict[str, Any]:
    """The context object (``$$`` / ``$states.context``) for the current state."""
    info = execution.info
    context: dict[str, Any] = {
        "Execution": {
            "Id": info.id,
            "Input": execution.input,
            "Name": info.name,
            "RoleArn": info.role_arn,
            "StartTime": info.start_time,
            "RedriveCount": execution.redrive_count,
        },
        "State": {
            "EnteredTime": execution.entered_time,
            "Name": execution.state_name,
            "RetryCount": execution.retry_count,
        },
        "StateMachine": {"Id": info.state_machine_id, "Name": info.state_machine_name},
    }
    if map_item is not None:
        context["Map"] = {"Item": map_item}
    return context


class StateData:
    """Evaluates one state's fields for one execution at one moment."""

    def __init__(self, state: State, execution: Execution, rng: random.Random) -> None:
        self.state = state
        self.execution = execution
        self.raw = execution.state_input
        self.variables = execution.variables
        self.context = context_object(execution)
        if state.type == "Task" and str(state.get("Resource", "")).endswith(WAIT_FOR_TASK_TOKEN):
            self.context["Task"] = {"Token": execution.task_token}
        self.rng = rng

    def states(self, **extra: Any) -> dict[str, Any]:
        return {"input": self.raw, "context": self.context, **extra}

    def jsonata(self, value: Any, **extra: Any) -> Any:
        return expressions.evaluate_template(value, self.states(**extra), self.variables)

    def field(self, key: str, default: Any = None) -> Any:
        """A plain field (``Seconds``, ``MaxConcurrency``, ``Error``...), a ``...Path`` variant or a
        JSONata expression, resolved against the effective input."""
        state = self.state
        if state.has(f"{key}Path"):
            if key in ("Error", "Cause"):
                return paths.render({"v.$": state.get(f"{key}Path")}, self.raw, self.context, self.variables)[
                    "v"
                ]
            path = paths.cached_path(state.get(f"{key}Path"), True)
            return path.get(self.effective(), self.context, self.variables)
        if not state.has(key):
            return default
        value = state.get(key)
        return self.jsonata(value) if state.jsonata else value

    def effective(self) -> Any:
        """JSONPath: the input after ``InputPath`` (and ``Parameters``); JSONata: ``Arguments``."""
        state = self.state
        if state.jsonata:
            return self.jsonata(state.get("Arguments")) if state.has("Arguments") else self.raw
        data = paths.select(state.get("InputPath", "$"), self.raw, self.context, self.variables)
        if state.has("Parameters") and state.type != "Map":
            data = paths.render(state.get("Parameters"), data, self.context, self.variables, self.rng)
        return data

    def finish(self, result: Any = UNSET) -> tuple[Any, dict[str, Any]]:
        """The state output and the variables to assign, from the result (Task, Map, Parallel)."""
        state = self.state
        if state.jsonata:
            extra = {} if result is UNSET else {"result": result}
            default = self.raw if result is UNSET else result
            output = self.jsonata(state.get("Output"), **extra) if state.has("Output") else default
            assigned = self.jsonata(state.get("Assign"), **extra) if state.has("Assign") else {}
            return output, assigned
        effective = self.effective() if state.type != "Map" else None
        if state.type in _WITH_RESULT:
            if state.has("ResultSelector"):
                result = paths.render(
                    state.get("ResultSelector"), result, self.context, self.variables, self.rng
                )
        elif state.type == "Pass":
            result = state.get("Result") if state.has("Result") else effective
        else:
            result = effective
        assigned = self.assign(state.get("Assign"), result)
        if state.type in (*_WITH_RESULT, "Pass"):
            combined = paths.apply_result_path(self.raw, result, state.get("ResultPath", "$"))
        else:
            combined = result
        output = paths.select(state.get("OutputPath", "$"), combined, self.context, self.variables)
        return output, assigned

    def assign(self, template: Any, data: Any, **extra: Any) -> dict[str, Any]:
        if template is None or template is UNSET:
            return {}
        if self.state.jsonata:
            value: dict[str, Any] = self.jsonata(template, **extra)
            return value
        rendered: dict[str, Any] = paths.render(template, data, self.context, self.variables, self.rng)
        return rendered

    def caught(self, catcher: Catcher, error_output: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Output and variables after ``catcher`` caught an error."""
        if self.state.jsonata:
            extra = {"errorOutput": error_output}
            output = error_output if catcher.output is UNSET else self.jsonata(catcher.output, **extra)
            return output, self.assign(catcher.assign, None, **extra)
        output = paths.apply_result_path(self.raw, error_output, catcher.result_path)
        return output, self.assign(catcher.assign, error_output)
