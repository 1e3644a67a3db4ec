"""The source-code heuristic: code in several languages is found, prose and lists are not."""

from __future__ import annotations

import random

import pytest

from policy_engine.detection.source_code import (
    _CALL,
    _GATED_LINE_CHARS,
    _IDENTIFIER,
    _METHOD,
    _OPERATORS,
    _SYMBOLS,
    CodeHeuristic,
    SourceCodeRecognizer,
    _call_and_method,
    _count,
    _has_identifier,
    _may_match,
    _symbol_share,
    find_code_spans,
    score_line,
)

PYTHON = """\
Can you review this function?

def monthly_total(orders):
    total = 0
    for order in orders:
        if order.status == "paid":
            total += order.amount
    return total

Thanks!"""

JAVASCRIPT = """\
Here is my handler:
const express = require("express");
const app = express();
app.get("/health", (req, res) => {
  res.json({ ok: true });
});
app.listen(3000);"""

GO = """\
package main

import "fmt"

func main() {
\tnames := []string{"ada", "lin"}
\tfor _, n := range names {
\t\tfmt.Println(n)
\t}
}"""

JAVA_WITH_DOC_COMMENT = """\
public class Greeter {
    /**
     * Says hello.
     */
    public static void main(String[] args) {
        System.out.println("hi");
    }
}"""

C = """\
#include <stdio.h>
int main(void) {
    printf("hello");
    return 0;
}"""

SQL = """\
SELECT name, email FROM customers WHERE region = 'EU';
UPDATE customers SET active = 0 WHERE last_seen < '2020-01-01';
DELETE FROM sessions WHERE expired = 1;"""

PARAGRAPH = """\
The quarterly review went well. Revenue grew in every region, and the team closed
the migration ahead of schedule. We still need to hire two engineers for the platform
group, and the budget for next year is under discussion. Please send your comments by
Friday; I will collect them and share a summary with everyone on the list."""

BULLETS = """\
Agenda for Monday:
- Review the roadmap (Q3 goals)
- Assign owners for the migration
- Budget: travel and training
* Any other business
1. Approve minutes
2. Plan the offsite (if time = ok)"""

EMAIL = """\
Hi Sam,

Thanks for the update = great news! Let me know if you need anything else (e.g. slides).
I'll be out on Thursday; call me if it's urgent.

Best regards,
Priya"""

MARKDOWN = """\
# Release notes

## Added
- Export to PDF
- Dark mode (beta)

| Name | Role | Start |
|------|------|-------|
| Ana  | Lead | 2021  |"""

CHAT_LOG = """\
[10:02] alice: did the deploy go out?
[10:03] bob: yes, at 9:58
[10:03] alice: great, thanks!
[10:05] bob: np"""


def spans_of(text: str, params: CodeHeuristic | None = None) -> list[tuple[str, str, int]]:
    return [(text[s.start : s.end], s.how, s.code_lines) for s in find_code_spans(text, params)]


@pytest.mark.parametrize(
    ("text", "first_line", "last_line"),
    [
        (PYTHON, "def monthly_total(orders):", "    return total"),
        (JAVASCRIPT, 'const express = require("express");', "app.listen(3000);"),
        (GO, "package main", "}"),
        (JAVA_WITH_DOC_COMMENT, "public class Greeter {", "}"),
        (C, "#include <stdio.h>", "}"),
        (SQL, "SELECT name, email FROM customers WHERE region = 'EU';", "DELETE FROM"),
    ],
    ids=["python", "javascript", "go", "java", "c", "sql"],
)
def test_code_is_one_span_from_first_to_last_code_line(
    text: str, first_line: str, last_line: str
) -> None:
    spans = find_code_spans(text)
    assert len(spans) == 1
    found = text[spans[0].start : spans[0].end]
    assert spans[0].how == "run"
    assert found.startswith(first_line.strip())
    assert found.splitlines()[-1].startswith(last_line)
    assert spans[0].code_lines >= 3


def test_surrounding_prose_is_left_out() -> None:
    (found, _, _) = spans_of(PYTHON)[0]
    assert "review" not in found and "Thanks" not in found


@pytest.mark.parametrize(
    "text",
    [PARAGRAPH, BULLETS, EMAIL, MARKDOWN, CHAT_LOG],
    ids=["paragraph", "bulleted-list", "email", "markdown", "chat-log"],
)
def test_prose_lists_and_emails_are_not_code(text: str) -> None:
    assert find_code_spans(text) == []


def test_a_single_dense_line_is_reported_alone() -> None:
    text = (
        "Why is this slow?\n"
        "for (int i = 0; i < n; i++) { total += values[i] * weights[i]; }\n"
        "It takes ages."
    )
    assert spans_of(text) == [
        ("for (int i = 0; i < n; i++) { total += values[i] * weights[i]; }", "dense_line", 1)
    ]


def test_a_single_ordinary_or_short_code_line_is_not_enough() -> None:
    assert find_code_spans("Try running:\nx = compute(a)\nand tell me what happens.") == []
    assert find_code_spans("Is this right?\nconst a = load();") == []


def test_fenced_block_with_language_tag_is_code_even_if_short() -> None:
    text = "Try this:\n```python\nprint(sum(range(10)))\n```\nDoes it work?"
    assert spans_of(text) == [("```python\nprint(sum(range(10)))\n```", "fenced", 1)]


