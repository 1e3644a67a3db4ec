"""Detector definitions: the YAML schema that security teams own (pydantic models).

Every ``*.yaml`` file in a detectors directory (read in sorted order) is one
:class:`DetectorFile`::

    version: 1                     # optional, the only version so far
    analysis:                      # at most one file in the directory has this block
      builtin_entities: [PERSON, EMAIL_ADDRESS, US_SSN]   # Presidio built-ins reported
      score_threshold: 0.4         # global minimum score for every entity type
      score_thresholds: {PHONE_NUMBER: 0.5}               # per-entity overrides
      ner_windows: true            # NER reads only the windows around capitalised words
    recognizers:
      - id: aws_access_key         # unique in the directory; lower_snake_case
        entity_type: AWS_ACCESS_KEY
        category: secret           # pii | secret | ip_marker | source_code
        patterns:                  # kind "patterns" (inferred from this key) ...
          - {name: key id, regex: '\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b', score: 0.9}
        allow_list: [AKIAIOSFODNN7EXAMPLE]
        examples:                  # run by the tests: reported / not reported
          match: ['aws_access_key_id = AKIAZ7QW3RT5LM2XNB4Y']
          no_match: ['the docs use AKIAIOSFODNN7EXAMPLE']
      - id: codenames
        entity_type: CODENAME
        category: ip_marker
        deny_list: [Project Bluefin]   # ... or kind "deny_list" ...
      - id: source_code
        kind: source_code              # ... or the source-code heuristic
        entity_type: SOURCE_CODE
        category: source_code
      - id: street_address
        kind: street_address           # ... or street addresses (pyap2's grammar)
        entity_type: STREET_ADDRESS
        category: pii

:mod:`.loader` reads and validates the files. Nothing here imports Presidio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import regex
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from policy_engine.detection.builtins import BUILTIN_ENTITIES
from policy_engine.detection.validators import VALIDATORS
from policy_engine.models import Category

#: Flags every YAML regex is compiled with. Matching is case-sensitive unless a
#: pattern says otherwise with an inline flag such as ``(?i)``.
REGEX_FLAGS = regex.MULTILINE | regex.VERSION0

#: The named group that, when a pattern has it, is the reported span.
VALUE_GROUP = "value"

_ENTITY_TYPE = regex.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_RECOGNIZER_ID = regex.compile(r"[a-z][a-z0-9_]*")


def _entity_type(value: str) -> str:
    if not _ENTITY_TYPE.fullmatch(value):
        raise ValueError(f"{value!r} is not an entity type in UPPER_SNAKE_CASE (e.g. API_KEY)")
    return value


def _recognizer_id(value: str) -> str:
    if not _RECOGNIZER_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not an id in lower_snake_case (e.g. aws_access_key)")
    return value


EntityType = Annotated[str, AfterValidator(_entity_type)]
RecognizerId = Annotated[str, Field(max_length=100), AfterValidator(_recognizer_id)]
Score = Annotated[float, Field(gt=0.0, le=1.0)]


def compile_regex(pattern: str, *, flags: int = REGEX_FLAGS) -> regex.Pattern[str]:
    """Compile one YAML regex; ``ValueError`` with the compiler's reason if it is invalid."""
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise ValueError(f"invalid regex: {exc}") from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternDef(_Strict):
    """One regular expression of a ``patterns`` recognizer."""

    name: str = Field(min_length=1, max_length=100)
    regex: str = Field(min_length=1)
    score: Score

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_regex(value)
        return value


class Examples(_Strict):
    """Texts a recognizer must report (``match``) and must not report (``no_match``).

    They document the recognizer and are run by the test suite (see ``examples.py``).
    """

    match: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    no_match: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)


class _RecognizerBase(_Strict):
    id: RecognizerId
    entity_type: EntityType
    category: Category
    description: str = ""
    #: Words that raise a match's score when they appear just before it.
    context: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    #: Words that LOWER a match's score when one of them is among the five words before
    #: it on its line (``example``, ``sample``): by ``negative_context_penalty``.
    negative_context: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    negative_context_penalty: Score = 0.35
    examples: Examples = Field(default_factory=Examples)


class PatternRecognizerDef(_RecognizerBase):
    """Regular expressions, with optional validation and known false positives."""

    kind: Literal["patterns"] = "patterns"
    patterns: list[PatternDef] = Field(min_length=1)
    #: A checksum or plausibility check the matched value must pass (see ``validators.py``).
    validator: str | None = None
    #: Minimum Shannon entropy of the value in bits per character (random keys: > 3).
    min_entropy: float | None = Field(default=None, ge=0.0, le=8.0)
    #: Values never reported (known placeholders), compared case-insensitively.
    allow_list: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    #: Regexes; a value that matches one in full is never reported.
    allow_patterns: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)

    @field_validator("validator")
    @classmethod
    def _known_validator(cls, value: str | None) -> str | None:
        if value is not None and value not in VALIDATORS:
            raise ValueError(f"unknown validator {value!r}; known: {', '.join(sorted(VALIDATORS))}")
        return value

    @field_validator("allow_patterns")
    @classmethod
    def _allow_patterns_compile(cls, values: list[str]) -> list[str]:
        for value in values:
            compile_regex(value)
        return values


