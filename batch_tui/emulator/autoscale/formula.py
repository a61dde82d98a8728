"""Provides the autoscale formula parser: tokens, statements and expression trees.

The language is the one "Create an automatic formula for scaling compute nodes in a Batch pool"
documents: statements separated by `;`, each an assignment (`$TargetDedicatedNodes = ...`,
`name = ...`) or an expression, with `//` and `/* */` comments, numbers, `"strings"`, variables
with or without `$`, function calls (`min(...)`, `time()`), method calls on metrics
(`$PendingTasks.GetSample(...)`), members of timestamps (`time().hour`), the arithmetic,
comparison and logical operators, `!`, unary minus and `cond ? a : b`.

A line break also ends a statement when the statement is complete there (no open bracket, no
operator at the end of the line, none at the start of the next), so one-statement-per-line
formulas without semicolons read as they look, and a statement may still span lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_STATEMENTS = 100
"""The service's limit: "up to 100 statements that are separated by semicolons"."""


class FormulaSyntaxError(Exception):
    """A formula that does not parse, with the line and column (1-based) where it fails."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(f"Line {line}, Col {col}: {message}")
        self.line = line
        self.col = col


@dataclass(frozen=True)
class Token:
    kind: str
    """NUM, STR, NAME, OP, END (a statement end) or EOF."""
    text: str
    line: int
    col: int


@dataclass(frozen=True)
class Node:
    """An expression; `line` and `col` locate it for error messages."""

    line: int
    col: int


@dataclass(frozen=True)
class Num(Node):
    value: float


@dataclass(frozen=True)
class Str(Node):
    value: str


@dataclass(frozen=True)
class Var(Node):
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Ternary(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Method(Node):
    target: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Member(Node):
    target: Node
    name: str


@dataclass(frozen=True)
class Statement:
    """`target = expr`, or a bare expression when `target` is None."""

    target: str | None
    expr: Node
    line: int
    col: int


_TOKEN = re.compile(
    r"(?P<ws>[ \t\r]+)|(?P<nl>\n)|(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<str>\"[^\"\n]*\"|'[^'\n]*')"
    r"|(?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:()=,.;])",
    re.S,
)
_BINARY = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
"""Binary operators and their precedence (higher binds tighter), as in C."""
_CONTINUES = set(_BINARY) | {"?", ":", ".", ")", "="}
"""Tokens that cannot start a statement: a line starting with one continues the last."""
_OPEN_ENDED = set(_BINARY) | {"?", ":", "(", ",", "=", "!"}
"""Tokens that cannot end a statement: a line ending with one continues on the next."""


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _raw_tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    offset = 0
    while offset < len(text):
        match = _TOKEN.match(text, offset)
        if match is None:
            line, col = _position(text, offset)
            raise FormulaSyntaxError(f"Unexpected character '{text[offset]}'.", line, col)
        kind = match.lastgroup or ""
        if kind in ("nl", "num", "str", "name", "op"):
            kind = {"nl": "NL", "num": "NUM", "str": "STR", "name": "NAME", "op": "OP"}[kind]
            tokens.append(Token(kind, match.group(), *_position(text, offset)))
        offset = match.end()
    return tokens


def _ends_statement(previous: Token | None, following: Token | None, depth: int) -> bool:
    """Whether a line break between two tokens ends a statement."""
    if depth > 0 or previous is None or following is None:
        return False
    if previous.kind == "OP" and previous.text in _OPEN_ENDED:
        return False
    return not (following.kind == "OP" and following.text in _CONTINUES)


def tokenize(text: str) -> list[Token]:
    """Splits a formula into tokens; line breaks that end a statement become END tokens.

    Raises:
        FormulaSyntaxError: On a character that starts no token.
    """
    raw = _raw_tokens(text)
    out: list[Token] = []
    depth = 0
    for index, token in enumerate(raw):
        if token.kind == "NL":
            following = next((t for t in raw[index + 1 :] if t.kind != "NL"), None)
            if _ends_statement(out[-1] if out else None, following, depth):
                out.append(Token("END", "\n", token.line, token.col))
            continue
        if token.kind == "OP" and token.text == ";":
            out.append(Token("END", ";", token.line, token.col))
            continue
        depth += {"(": 1, ")": -1}.get(token.text, 0) if token.kind == "OP" else 0
        out.append(token)
    line, col = _position(text, len(text))
    out.append(Token("EOF", "", line, col))
    return out


class _Parser:
    """A precedence-climbing parser over the token list."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def is_op(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "OP" and token.text == text

    def expect(self, text: str) -> Token:
        if not self.is_op(text):
            raise self.error(f"'{text}' was expected")
        return self.take()

    def error(self, message: str) -> FormulaSyntaxError:
        token = self.peek()
        found = "the end of the formula" if token.kind == "EOF" else f"'{token.text.strip()}'"
        return FormulaSyntaxError(f"{message} but {found} was found.", token.line, token.col)

    def statements(self) -> list[Statement]:
        out: list[Statement] = []
        while self.peek().kind != "EOF":
            if self.peek().kind == "END":
                self.take()
                continue
            out.append(self.statement())
            if self.peek().kind not in ("END", "EOF"):
                raise self.error("';' was expected")
        return out

    def statement(self) -> Statement:
        first = self.peek()
        if first.kind == "NAME" and self.peek(1).kind == "OP" and self.peek(1).text == "=":
            self.index += 2
            return Statement(first.text, self.expression(), first.line, first.col)
        return Statement(None, self.expression(), first.line, first.col)

    def expression(self) -> Node:
        cond = self.binary(1)
        if not self.is_op("?"):
            return cond
        self.take()
        then = self.expression()
        self.expect(":")
        return Ternary(cond.line, cond.col, cond, then, self.expression())

    def binary(self, level: int) -> Node:
        left = self.unary()
        while True:
            token = self.peek()
            strength = _BINARY.get(token.text, 0) if token.kind == "OP" else 0
            if strength < level:
                return left
            self.take()
            right = self.binary(strength + 1)
            left = Binary(token.line, token.col, token.text, left, right)

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "OP" and token.text in ("-", "+", "!"):
            self.take()
            return Unary(token.line, token.col, token.text, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while self.is_op("."):
            self.take()
            name = self.take()
            if name.kind != "NAME" or name.text.startswith("$"):
                self.index -= 1
                raise self.error("A member name was expected")
            # The whole `$Metric.Method(...)` is located where it starts, as errors cite it.
            if self.is_op("("):
                node = Method(node.line, node.col, node, name.text, self.arguments())
            else:
                node = Member(node.line, node.col, node, name.text)
        return node

    def arguments(self) -> tuple[Node, ...]:
        self.expect("(")
        args: list[Node] = []
        if not self.is_op(")"):
            args.append(self.expression())
            while self.is_op(","):
                self.take()
                args.append(self.expression())
        self.expect(")")
        return tuple(args)

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "NUM":
            self.take()
            return Num(token.line, token.col, float(token.text))
        if token.kind == "STR":
            self.take()
            return Str(token.line, token.col, token.text[1:-1])
        if token.kind == "NAME":
            self.take()
            if self.is_op("(") and not token.text.startswith("$"):
                return Call(token.line, token.col, token.text, self.arguments())
            return Var(token.line, token.col, token.text)
        if self.is_op("("):
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        raise self.error("An expression was expected")


def parse(text: str) -> list[Statement]:
    """Parses a formula into its statements.

    Raises:
        FormulaSyntaxError: When the formula does not parse or has too many statements.
    """
    statements = _Parser(tokenize(text)).statements()
    if len(statements) > MAX_STATEMENTS:
        extra = statements[MAX_STATEMENTS]
        raise FormulaSyntaxError(
            f"A formula can have at most {MAX_STATEMENTS} statements.", extra.line, extra.col
        )
    return statements