def test_fenced_plain_output_is_not_code() -> None:
    text = "Output:\n```\nBuild finished in 3 minutes\nAll tests passed\n```"
    assert find_code_spans(text) == []


def test_unclosed_fence_runs_to_the_end() -> None:
    text = "See:\n```js\nconst a = 1;\nconsole.log(a);"
    (found, how, _) = spans_of(text)[0]
    assert how == "fenced" and found.endswith("console.log(a);")


def test_min_lines_is_configurable() -> None:
    snippet = "const a = load();\nconst b = a.map(f);\nThat is all."
    assert find_code_spans(snippet) == []
    assert spans_of(snippet, CodeHeuristic(min_lines=2))[0][2] == 2


def test_too_many_blank_lines_split_runs() -> None:
    block = "x = compute(a)\ny = compute(b)\nz = merge(x, y)"
    assert len(find_code_spans(block + "\n\n" + block)) == 1
    assert len(find_code_spans(block + "\n\n\n\n" + block)) == 2


def test_line_scores_order_code_above_prose() -> None:
    assert score_line("def main():") >= 2.0
    assert score_line("    return total", in_block=True) >= 2.0
    assert score_line("return the forms by Friday") < 2.0
    assert score_line("The meeting moved to Tuesday, and the agenda is attached.") < 0
    assert score_line("- Review the roadmap (Q3 goals)") < 0
    assert score_line("") == 0.0


def test_recognizer_reports_spans_with_its_scores() -> None:
    recognizer = SourceCodeRecognizer(name="yaml:t/code", score=0.8, single_line_score=0.5)
    dense = "const total = items.filter(x => x.ok).map(x => x.price).reduce((a, b) => a + b);"
    results = recognizer.analyze(PYTHON + "\n\n" + dense, ["SOURCE_CODE"])
    assert [(r.entity_type, r.score) for r in results] == [
        ("SOURCE_CODE", 0.8),
        ("SOURCE_CODE", 0.5),
    ]
    assert recognizer.analyze(PYTHON, ["PERSON"]) == []


def test_symbol_share_counts_like_a_character_walk() -> None:
    rng = random.Random(3)
    alphabet = list("ab{}[]();=<>+*/%&|!^~\\$ \t\x0b\x1c\u00a0\u2003\u3000.,x1é")
    for _ in range(2000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))).strip()
        if not line:
            continue
        nonspace = [ch for ch in line if not ch.isspace()]
        assert _symbol_share(line) == sum(ch in _SYMBOLS for ch in nonspace) / len(nonspace)


LOOK_ALIKES = [
    "foo(x)",
    "a.b(c)",
    "$x()",
    "9a(b)",
    "éa(b)",
    "x)(y)",
    "a].b()",
    "a..b(c)",
    "_(x)",
    "snake_case",
    "9a_b",
    "Ab_c",
    "é_x",
    "$a_b",
    "a_",
    "_a",
    "camelCase",
    "ÉcamelCase",
    "xCamel_",
    "a1B",
    "aB_",
    "a$bC",
    "(a)",
    "obj.method(",
    "f(g(h))",
]


def test_call_method_and_identifier_checks_answer_as_the_whole_line_search() -> None:
    """The checks look only at "(", "_" and lower-upper pairs; each answer must be the
    one ``pattern.search(line)`` gives, on look-alikes and random lines of their parts."""
    rng = random.Random(11)
    lines = list(LOOK_ALIKES)
    for _ in range(20000):
        lines.append(" ".join(rng.choice(LOOK_ALIKES) for _ in range(rng.randint(1, 4))))
        lines.append("".join(rng.choice("aZb_$(.)x9 é]Y") for _ in range(rng.randint(1, 12))))
    for line in lines:
        expected_call = _CALL.search(line) is not None
        expected_method = _METHOD.search(line) is not None
        assert _call_and_method(line) == (expected_call, expected_method), line
        assert _has_identifier(line) == (_IDENTIFIER.search(line) is not None), line


def test_long_lines_give_the_whole_line_answers() -> None:
    """Lines of a pasted document (one line of many KB) ask hyperscan first whether an
    identifier or operator can be in them; the answers stay those of the searches."""
    rng = random.Random(17)
    prose = ["The quarterly review moved.", "Send it to Maria.", "Costs stayed flat,", "ok"]
    signals = [*LOOK_ALIKES, "a == b", "x->y", "i++", "a<<2", "é", "\x1c", "A_b", "aB"]
    lines_gated = 0
    for _ in range(300):
        words = [rng.choice(prose) for _ in range(rng.randint(60, 200))]
        for _ in range(rng.choice([0, 0, 1, 2])):
            words.insert(rng.randrange(len(words) + 1), rng.choice(signals))
        line = " ".join(words)
        lines_gated += len(line) >= _GATED_LINE_CHARS
        assert _has_identifier(line) == (_IDENTIFIER.search(line) is not None), line
        operators = _count(_OPERATORS, line, 2) if _may_match(_OPERATORS, line) else 0
        assert operators == min(2, len(_OPERATORS.findall(line))), line
    assert lines_gated > 250
