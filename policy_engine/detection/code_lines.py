"""How code-like one line of text looks: :func:`score_line` and its signals.

Each line gets a score from code signals: keywords that open a statement (``def``,
``class``, ``import``, ``function``, ``const``, ``#include``, ``public static`` …), a
brace or semicolon at the end, assignments, operators, calls, identifiers in snake_case
or camelCase, indentation inside a block, a shebang, a high share of symbols. Sentences,
bullets and long runs of words cost points. :mod:`.source_code` turns the scores of
consecutive lines into code spans.

Long lines (a pasted document is often one line of 100 KB) are searched only where a
signal can be: at each "(" for calls and methods, at each "_" and lower-upper pair for
identifiers; words and operators are counted only as far as the score uses them, and a
line of :data:`_GATED_LINE_CHARS` or more first asks hyperscan whether a signal can be in
it at all. Each answer is exactly the one the whole-line search gives.
"""

from __future__ import annotations

import re
from itertools import islice

from policy_engine.detection.hyperscan_db import gate

_C = re.compile  # all patterns are case-sensitive: code keywords are lower-case

#: (pattern on the stripped line, points). The first that matches scores; one per line.
_OPENERS: tuple[tuple[re.Pattern[str], float], ...] = (
    (_C(r"^#!/\S+"), 3.0),
    (_C(r"^#\s*include\s*[<\"]"), 3.0),
    (_C(r"^#\s*(?:define|ifndef|ifdef|endif|pragma)\b"), 2.5),
    (_C(r"^(?:async\s+)?def\s+\w+\s*\("), 3.0),
    (_C(r"^class\s+\w+\s*(?:\(.*\))?\s*:$"), 3.0),
    (_C(r"^(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+\w+.*\{$"), 3.0),
    (_C(r"^(?:export\s+)?(?:async\s+)?function\b\s*\*?\s*\w*\s*\("), 3.0),
    (_C(r"^(?:export\s+)?(?:const|let|var)\s+[\w$\[\]{}, ]+(?::\s*[\w<>\[\]| ]+)?\s*="), 2.5),
    (_C(r"^import\s+[\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*;?$"), 2.5),
    (_C(r"^import\s+(?:[\w*{},\s]+\s+from\s+)?['\"][^'\"]+['\"];?$"), 3.0),
    (_C(r"^import\s*\($|^import\s+(?:static\s+)?[\w.]+\*?;$"), 3.0),
    (_C(r"^from\s+[\w.]+\s+import\s+[\w*(, ]+\)?$"), 3.0),
    (_C(r"^package\s+[\w.]+;?$"), 2.5),
    (_C(r"^func\s+(?:\([^)]*\)\s*)?\w+\s*\("), 3.0),
    (_C(r"^(?:pub(?:\([\w ]+\))?\s+)?(?:fn|struct|enum|impl|trait|mod)\s+\w+"), 2.5),
    (_C(r"^type\s+\w+\s+(?:struct|interface)\s*\{"), 3.0),
    (
        _C(
            r"^(?:public|private|protected|internal)\s+(?:static\s+|final\s+|abstract\s+)*"
            r"(?:class|interface|enum|record|void|[\w<>\[\],]+\s+\w+\s*\()"
        ),
        3.0,
    ),
    (_C(r"^(?:if|elif|while|for|with|try|except|finally|else)\b.*:$"), 2.0),
    (_C(r"^(?:if|for|while|switch|catch)\s*\("), 2.5),
    (_C(r"^(?:\}\s*)?else(?:\s+if\s*\(.*\))?\s*\{$"), 2.5),
    (_C(r"^(?:return|yield|await|raise|throw)\b"), 1.0),
    (_C(r"^(?:pass|break|continue|None|True|False|nil|null)\b;?$"), 1.5),
    (_C(r"^@[\w.]+(?:\(.*\))?$"), 1.5),
    (
        _C(
            r"^(?:export\s+[A-Z_][A-Z0-9_]*=|set\s+[-+][a-z]+\b|(?:sudo\s+)?(?:apt-get|apt|pip3?|npm"
            r"|yarn|docker|kubectl|git|curl|wget|chmod|chown|mkdir|cd|echo|exec|source)\s"
            r"(?=.*(?:\s--?\w|/|&&|\||\$|>)))"
        ),
        2.0,
    ),
    (
        _C(
            r"^(?:SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
            r"|CREATE\s+(?:TABLE|INDEX|VIEW)|ALTER\s+TABLE|DROP\s+TABLE)\b"
        ),
        2.5,
    ),
    (_C(r"^</?[a-zA-Z][\w-]*(?:\s+[\w:-]+(?:=(?:\"[^\"]*\"|'[^']*'|\S+))?)*\s*/?>"), 2.0),
)

