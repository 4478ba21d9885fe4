"""The parser of intrinsic function calls: ``States.Format('{} {}', $.a, States.UUID())``.

Arguments are strings in single quotes (``\\'``, ``\\{``, ``\\}`` and ``\\\\`` escape), numbers,
``true``/``false``/``null``, paths (``$.x``, ``$$.Execution.Id``, ``$var``) and nested calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from silo.workflows._path import Path, compile_path

_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"true|false|null")


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Call:
    """A parsed call; ``text`` is the source. Strings keep ``\\{``/``\\}`` for States.Format."""

    name: str
    args: tuple[Literal | Path | Call, ...]
    text: str


def looks_like_call(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.")


def parse_call(text: str) -> Call:
    """Parse one call covering all of ``text``. Raises ValueError saying where it fails."""
    parser = _Parser(text)
    call = parser.call()
    parser.skip_space()
    if parser.position != len(text):
        raise ValueError(f"unexpected {text[parser.position :]!r} after the call in {text!r}")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at position {self.position} of {self.text!r}")

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position] == " ":
            self.position += 1

    def call(self) -> Call:
        start = self.position
        name = _NAME.match(self.text, self.position)
        if name is None:
            raise self.fail("expected an intrinsic function name (States.Name)")
        self.position = name.end()
        if not self.text.startswith("(", self.position):
            raise self.fail("expected (")
        self.position += 1
        args: list[Literal | Path | Call] = []
        self.skip_space()
        if self.text.startswith(")", self.position):
            self.position += 1
            return Call(name.group(0), (), self.text[start : self.position])
        while True:
            self.skip_space()
            args.append(self.argument())
            self.skip_space()
            if self.text.startswith(",", self.position):
                self.position += 1
                continue
            if self.text.startswith(")", self.position):
                self.position += 1
                return Call(name.group(0), tuple(args), self.text[start : self.position])
            raise self.fail("expected , or )")

    def argument(self) -> Literal | Path | Call:
        char = self.text[self.position : self.position + 1]
        if char == "'":
            return Literal(self.string())
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.position):
            return self.call()
        for pattern in (_NUMBER, _WORD):
            found = pattern.match(self.text, self.position)
            if found is not None:
                self.position = found.end()
                return Literal(json.loads(found.group(0)))
        raise self.fail("expected an argument")

    def string(self) -> str:
        self.position += 1
        chars: list[str] = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "\\":
                escaped = self.text[self.position + 1 : self.position + 2]
                if escaped not in ("'", "{", "}", "\\"):
                    raise self.fail(f"invalid escape \\{escaped}")
                # States.Format needs to tell an escaped brace from a placeholder: keep the backslash
                chars.append("\\" + escaped if escaped in "{}" else escaped)
                self.position += 2
                continue
            if char == "'":
                self.position += 1
                return "".join(chars)
            chars.append(char)
            self.position += 1
        raise self.fail("unterminated string")

    def path(self) -> Path:
        start = self.position
        depth = 0
        quote = ""
        while self.position < len(self.text):
            char = self.text[self.position]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.position += 1
        text = self.text[start : self.position].strip()
        try:
            return compile_path(text)
        except ValueError as error:
            raise self.fail(str(error)) from None
