"""Events: the pure engines behind EventBridge-style buses (no database, no I/O).

* :func:`compile_pattern` / :class:`Pattern` / :class:`RuleIndex`: event patterns as PutRule
  checks them, matching, and a per-bus index that matches in sub-linear time in the rule count;
* :func:`check_entry` / :func:`build_event`: PutEvents entries and the event envelope;
* :func:`compile_target_input` / :class:`TargetInput`: ``Input``, ``InputPath``, ``InputTransformer``.

Errors (:mod:`silo.events.errors`) are :class:`silo.errors.ValidationError` subclasses naming the
path or field at fault. ``silo.events.matching_bench.measure_matching`` measures the index.
"""

from silo.events.entries import MAX_ENTRY_BYTES, build_event, check_entry, entry_size
from silo.events.errors import InvalidEntry, InvalidPattern, InvalidTargetInput
from silo.events.patterns import Pattern, RuleIndex, compile_pattern
from silo.events.target_input import TargetInput, compile_target_input

__all__ = [
    "MAX_ENTRY_BYTES",
    "InvalidEntry",
    "InvalidPattern",
    "InvalidTargetInput",
    "Pattern",
    "RuleIndex",
    "TargetInput",
    "build_event",
    "check_entry",
    "compile_pattern",
    "compile_target_input",
    "entry_size",
]
