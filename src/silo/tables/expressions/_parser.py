"""Recursive-descent parsers of the three grammars: conditions (also filters and key conditions),
update expressions and projections. They check syntax only; the checks DynamoDB makes after
parsing (reserved words, functions, placeholders, path overlaps) come later, in DynamoDB's order.

Conditions, lowest precedence first: ``OR``, ``AND``, ``NOT``, then a comparison (``= <> < <= > >=``),
``BETWEEN .. AND ..``, ``IN (..)``, a function call, or a parenthesised condition. Keywords are not
case-sensitive; function names are.
"""

from __future__ import annotations

from silo.tables.expressions._ast import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Group,
    In,
    Node,
    Not,
    Operand,
    Or,
    ParsedUpdate,
    Path,
    UpdateAction,
    ValueRef,
    is_condition,
    is_operand,
    unwrap,
)
from silo.tables.expressions._tokens import Token, syntax_error, tokenize

COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
UPDATE_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


class _Parser:
    def __init__(self, text: str, kind: str, keywords: frozenset[str]) -> None:
        self.text = text
        self.kind = kind
        self.keywords = keywords
        self.tokens = tokenize(text)
        self.index = 0
        self.redundant_parentheses: int | None = None

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, index: int | None = None) -> Exception:
        return syntax_error(self.kind, self.text, self.tokens, self.index if index is None else index)

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.error()
        return self.advance()

    def at_keyword(self, word: str) -> bool:
        return self.peek().is_word(word)

    def is_name(self, token: Token) -> bool:
        return token.kind == "name" and token.text.upper() not in self.keywords

    def end(self) -> None:
        if self.peek().kind != "eof":
            raise self.error()

    def path(self) -> Path:
        parts: list[str | int] = []
        positions: list[int] = []
        token = self.peek()
        if not (self.is_name(token) or token.kind == "name_ref"):
            raise self.error()
        self.advance()
        parts.append(token.text)
        positions.append(token.start)
        while self.at(".") or self.at("["):
            if self.advance().text == ".":
                token = self.peek()
                if not (self.is_name(token) or token.kind == "name_ref"):
                    raise self.error()
                parts.append(self.advance().text)
            else:
                token = self.peek()
                if token.kind != "number":
                    raise self.error()
                parts.append(int(self.advance().text))
                self.expect("]")
            positions.append(token.start)
        return Path(tuple(parts), tuple(positions))


class _ConditionParser(_Parser):
    def parse(self) -> Node:
        node = self.disjunction()
        self.require_condition(node)
        self.end()
        return node

    def require_condition(self, node: Node) -> None:
        if not is_condition(node):
            raise self.error()

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_keyword("OR"):
            self.require_condition(node)
            token = self.advance()
            right = self.conjunction()
            self.require_condition(right)
            node = Or(node, right, token.start)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.at_keyword("AND"):
            self.require_condition(node)
            token = self.advance()
            right = self.negation()
            self.require_condition(right)
            node = And(node, right, token.start)
        return node

    def negation(self) -> Node:
        if self.at_keyword("NOT"):
            token = self.advance()
            operand = self.negation()
            self.require_condition(operand)
            return Not(operand, token.start)
        return self.predicate()

    def predicate(self) -> Node:
        left = self.primary()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARATORS:
            operand = self.as_operand(left)
            self.advance()
            return Compare(token.text, operand, self.operand(), token.start)
        if token.is_word("BETWEEN"):
            operand = self.as_operand(left)
            self.advance()
            low = self.operand()
            if not self.at_keyword("AND"):
                raise self.error()
            self.advance()
            return Between(operand, low, self.operand(), token.start)
        if token.is_word("IN"):
            operand = self.as_operand(left)
            self.advance()
            self.expect("(")
            options = [self.operand()]
            while self.at(","):
                self.advance()
                options.append(self.operand())
            self.expect(")")
            return In(operand, tuple(options), token.start)
        return left

    def as_operand(self, node: Node) -> Operand:
        """The operand of a comparison; a condition there is a syntax error at the operator."""
        if not is_operand(node):
            raise self.error()
        inner = unwrap(node)
        assert isinstance(inner, Path | ValueRef | Call)
        return inner

    def operand(self) -> Operand:
        node = self.primary()
        return self.as_operand(node)

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.disjunction()
            self.expect(")")
            if isinstance(inner, Group) and self.redundant_parentheses is None:
                self.redundant_parentheses = token.start
            return Group(inner, token.start)
        if token.kind == "value_ref":
            self.advance()
            return ValueRef(token.text, token.start)
        if self.is_name(token) and self.peek(1).kind == "op" and self.peek(1).text == "(":
            return self.call()
        return self.path()

    def call(self) -> Call:
        token = self.advance()
        self.expect("(")
        args = [self.operand()]
        while self.at(","):
            self.advance()
            args.append(self.operand())
        self.expect(")")
        return Call(token.text, tuple(args), token.start)


