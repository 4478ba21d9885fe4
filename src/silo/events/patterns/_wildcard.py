"""The ``wildcard`` operator: ``*`` matches any run of characters, including none.

``\\*`` is a literal asterisk and ``\\\\`` a literal backslash; any other backslash, and two
``*`` in a row, are errors whose position counts UTF-8 bytes of the value inside its JSON quotes,
as EventBridge reports them (``Consecutive wildcard characters at pos 26``).

EventBridge also refuses rules whose wildcards could keep too many partial matches alive at once
on one field ("Rule is too complex"). :func:`complexity` counts them over all the wildcard patterns
one rule puts on one field, on a byte machine shaped like EventBridge's (event-ruler's), and the
limit is 10. That reproduces EventBridge's answers where they are known: ``*:*:*:*:*:event-bus/*``
and four ``*:stack/<name>/*`` are refused, ``/Users/*/dir/dir/dir/dir/dir/doc.txt``, three
``*:stack/<name>/*`` and four ``*.<ext>`` are accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from silo.events.errors import InvalidPattern

COMPLEXITY_LIMIT = 10
TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character"
)
_STAR = ""  # a token that is not a character: the wildcard
_MAX_STATE_SETS = 20_000


def parse_wildcard(value: str, path: str) -> tuple[str, ...]:
    """The literal pieces between the wildcards: ``"a*b\\*c"`` -> ``("a", "b*c")``."""
    pieces: list[str] = []
    current: list[str] = []
    at = 0
    while at < len(value):
        char = value[at]
        if char == "*":
            if at + 1 < len(value) and value[at + 1] == "*":
                raise InvalidPattern(f"Consecutive wildcard characters at pos {_pos(value, at)}", path)
            pieces.append("".join(current))
            current = []
        elif char == "\\":
            if at + 1 < len(value) and value[at + 1] in "*\\":
                current.append(value[at + 1])
                at += 1
            else:
                raise InvalidPattern(f"Invalid escape character at pos {_pos(value, at)}", path)
        else:
            current.append(char)
        at += 1
    pieces.append("".join(current))
    return tuple(pieces)


def wildcard_test(pieces: tuple[str, ...]) -> Callable[[Any], bool]:
    """A matcher for string values (anything else does not match)."""
    if len(pieces) == 1:
        only = pieces[0]
        return lambda value: value.__class__ is str and value == only
    head, tail, middle = pieces[0], pieces[-1], pieces[1:-1]
    fixed = len(head) + len(tail)

    def test(value: Any) -> bool:
        if value.__class__ is not str or len(value) < fixed:
            return False
        if not (value.startswith(head) and value.endswith(tail)):
            return False
        at, end = len(head), len(value) - len(tail)
        for piece in middle:  # leftmost placement of each piece is always the best choice
            found = value.find(piece, at, end)
            if found < 0:
                return False
            at = found + len(piece)
        return True

    return test


def complexity(patterns: Iterable[tuple[str, ...]]) -> int:
    """How many partial matches a worst-case value keeps alive at once (capped past the limit).

    The patterns become one byte machine, as EventBridge builds it: the literal prefix up to the
    first wildcard is shared between patterns, the rest is each pattern's own; a character after
    a wildcard is also reachable from before the wildcard. Every state weighs the number of
    patterns through it; a set of active states weighs its states plus the wildcard states they
    could step into. The answer is the heaviest set any input reaches.
    """
    machine = _Machine()
    for ident, pieces in enumerate(dict.fromkeys(p for p in patterns if len(p) > 1)):
        machine.add(ident, pieces)
    return machine.worst()


class _Machine:
    def __init__(self) -> None:
        self.literal: list[dict[str, list[int]]] = []
        self.wild: list[list[int]] = []
        self.weight: list[set[int]] = []
        self.trie: list[dict[str, int]] = []
        self.star: list[int] = []
        self.alphabet: set[str] = set()
        self.new()

    def new(self) -> int:
        self.literal.append({})
        self.wild.append([])
        self.weight.append(set())
        self.trie.append({})
        self.star.append(-1)
        return len(self.literal) - 1

    def add(self, ident: int, pieces: tuple[str, ...]) -> None:
        tokens: list[str] = ['"']
        for index, piece in enumerate(pieces):
            if index:
                tokens.append(_STAR)
            tokens.extend(piece)
        tokens.append('"')
        current, before, shared = 0, -1, True
        for index, token in enumerate(tokens):
            last = index == len(tokens) - 1
            target = -1
            if not last and token == _STAR and shared:
                target = self.star[current]
            elif not last and shared:
                target = self.trie[current].get(token, -1)
            created = target < 0
            if created:
                target = self.new()
                if not last and token == _STAR and shared:
                    self.star[current] = target
                elif not last and shared:
                    self.trie[current][token] = target
            if token == _STAR and not last:
                shared = False
                if not self.wild[target]:
                    self.wild[current].append(target)
                    self.wild[target].append(target)
            elif last or created:
                self.alphabet.add(token)
                self.literal[current].setdefault(token, []).append(target)
                if tokens[index - 1] == _STAR:
                    self.literal[before].setdefault(token, []).append(target)
            self.weight[target].add(ident)
            before, current = current, target

    def worst(self) -> int:
        if len(self.literal) == 1:
            return 0
        chars = [_STAR, *self.alphabet]  # _STAR stands for any character no pattern names
        pending = [frozenset([0])]
        seen: set[frozenset[int]] = set()
        worst = 0
        while pending:
            active = pending.pop()
            for char in chars:
                following: set[int] = set()
                for state in active:
                    following.update(self.wild[state])
                    following.update(self.literal[state].get(char, ()))
                if not following:
                    continue
                weight = sum(len(self.weight[state]) for state in following)
                weight += sum(
                    len(self.weight[wild])
                    for state in following
                    for wild in self.wild[state]
                    if wild not in following
                )
                worst = max(worst, weight)
                frozen = frozenset(following)
                if worst > COMPLEXITY_LIMIT or len(seen) >= _MAX_STATE_SETS:
                    return COMPLEXITY_LIMIT + 1
                if frozen not in seen:
                    seen.add(frozen)
                    pending.append(frozen)
        return worst


def _pos(value: str, at: int) -> int:
    """EventBridge's position: UTF-8 bytes before ``at``, plus the opening quote."""
    return len(value[:at].encode()) + 1
