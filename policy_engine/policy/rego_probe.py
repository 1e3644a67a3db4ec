"""Why a Rego test failed: the statement that did not hold, and the values it compared.

A test rule is undefined when one statement of its body does not hold. To say which, and
what came back, :func:`probe_module` writes helper rules beside the test (in its package,
with its imports): for each statement, one that holds when the body up to it holds; for a
comparison (``==``, ``!=``, ``<`` …), one per side that collects its values after the
statements before it; for another expression, its value. The runner evaluates them in a
child process (the embedded engine can crash) and :func:`explain_failure` turns the values
into one line, e.g.::

    line 45: d.segment == "trusted_hosted": got "on_prem_only", expected "trusted_hosted"

This reads the test's source text with a small scanner (strings, comments, brackets,
``with`` continuations), not a full Rego parser: a body it cannot split gets no probe, and
the runner keeps its plain message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: The runner's message for a test rule that is undefined (a statement did not hold).
UNDEFINED = "failed (undefined)"

#: Prefix of the helper rules (no test rule or helper of a test is expected to use it).
PROBE_PREFIX = "pe_probe_"

_IMPORT = re.compile(r"^import\s+.+$", re.MULTILINE)
_COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
_CONTINUES = ("==", "!=", "<=", ">=", "<", ">", ":=", "=", "+", "-", "*", "/", "&", "|", ",")
_KEYWORD_START = re.compile(r"^(some|every|not)\b")
_LITERAL_WORD = re.compile(r"^(true|false|null|-?\d+(\.\d+)?([eE][-+]?\d+)?)$")
_MAX_VALUE_CHARS = 400


@dataclass(frozen=True)
class Statement:
    """One statement of a test body: its text and 1-based line in the file."""

    text: str
    line: int

    @property
    def comparison(self) -> tuple[str, str, str] | None:
        """``(left, operator, right)`` when the statement is one comparison."""
        if _KEYWORD_START.match(self.text) or _top_level_word(self.text, "with"):
            return None
        found = _split_top_level(self.text, _COMPARISONS)
        return found

    @property
    def assignment(self) -> tuple[str, str] | None:
        """``(target, value)`` for ``x := value``."""
        found = _split_top_level(self.text, (":=",))
        return None if found is None else (found[0], found[2])

    @property
    def is_expression(self) -> bool:
        """Whether the statement can stand on the right of ``:=`` (it binds nothing)."""
        return (
            not _KEYWORD_START.match(self.text) and _split_top_level(self.text, (":=", "=")) is None
        )


@dataclass(frozen=True)
class Probe:
    """The helper rules written for one test: their names, and what each measures."""

    test: str
    statements: list[Statement]
    #: rule name -> (statement index, "holds"|"left"|"right"|"value")
    rules: dict[str, tuple[int, str]]


def statements_of(source: str, rule: str) -> list[Statement] | None:
    """The statements of the one body of test ``rule`` in ``source``; ``None`` when the
    rule is defined more than once or its body cannot be read."""
    code = _blank_comments(source)
    heads = [m for m in re.finditer(rf"^{re.escape(rule)}\b", code, re.MULTILINE)]
    if len(heads) != 1:
        return None
    cursor = heads[0].end()
    match = re.compile(r"\s*(?::=\s*true\s*)?if\s*").match(code, cursor)
    if match is None:
        return None
    cursor = match.end()
    if code.startswith("{", cursor):
        end = _closing(code, cursor)
        if end is None:
            return None
        return _statements(code, cursor + 1, end)
    line_end = code.find("\n", cursor)
    return _statements(code, cursor, len(code) if line_end < 0 else line_end)


def probe_module(
    package: str, source: str, tests: Mapping[str, list[Statement]], tag: str = ""
) -> tuple[str, list[Probe]]:
    """A module in ``package`` (with ``source``'s imports) holding the probes of ``tests``
    (test rule -> its statements); ``tag`` keeps rule names of several modules apart."""
    lines = [f"package {package}", "", *_IMPORT.findall(_blank_comments(source)), ""]
    probes = []
    for number, (test, statements) in enumerate(tests.items()):
        rules: dict[str, tuple[int, str]] = {}
        for index, statement in enumerate(statements):
            before = [s.text for s in statements[:index]]
            name = f"{PROBE_PREFIX}{tag}{number}_{index}"
            rules[f"{name}_holds"] = (index, "holds")
            lines.append(_partial(f"{name}_holds", "true", [*before, statement.text]))
            sides: list[tuple[str, str]] = []
            comparison = statement.comparison
            assignment = statement.assignment
            if comparison is not None:
                sides = [("left", comparison[0]), ("right", comparison[2])]
            elif assignment is not None:
                sides = [("right", assignment[1])]
            elif statement.is_expression:
                sides = [("value", statement.text)]
            for kind, expression in sides:
                rules[f"{name}_{kind}"] = (index, kind)
                lines.append(
                    _partial(f"{name}_{kind}", "pe_value", [*before, f"pe_value := {expression}"])
                )
        probes.append(Probe(test, statements, rules))
    return "\n".join(lines) + "\n", probes


def explain_failure(probe: Probe, values: Mapping[str, Any]) -> str | None:
    """One line saying which statement failed and what its sides were, from the probes'
    ``values`` (rule name -> value, absent when undefined); ``None`` when they do not tell."""
    collected: dict[tuple[int, str], list[Any]] = {}
    for rule, key in probe.rules.items():
        value = values.get(rule)
        collected[key] = list(value) if isinstance(value, list) else []
    failed = next(
        (i for i in range(len(probe.statements)) if not collected.get((i, "holds"))), None
    )
    if failed is None:
        return None
    statement = probe.statements[failed]
    where = f"line {statement.line}: {_one_line(statement.text)}"
    comparison = statement.comparison
    if comparison is not None:
        left, operator, right = comparison
        got, expected = collected[(failed, "left")], collected[(failed, "right")]
        if _is_literal(left) and not _is_literal(right):
            (left, got), (right, expected) = (right, expected), (left, got)
        if operator == "==":
            return f"{where}: got {_render(left, got)}, expected {_render(right, expected)}"
        parts = [_describe(left, got), _describe(right, expected)]
        return f"{where}: " + "; ".join(p for p in parts if p)
    if statement.assignment is not None:
        return f"{where}: the right side is undefined"
    value = collected.get((failed, "value"))
    if value is None:
        return f"{where} does not hold"
    if not value:
        return f"{where} is undefined"
    return f"{where} is {_values(value)}"


# ------------------------------------------------------------------ rendering


def _render(expression: str, values: list[Any]) -> str:
    if not values:
        return f"undefined ({_one_line(expression)} has no value)"
    return _values(values)


def _describe(expression: str, values: list[Any]) -> str:
    if _is_literal(expression):
        return ""
    return f"{_one_line(expression)} is {_render(expression, values)}"


def _values(values: list[Any]) -> str:
    if len(values) == 1:
        return _json(values[0])
    return f"one of {_json(values)}"


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 160 else flat[:159] + "…"


def _is_literal(expression: str) -> bool:
    text = expression.strip()
    if _LITERAL_WORD.match(text) or text == "set()":
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _partial(name: str, value: str, body: list[str]) -> str:
    inner = "\n".join(f"\t{line}" for text in body for line in text.splitlines())
    return f"{name} contains {value} if {{\n{inner}\n}}\n"


# ------------------------------------------------------------------ scanning


def _blank_comments(source: str) -> str:
    """``source`` with comments replaced by spaces (offsets and lines unchanged)."""
    out = list(source)
    index = 0
    while index < len(source):
        char = source[index]
        if char in '"`':
            index = _string_end(source, index)
            continue
        if char == "#":
            end = source.find("\n", index)
            end = len(source) if end < 0 else end
            out[index:end] = " " * (end - index)
            index = end
            continue
        index += 1
    return "".join(out)


def _string_end(code: str, start: int) -> int:
    """The index after the string literal starting at ``start``."""
    quote = code[start]
    index = start + 1
    while index < len(code):
        if quote == '"' and code[index] == "\\":
            index += 2
            continue
        if code[index] == quote:
            return index + 1
        index += 1
    return len(code)


def _closing(code: str, start: int) -> int | None:
    """The index of the bracket closing the one at ``start``."""
    for index, depth in _scan(code, start):
        if depth == 0 and code[index] in ")]}":
            return index
    return None


def _statements(code: str, start: int, end: int) -> list[Statement] | None:
    """Split ``code[start:end]`` at top-level newlines and semicolons, joining lines that
    continue a statement (an operator at the end, ``with`` at the start of the next)."""
    wrapped = f"({code[start:end]})"
    if _closing(wrapped, 0) != len(wrapped) - 1:
        return None  # unbalanced brackets: not a body this scanner can split
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for index in _top_level(code, start, end):
        if code[index] in "\n;":
            pieces.append((piece_start, index))
            piece_start = index + 1
    pieces.append((piece_start, end))
    statements: list[Statement] = []
    pending: tuple[int, int] | None = None
    for piece in pieces:
        text = code[piece[0] : piece[1]].strip()
        if not text:
            continue
        if pending is not None and _continues(code[pending[0] : pending[1]], text):
            pending = (pending[0], piece[1])
            continue
        if pending is not None:
            statements.append(_statement(code, pending))
        pending = piece
    if pending is not None:
        statements.append(_statement(code, pending))
    return statements


def _continues(previous: str, text: str) -> bool:
    return previous.rstrip().endswith(_CONTINUES) or re.match(r"with\b", text) is not None


def _statement(code: str, span: tuple[int, int]) -> Statement:
    text = code[span[0] : span[1]]
    leading = len(text) - len(text.lstrip())
    line = code.count("\n", 0, span[0] + leading) + 1
    return Statement(text=text.strip(), line=line)


def _split_top_level(text: str, operators: tuple[str, ...]) -> tuple[str, str, str] | None:
    """``(left, operator, right)`` at the one top-level occurrence of an operator."""
    found: list[tuple[int, str]] = []
    after = 0
    for index in _top_level(text):
        operator = _operator_at(text, index) if index >= after else None
        if operator is not None:
            after = index + len(operator)
            if operator in operators:
                found.append((index, operator))
    if len(found) != 1:
        return None
    at, operator = found[0]
    left, right = text[:at].strip(), text[at + len(operator) :].strip()
    return (left, operator, right) if left and right else None


def _operator_at(text: str, index: int) -> str | None:
    for operator in (":=", "==", "!=", "<=", ">=", "<", ">", "="):
        if text.startswith(operator, index):
            return operator
    return None


def _top_level_word(text: str, word: str) -> bool:
    keyword = re.compile(rf"(?<![\w.]){word}\b")
    return any(keyword.match(text, index) for index in _top_level(text))


def _top_level(text: str, start: int = 0, end: int | None = None) -> Iterator[int]:
    """Indexes of ``text[start:end]`` outside string literals and brackets."""
    for index, depth in _scan(text, start, end):
        if depth == 0 and text[index] not in ")]}":
            yield index


def _scan(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """``(index, depth)`` of each character outside string literals: how many brackets are
    open there (an opening bracket counts itself, a closing one does not)."""
    stop = len(text) if end is None else end
    depth = 0
    index = start
    while index < stop:
        char = text[index]
        if char in '"`':
            index = _string_end(text, index)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        yield index, depth
        index += 1
