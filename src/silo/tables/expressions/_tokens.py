"""Tokens of the expression languages, and the errors that point at one.

Every expression (condition, filter, key condition, update, projection) is made of the same tokens:
names (``Price``), name placeholders (``#p``), value placeholders (``:v``), list indexes (``0``),
and the punctuation ``( ) [ ] , . = <> < <= > >= + -``. Anything else becomes a one-character
``bad`` token that the parser then refuses, as DynamoDB does (``token: "-", near: "my-attr"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from silo.tables.errors import ValidationException

MAX_EXPRESSION_BYTES = 4096

_TOKEN = re.compile(
    r"""
      (?P<space>[ \t\r\n]+)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<name_ref>\#[A-Za-z0-9_]+)
    | (?P<value_ref>:[A-Za-z0-9_]+)
    | (?P<number>[0-9]+)
    | (?P<op><>|<=|>=|[=<>()\[\],.+\-])
    | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` (name, name_ref, value_ref, number, op, bad, eof), its text and span."""

    kind: str
    text: str
    start: int
    end: int

    def is_word(self, word: str) -> bool:
        """Whether this is the keyword ``word`` (keywords are not case-sensitive)."""
        return self.kind == "name" and self.text.upper() == word

    def shown(self) -> str:
        return "<EOF>" if self.kind == "eof" else self.text


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, whitespace dropped, ending with an ``eof`` token."""
    tokens = [
        Token(match.lastgroup or "bad", match.group(), match.start(), match.end())
        for match in _TOKEN.finditer(text)
        if match.lastgroup != "space"
    ]
    tokens.append(Token("eof", "", len(text), len(text)))
    return tokens


def expression_error(kind: str, reason: str, position: int | None = None) -> ValidationException:
    """``Invalid <kind>: <reason>``, with the position of the token at fault when there is one."""
    details: dict[str, object] = {"expression": kind}
    if position is not None:
        details["position"] = position
    return ValidationException(f"Invalid {kind}: {reason}", **details)


def syntax_error(kind: str, text: str, tokens: list[Token], index: int) -> ValidationException:
    """DynamoDB's syntax error for ``tokens[index]``: the token, and the text from the token before
    it to the token after it (``token: ":", near: "hits : incr"``)."""
    token = tokens[index]
    start = tokens[index - 1].start if index > 0 else token.start
    end = tokens[index + 1].end if index + 1 < len(tokens) else len(text)
    near = text[start:end]
    error = expression_error(
        kind, f'Syntax error; token: "{token.shown()}", near: "{near}"', position=token.start
    )
    error.details.update(token=token.shown(), near=near)
    return error


def check_length(kind: str, text: str) -> None:
    """Refuse an empty expression, or one over 4 KB, as DynamoDB does."""
    if not text.strip():
        raise expression_error(kind, "The expression can not be empty;")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EXPRESSION_BYTES:
        raise expression_error(
            kind, f"Expression size has exceeded the maximum allowed size; expression size: {size}"
        )