class DenyListRecognizerDef(_RecognizerBase):
    """Words and phrases reported wherever they occur."""

    kind: Literal["deny_list"] = "deny_list"
    deny_list: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    case_sensitive: bool = False
    #: Match only where the term is not part of a longer word.
    whole_word: bool = True
    score: Score = 0.9


class SourceCodeRecognizerDef(_RecognizerBase):
    """The line-based source-code heuristic (see ``source_code.py``)."""

    kind: Literal["source_code"]
    #: Code-like lines a run needs to be reported.
    min_lines: int = Field(default=3, ge=1, le=100)
    #: Score a line needs to count as code-like.
    line_threshold: float = Field(default=2.0, gt=0.0)
    #: Score a single line needs to be reported on its own ...
    dense_line_threshold: float = Field(default=5.5, gt=0.0)
    #: ... and its length (short fragments such as ``x = f();`` are not reported alone).
    dense_line_min_chars: int = Field(default=40, ge=1)
    #: Blank lines tolerated inside a run.
    max_blank_lines: int = Field(default=2, ge=0, le=20)
    score: Score = 0.85
    single_line_score: Score = 0.6

    @model_validator(mode="after")
    def _dense_above_line(self) -> SourceCodeRecognizerDef:
        if self.dense_line_threshold < self.line_threshold:
            raise ValueError("dense_line_threshold must not be below line_threshold")
        return self


Country = Literal["US", "CA", "GB"]
#: The countries whose address grammar pyap2 ships.
COUNTRIES: tuple[Country, ...] = ("US", "CA", "GB")


class StreetAddressRecognizerDef(_RecognizerBase):
    """Street addresses with pyap2's address grammar (see ``street_address.py``)."""

    kind: Literal["street_address"]
    #: Countries whose address grammar is matched.
    countries: list[Country] = Field(default_factory=lambda: list(COUNTRIES), min_length=1)
    #: Score of a full address (street, city, state or province, postal code) ...
    score: Score = 0.85
    #: ... and of a street line alone (house number, street name and type).
    street_score: Score = 0.6


#: The kinds of recognizer, as tagged in the union below.
KINDS = ("patterns", "deny_list", "source_code", "street_address")


def _kind_of(data: Any) -> str | None:
    """The recognizer kind: explicit ``kind``, else inferred from ``patterns``/``deny_list``."""
    if isinstance(data, BaseModel):
        return str(getattr(data, "kind", None))
    if not isinstance(data, dict):
        return None
    if "kind" in data:
        kind = data["kind"]
        return kind if kind in KINDS else None
    present = [key for key in ("patterns", "deny_list") if key in data]
    return present[0] if len(present) == 1 else None


RecognizerDef = Annotated[
    Annotated[PatternRecognizerDef, Tag("patterns")]
    | Annotated[DenyListRecognizerDef, Tag("deny_list")]
    | Annotated[SourceCodeRecognizerDef, Tag("source_code")]
    | Annotated[StreetAddressRecognizerDef, Tag("street_address")],
    Discriminator(
        _kind_of,
        custom_error_type="recognizer_kind",
        custom_error_message=(
            "give exactly one of 'patterns', 'deny_list' or 'kind: source_code' "
            "(kind must be one of patterns, deny_list, source_code, street_address)"
        ),
    ),
]


class AnalysisSettings(_Strict):
    """Which Presidio built-ins are reported and the minimum score per entity type."""

    builtin_entities: list[str] = Field(default_factory=list)
    score_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    score_thresholds: dict[EntityType, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict
    )
    #: Whether spaCy's NER reads only the windows around capitalised words (see
    #: ``ner_windows.py``); false: every text whole, at about twice the cost.
    ner_windows: bool = True

    @field_validator("builtin_entities")
    @classmethod
    def _known_builtins(cls, values: list[str]) -> list[str]:
        unknown = [value for value in values if value not in BUILTIN_ENTITIES]
        if unknown:
            raise ValueError(
                f"unknown built-in entity type(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(BUILTIN_ENTITIES))}"
            )
        if len(set(values)) != len(values):
            raise ValueError("lists an entity type twice")
        return values

    def threshold(self, entity_type: str) -> float:
        """The minimum score for results of ``entity_type``."""
        return self.score_thresholds.get(entity_type, self.score_threshold)


class DetectorFile(_Strict):
    """One ``detectors/*.yaml`` file."""

    version: Literal[1] = 1
    analysis: AnalysisSettings | None = None
    recognizers: list[RecognizerDef] = Field(default_factory=list)


@dataclass(frozen=True)
class LoadedRecognizer:
    """A recognizer definition and the file it came from."""

    source: Path
    definition: (
        PatternRecognizerDef
        | DenyListRecognizerDef
        | SourceCodeRecognizerDef
        | StreetAddressRecognizerDef
    )

    @property
    def detector_id(self) -> str:
        """The id reported with each span: ``yaml:<file stem>/<recognizer id>``."""
        return f"yaml:{self.source.stem}/{self.definition.id}"


@dataclass(frozen=True)
class DetectorSet:
    """Everything loaded from one detectors directory."""

    directory: Path
    analysis: AnalysisSettings
    analysis_source: Path | None
    recognizers: tuple[LoadedRecognizer, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        seen = {r.source for r in self.recognizers}
        if self.analysis_source is not None:
            seen.add(self.analysis_source)
        return tuple(sorted(seen))
