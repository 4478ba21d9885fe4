"""EventBridge event patterns: compile (as PutRule checks them), match, and index by bus.

    pattern = compile_pattern('{"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}')
    pattern.matches(event)                       # -> bool
    index = RuleIndex(); index.add("big-orders", pattern); index.match(event)   # -> ["big-orders"]

Pure: the standard library only, no I/O.
"""

from silo.events.patterns._compile import MAX_LENGTH, MAX_LENGTH_CEILING, compile_pattern
from silo.events.patterns._index import RuleIndex
from silo.events.patterns._pattern import Pattern

__all__ = ["MAX_LENGTH", "MAX_LENGTH_CEILING", "Pattern", "RuleIndex", "compile_pattern"]