class _UpdateParser(_Parser):
    def parse(self) -> ParsedUpdate:
        actions: list[UpdateAction] = []
        while True:
            token = self.peek()
            clause = token.text.upper() if token.kind == "name" else ""
            if clause not in UPDATE_CLAUSES:
                raise self.error()
            self.advance()
            actions.append(self.action(clause, token))
            while self.at(","):
                self.advance()
                actions.append(self.action(clause, token))
            if self.peek().kind == "eof":
                return ParsedUpdate(tuple(actions))

    def action(self, clause: str, keyword: Token) -> UpdateAction:
        path = self.path()
        if clause == "SET":
            self.expect("=")
            return UpdateAction(clause, path, self.set_value(), keyword.start)
        if clause == "REMOVE":
            return UpdateAction(clause, path, None, keyword.start)
        token = self.peek()
        if token.kind != "value_ref":
            raise self.error()
        self.advance()
        return UpdateAction(clause, path, ValueRef(token.text, token.start), keyword.start)

    def set_value(self) -> Operand | Arithmetic:
        if self.at("("):
            self.advance()
            inner = self.set_value()
            self.expect(")")
            if isinstance(inner, Arithmetic):
                return inner
            return self.arithmetic(inner)
        return self.arithmetic(self.operand())

    def arithmetic(self, left: Operand) -> Operand | Arithmetic:
        token = self.peek()
        if token.kind == "op" and token.text in ("+", "-"):
            self.advance()
            return Arithmetic(token.text, left, self.operand(), token.start)
        return left

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.operand()
            self.expect(")")
            return inner
        if token.kind == "value_ref":
            self.advance()
            return ValueRef(token.text, token.start)
        if self.is_name(token) and self.peek(1).kind == "op" and self.peek(1).text == "(":
            self.advance()
            self.expect("(")
            args = [self.operand()]
            while self.at(","):
                self.advance()
                args.append(self.operand())
            self.expect(")")
            return Call(token.text, tuple(args), token.start)
        return self.path()


def parse_condition_syntax(text: str, kind: str) -> tuple[Node, int | None]:
    """The syntax tree of a condition, and the position of the first redundant parentheses
    (``((a = :v))``, an error DynamoDB reports after syntax errors); ValidationException (a syntax
    error) when it does not parse."""
    parser = _ConditionParser(text, kind, CONDITION_KEYWORDS)
    return parser.parse(), parser.redundant_parentheses


def parse_update_syntax(text: str) -> ParsedUpdate:
    """The actions of an update expression, in order, with their clause."""
    return _UpdateParser(text, "UpdateExpression", frozenset(UPDATE_CLAUSES)).parse()


def parse_projection_syntax(text: str) -> tuple[Path, ...]:
    """The paths of a projection expression, in order."""
    parser = _Parser(text, "ProjectionExpression", frozenset())
    paths = [parser.path()]
    while parser.at(","):
        parser.advance()
        paths.append(parser.path())
    parser.end()
    return tuple(paths)