_CLOSER = _C(r"^[}\])]+[;,)]*$|^end$")
_ASSIGNMENT = _C(
    r"^[A-Za-z_$][\w$.\[\]'\"]*(?:\s*:\s*[\w\[\], ]+)?\s*(?:[-+*/%|&^]|<<|>>|\?\?)?=(?!=)\s*\S"
)
_OPERATORS = _C(r"==|!=|=>|->|::|&&|\|\||\+=|-=|\*=|/=|:=|<=|>=|\+\+|<<|>>")
_CALL = _C(r"(?<![\w$])[A-Za-z_$][\w$]*\([^()]*\)")
_METHOD = _C(r"[\w)\]]\.[A-Za-z_$][\w$]*\(")
_IDENTIFIER = _C(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b")
_COMMENT = _C(
    r"^(?://|/\*|\*/|\*\s|\*$|--\s|<!--"
    r"|#(?!!|\s*(?:include|define|undef|ifn?def|if|elif|else|endif|pragma|import)\b))"
)
_LOWER_UPPER = _C(r"[a-z][A-Z]")  # where a camelCase identifier may be
BULLET = _C(r"^(?:[-•*+]|\d{1,3}[.)])\s+\S")
_WORD = _C(r"[A-Za-z][a-z']+")
_SYMBOLS = frozenset("{}[]();=<>+*/%&|!^~\\$")
_SYMBOL_BYTES = "".join(sorted(_SYMBOLS)).encode("ascii")
#: The ASCII characters ``str.isspace`` (and so ``str.split``) calls blank.
_ASCII_BLANKS = bytes(code for code in range(128) if chr(code).isspace())
#: Lines at least this long ask hyperscan whether a signal can be in them before searching
#: for it (a pasted document is often one line of 100 KB).
_GATED_LINE_CHARS = 1024
_TABLE_ROW = _C(r"^\|.*\|$")


def score_line(line: str, *, in_block: bool = False) -> float:
    """How code-like one line looks; ``in_block`` when the line before was code-like."""
    stripped = line.strip()
    if not stripped or _TABLE_ROW.match(stripped):
        return 0.0  # blank, or a Markdown table row
    score = 0.0
    for pattern, points in _OPENERS:
        if pattern.search(stripped):
            score += points
            break
    if _CLOSER.match(stripped):
        score += 2.5
    elif stripped.endswith("{"):
        score += 2.0
    elif stripped.endswith(";"):
        score += 1.5
    elif stripped.endswith("}") and "{" in stripped:
        score += 1.0  # a block on one line
    if _ASSIGNMENT.match(stripped):
        score += 1.5
    operators = _count(_OPERATORS, stripped, 2) if _may_match(_OPERATORS, stripped) else 0
    score += min(1.5, 0.75 * operators)
    call, method = _call_and_method(stripped)
    if call:
        score += 1.0
    if method:
        score += 0.5
    if _has_identifier(stripped):
        score += 0.5
    if in_block and line[:1] in (" ", "\t"):
        score += 1.0
    symbol_share = _symbol_share(stripped)
    if symbol_share >= 0.25:
        score += 2.0
    elif symbol_share >= 0.12:
        score += 1.0
    words = _count(_WORD, stripped, 11)
    if words >= 6 and stripped[-1] in ".?!" and symbol_share < 0.08:
        score -= 2.5  # a sentence
    elif words > 10 and symbol_share < 0.05:
        score -= 1.5  # a long run of words
    if BULLET.match(stripped) and not in_block:
        score -= 1.5
    return score


def _count(pattern: re.Pattern[str], line: str, enough: int) -> int:
    """``len(pattern.findall(line))``, but at most ``enough``."""
    return sum(1 for _ in islice(pattern.finditer(line), enough))


def _may_match(pattern: re.Pattern[str], line: str) -> bool:
    """False when ``pattern`` cannot match in ``line``: a long line asks hyperscan (one
    pass, much faster than a search that finds nothing); a short one is just searched."""
    return len(line) < _GATED_LINE_CHARS or gate(pattern.pattern).may_match(line)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"  # [\w$] of the patterns above


def _call_and_method(line: str) -> tuple[bool, bool]:
    r"""Whether ``_CALL`` and ``_METHOD`` match in ``line``. Both end their identifier at a
    "(": its run of ``[\w$]`` characters starts either a call (after no word character)
    or a method (after a ".")." """
    call = method = False
    paren = line.find("(")
    while paren != -1 and not (call and method):
        start = paren
        while start > 0 and _word_char(line[start - 1]):
            start -= 1
        if start < paren:
            call = call or _CALL.match(line, start) is not None
            method = method or (start >= 2 and _METHOD.match(line, start - 2) is not None)
        paren = line.find("(", paren + 1)
    return call, method


def _has_identifier(line: str) -> bool:
    """Whether ``_IDENTIFIER`` matches in ``line``: a snake_case word starts at the
    lower-case run before one of its "_", a camelCase word at the one before a lower-upper
    pair; the pattern is tried at those word starts only (on a long line, only when
    hyperscan finds that the pattern can match)."""
    if not _may_match(_IDENTIFIER, line):
        return False
    underscore = line.find("_")
    while underscore != -1:
        if _identifier_at(line, underscore, "abcdefghijklmnopqrstuvwxyz0123456789"):
            return True
        underscore = line.find("_", underscore + 1)
    for pair in _LOWER_UPPER.finditer(line):
        if _identifier_at(line, pair.start() + 1, "abcdefghijklmnopqrstuvwxyz"):
            return True
    return False


def _identifier_at(line: str, end: int, run: str) -> bool:
    """Whether ``_IDENTIFIER`` matches at the start of the run of ``run`` characters
    that ends at ``end``."""
    start = end
    while start > 0 and line[start - 1] in run:
        start -= 1
    if start == end or (start > 0 and _word_char(line[start - 1]) and line[start - 1] != "$"):
        return False
    return _IDENTIFIER.match(line, start) is not None


def _symbol_share(stripped: str) -> float:
    """The share of code symbols among the non-blank characters of a non-blank line
    (counted in C: an ASCII line's bytes without the symbols, and without the blanks; for
    another line one ``count`` per symbol, and ``split`` drops what ``isspace`` calls blank)."""
    if stripped.isascii():
        data = stripped.encode("ascii")
        symbols = len(data) - len(data.translate(None, _SYMBOL_BYTES))
        return symbols / len(data.translate(None, _ASCII_BLANKS))
    nonblank = len("".join(stripped.split()))
    return sum(stripped.count(symbol) for symbol in _SYMBOLS) / nonblank


def is_comment(stripped: str) -> bool:
    return bool(_COMMENT.match(stripped))
