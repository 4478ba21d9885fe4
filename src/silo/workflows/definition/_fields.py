"""Which fields each state type allows, in each query language."""

from __future__ import annotations

from silo.workflows.definition._model import QueryLanguage

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
TERMINAL = ("Succeed", "Fail", "Choice")  # no Next/End of their own
MAX_NAME = 80
MAX_SECONDS = 99_999_999
MAX_DELAY = 31_622_400

_COMMON = {"Type", "Comment", "QueryLanguage"}
_TRANSITION = {"Next", "End"}
_IO_JSONPATH = {"InputPath", "OutputPath"}
_ERRORS = {"Retry", "Catch"}

_JSONPATH: dict[str, set[str]] = {
    "Pass": _TRANSITION | _IO_JSONPATH | {"ResultPath", "Parameters", "Result", "Assign"},
    "Task": _TRANSITION
    | _IO_JSONPATH
    | _ERRORS
    | {
        "Resource",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Credentials",
        "Assign",
    },
    "Choice": _IO_JSONPATH | {"Choices", "Default", "Assign"},
    "Wait": _TRANSITION | _IO_JSONPATH | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"},
    "Succeed": _IO_JSONPATH,
    "Fail": {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _TRANSITION
    | _IO_JSONPATH
    | _ERRORS
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Assign"},
    "Map": _TRANSITION
    | _IO_JSONPATH
    | _ERRORS
    | {
        "ItemsPath",
        "ItemSelector",
        "Parameters",
        "ItemProcessor",
        "Iterator",
        "ResultSelector",
        "ResultPath",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "Label",
        "Assign",
    },
}

_JSONATA: dict[str, set[str]] = {
    "Pass": _TRANSITION | {"Output", "Assign"},
    "Task": _TRANSITION
    | _ERRORS
    | {"Resource", "Arguments", "Output", "Assign", "TimeoutSeconds", "HeartbeatSeconds", "Credentials"},
    "Choice": {"Choices", "Default", "Output", "Assign"},
    "Wait": _TRANSITION | {"Seconds", "Timestamp", "Output", "Assign"},
    "Succeed": {"Output"},
    "Fail": {"Error", "Cause"},
    "Parallel": _TRANSITION | _ERRORS | {"Branches", "Arguments", "Output", "Assign"},
    "Map": _TRANSITION
    | _ERRORS
    | {
        "Items",
        "ItemSelector",
        "ItemProcessor",
        "MaxConcurrency",
        "ToleratedFailurePercentage",
        "ToleratedFailureCount",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "Label",
        "Output",
        "Assign",
    },
}


def allowed_fields(state_type: str, language: QueryLanguage) -> set[str]:
    table = _JSONATA if language is QueryLanguage.JSONATA else _JSONPATH
    return _COMMON | table[state_type]


def other_language_fields(state_type: str, language: QueryLanguage) -> set[str]:
    """Fields the state would allow in the other query language (for a clearer message)."""
    other = QueryLanguage.JSONPATH if language is QueryLanguage.JSONATA else QueryLanguage.JSONATA
    return allowed_fields(state_type, other) - allowed_fields(state_type, language)
