"""Labeled cases: one text, its gold spans, where it came from.

Two readers: :func:`read_jsonl` for development sets (one JSON object a line with
``text``, ``entities: [{type, start, end}]``, ``category``, ``label``, ``difficulty``) and
:func:`read_case_file` for the project's own YAML cases, whose gold spans are written
inline as ``[[TYPE:value]]`` so that nobody counts offsets by hand::

    evasion: false            # true: every case is a disguised entity (reported apart)
    address_label: STREET_ADDRESS  # how the file labels street addresses (the default)
    cases:
      - id: banner-dash
        category: marking     # what the text is: pii, secret, marking, source_code, benign
        text: "[[CLASSIFICATION_MARKING:CONFIDENTIAL - INTERNAL ONLY]] Q3 plan"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import regex
import yaml

from policy_engine.errors import ConfigError
from policy_engine.evaluation.scoring import Span

_MARKUP = regex.compile(r"\[\[([A-Z][A-Z0-9_]*):(.*?)\]\]", regex.DOTALL)


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    gold: tuple[Span, ...]
    category: str
    origin: str  # generated | project | evaldata
    difficulty: str = "normal"
    evasion: bool = False
    tags: tuple[str, ...] = field(default=())
    #: The type this case's labels give street addresses: STREET_ADDRESS in the project's
    #: cases; LOCATION in data sets that split an address into places (generated
    #: sentences, the development set), where a STREET_ADDRESS prediction counts as one.
    address_label: str = "STREET_ADDRESS"

    def scored(self, predicted: list[Span]) -> list[Span]:
        """``predicted`` in this case's labels (STREET_ADDRESS as :attr:`address_label`)."""
        if self.address_label == "STREET_ADDRESS":
            return predicted
        return [
            (self.address_label if t == "STREET_ADDRESS" else t, start, end)
            for t, start, end in predicted
        ]


def parse_markup(text: str) -> tuple[str, tuple[Span, ...]]:
    """Plain text and gold spans from ``[[TYPE:value]]`` markup."""
    out: list[str] = []
    spans: list[Span] = []
    cursor = 0
    length = 0
    for match in _MARKUP.finditer(text):
        out.append(text[cursor : match.start()])
        length += match.start() - cursor
        value = match.group(2)
        spans.append((match.group(1), length, length + len(value)))
        out.append(value)
        length += len(value)
        cursor = match.end()
    out.append(text[cursor:])
    return "".join(out), tuple(spans)


def read_case_file(path: Path) -> list[Case]:
    """The cases of one project YAML file (see the module docstring)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read cases ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'cases' list")
    evasion = bool(data.get("evasion", False))
    address_label = str(data.get("address_label", "STREET_ADDRESS"))
    cases = []
    for index, item in enumerate(data["cases"]):
        if not isinstance(item, dict) or not {"id", "text", "category"} <= item.keys():
            raise ConfigError(f"{path}: case #{index + 1} needs id, text and category")
        text, gold = parse_markup(str(item["text"]))
        cases.append(
            Case(
                id=f"{path.stem}/{item['id']}",
                text=text,
                gold=gold,
                category=str(item["category"]),
                origin="project",
                difficulty=str(item.get("difficulty", "normal")),
                evasion=evasion,
                tags=tuple(item.get("tags", ())),
                address_label=address_label,
            )
        )
    return cases


def read_project_cases(directory: Path) -> list[Case]:
    return [case for path in sorted(directory.glob("*.yaml")) for case in read_case_file(path)]


def read_jsonl(path: Path, origin: str = "evaldata") -> list[Case]:
    """Cases from a JSONL development set, read in place (never copied)."""
    cases = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            gold = tuple(
                (str(e["type"]), int(e["start"]), int(e["end"])) for e in record.get("entities", [])
            )
            cases.append(
                Case(
                    id=str(record.get("id", f"{path.stem}:{number}")),
                    text=str(record["text"]),
                    gold=gold,
                    category=str(record.get("category", "pii")),
                    origin=origin,
                    difficulty=str(record.get("difficulty", "normal")),
                    address_label="LOCATION",  # addresses come as LOCATION pieces
                )
            )
    return cases
