"""PERSON spans from the model's entities: cut, relabelled, repeated, listed, checked.

The small spaCy model finds most names but often with the wrong label or the wrong
edges. General rules work on its entities (no second model pass, no name lists); the
NER stage (:mod:`.ner_stage`) applies them to every piece of text it analyses:

* **Edges.** A PERSON entity that runs over a line break (also a literal ``\\n`` of
  JSON-escaped text), ends in a possessive ``'s`` or starts with a lower-case word
  (``ex-Zombie Yli-Sirniö``) is cut to the name (:func:`trim_name`); when that leaves no
  name it stays as it was (and the plausibility check drops it).
* **Labels.** An entity labelled ORG, NORP, PRODUCT, FAC or WORK_OF_ART that is shaped
  like a personal name is a PERSON: two to four capitalised words (initials allowed, a
  possessive ``'s`` cut off), at least two of them words of more than one letter, none
  an English dictionary word (the lemmatizer's word index that comes with the model, see
  :mod:`.ner_pipeline`: ``Karel Janeba`` but not ``Entertainment Weekly``, ``Insufficient
  Data``, ``Czech Republic``) nor a company designator (``Ltd``, ``AG`` ...). Leading
  dictionary words are a title and are cut off (``Producer Cettina Fanucci``). Places
  (GPE, LOC) keep their label: a town's name has the same shape as a person's.
* **Lists.** Single capitalised words listed with a one-word name (``Alik, Andrew,
  Michael and Ashley``; ``Gustavsson, Baker and Young``) are names. The list is followed
  from names that are no dictionary word: ``Wisdom and Discipline`` are words.
* **Repeats.** A name mentioned once in full is often mentioned again by one part
  (``… directed by Anne-Lise Frederiksen and starring Frederiksen``). Every other
  capitalised occurrence of a word of a PERSON span (not a dictionary word, not an
  initial, not inside a place's entity) is a PERSON too.
* **Common words.** A one-word "name" that is a dictionary word and that the same text
  also writes in lower case is a common word (``Convert a string …`` after ``cannot
  convert NULL``).
* **English first.** The model reads English; in text that is not English (see
  :class:`English`) its "names" are mostly capitalised nouns (every German noun is) and
  are dropped, except two or three capitalised words the model labelled PERSON (a missed
  name costs more than a wrong one).
* **Places.** :func:`is_place` tells the NER stage which "names" the words before them
  make a place (``Baarlandhof 68, Rotterdam``, ``flew to Northcross``): they are
  reported as LOCATION.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Container, Iterable
from dataclasses import dataclass

import regex
from spacy.lang.en.stop_words import STOP_WORDS

from policy_engine.detection.plausibility import (
    COMPANY_DESIGNATORS,
    NAME_PARTICLES,
    plausible_name,
)

#: spaCy labels whose entities may be a misread person's name.
RELABELLED = frozenset({"ORG", "NORP", "PRODUCT", "FAC", "WORK_OF_ART"})
#: spaCy labels of places: their words are never taken for repeats of a name.
PLACES = frozenset({"GPE", "LOC", "FAC"})

#: Characters on each side of a name whose words tell whether the text is English.
ENGLISH_WINDOW = 200
#: Fewest words that tell; the share of them that must be English stop words.
ENGLISH_MIN_WORDS = 8
ENGLISH_MIN_SHARE = 0.15

_PROSE_WORD = regex.compile(r"(?<![^\s(\"'])\p{Ll}+(?=[\s,.;:!?)\"']|$)")
_ONE_WORD = r"\p{Lu}[\p{Ll}\p{M}]+(?:[-'\u2019]\p{Lu}?[\p{Ll}\p{M}]+)*"
_AND = r"(?:,[ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+)"
#: A single word listed after or before a name (not one word of a longer name).
_CONJUNCT_AFTER = regex.compile(
    rf"{_AND}(?P<word>{_ONE_WORD})(?![\p{{L}}\p{{M}}'\u2019-]|[ \t]+\p{{Lu}})"
)
_CONJUNCT_BEFORE = regex.compile(
    rf"(?<![\p{{L}}\p{{M}}'\u2019-]|\p{{Lu}}[\p{{L}}\p{{M}}.]*[ \t]+)(?P<word>{_ONE_WORD}){_AND}$"
)
#: A house number and a comma (not a year: ``During 1977, Johnson``).
_NUMBER_COMMA = regex.compile(r"(?<![\d.,:/-])(?!(?:1[5-9]|20)\d\d,)\d{1,6}\.?,[ \t]*$")
_LINE_AFTER_NUMBER = regex.compile(r"\d[ \t]*(?:\r?\n|\\n)[^\p{L}\p{N}\n\\]*$")
_LINE_END = regex.compile(r"[ \t,]*(?:\r?\n|\\n|$)")
_POSSESSIVE_AFTER = regex.compile(r"['\u2019]s?\b")
_PLACE_BEFORE = regex.compile(
    r"(?i)\b(?:(?:flew|fly|flies|flying|moved|moves|moving|travel(?:l?ed|l?ing|s)?|relocated"
    r"|emigrated|immigrated|drove|returned)(?:[ \t]+(?:here|there|back|away|out))?"
    r"[ \t]+(?:to|from|in|into)|(?:originally|born|based|located|living|lives|live|lived"
    r"|resides|residing|stationed)[ \t]+(?:from|in|at)|(?:am|is|are|was|were)[ \t]+in"
    r"|home[ \t]+(?:city|town))[ \t]+$"
)
_LINE_BREAK = regex.compile(r"\r?\n|\\[nr]")
_POSSESSIVE = regex.compile(r"['\u2019]s?$")
_ANY_WORD = regex.compile(r"(?<![\p{L}\p{M}\p{N}_])[\p{L}\p{M}]+(?:-[\p{L}\p{M}]+)*")
_INITIAL = regex.compile(r"\p{Lu}\.?")
_WORD = regex.compile(_ONE_WORD)
_LETTERS = regex.compile(r"[\p{L}-]+")


@dataclass(frozen=True)
class NameSpan:
    """A PERSON span and the rule that gave it (``model``, ``edges``, ``label``, ``repeat``)."""

    start: int
    end: int
    rule: str


def in_dictionary(word: str, dictionary: Container[str]) -> bool:
    """Whether ``word`` (any case) or its singular is an English dictionary word."""
    lower = word.lower()
    if lower in dictionary:
        return True
    if lower.endswith("ies") and lower[:-3] + "y" in dictionary:
        return True
    if lower.endswith("es") and lower[:-2] in dictionary:
        return True
    return lower.endswith("s") and lower[:-1] in dictionary


def trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name in ``text[start:end]``, or None: the span is cut at its first line break
    (what is left must be two words or more), a possessive ending and one leading
    lower-case word (``ex-Zombie``) are cut off, and every word left must be capitalised
    (or an initial, or a particle such as ``van``)."""
    line_break = _LINE_BREAK.search(text, start, end)
    if line_break is not None:
        end = line_break.start()
    value = text[start:end]
    stripped = value.rstrip()
    possessive = _POSSESSIVE.search(stripped)
    if possessive is not None:
        stripped = stripped[: possessive.start()]
    lead = len(value) - len(value.lstrip())
    words = stripped[lead:].split(" ")
    if words and words[0][:1].islower() and _LETTERS.fullmatch(words[0]):
        lead += len(words.pop(0)) + 1
    if line_break is not None and len(words) < 2:
        return None
    if not words or not all(
        _WORD.fullmatch(w) or _INITIAL.fullmatch(w) or w in NAME_PARTICLES for w in words
    ):
        return None
    new_start, new_end = start + lead, start + len(stripped)
    return (new_start, new_end) if plausible_name(text[new_start:new_end]) else None


def name_shaped(value: str, dictionary: Container[str]) -> tuple[int, int] | None:
    """Offsets in ``value`` of a personal name's shape (see the module docstring), or None."""
    possessive = _POSSESSIVE.search(value)
    if possessive is not None:
        value = value[: possessive.start()]
    words = value.split(" ")
    if not 2 <= len(words) <= 5 or any(not w for w in words):
        return None
    lead = 0
    while words and _WORD.fullmatch(words[0]) and in_dictionary(words[0], dictionary):
        lead += len(words.pop(0)) + 1
    if not 2 <= len(words) <= 4:
        return None
    long_words = 0
    for word in words:
        if _INITIAL.fullmatch(word):
            continue
        if not _WORD.fullmatch(word) or word.lower() in COMPANY_DESIGNATORS:
            return None
        if in_dictionary(word, dictionary):
            return None
        long_words += 1
    if long_words < 2 or _INITIAL.fullmatch(words[-1]):
        return None
    return lead, len(value)


def person_spans(
    text: str, entities: Iterable[tuple[str, int, int]], dictionary: Container[str]
) -> list[NameSpan]:
    """PERSON spans from ``(spaCy label, start, end)`` entities of ``text``."""
    entities = list(entities)
    found: list[NameSpan] = []
    for label, start, end in entities:
        if label == "PERSON":
            value = text[start:end]
            if plausible_name(value):
                found.append(NameSpan(start, end, "model"))
                continue
            trimmed = trim_name(text, start, end)
            if trimmed is None:
                found.append(NameSpan(start, end, "model"))  # the plausibility check decides
            else:
                found.append(NameSpan(*trimmed, "edges"))
        elif label in RELABELLED:
            shaped = name_shaped(text[start:end], dictionary)
            if shaped is not None:
                found.append(NameSpan(start + shaped[0], start + shaped[1], "label"))
    places = [(start, end) for label, start, end in entities if label in PLACES]
    found += _conjuncts(text, found, places, dictionary)
    names = found + _repeats(text, found, places, dictionary)
    english = English(text)
    return [
        n
        for n in names
        if (english.around(n.start, n.end) or _full_model_name(text, n))
        and not _common_word(text[n.start : n.end], english.lower_words, dictionary)
    ]


def _full_model_name(text: str, name: NameSpan) -> bool:
    """Two or three capitalised words that the model itself labelled PERSON: kept in text
    that is not English too (``Jean Dupont`` in French), where the model's one-word "names"
    and noun phrases (``Mediatisierung der Rechnernetze``) are mostly capitalised nouns."""
    words = text[name.start : name.end].split()
    return (
        name.rule in ("model", "edges")
        and 2 <= len(words) <= 3
        and all(_WORD.fullmatch(word) for word in words)
    )


def _common_word(value: str, lower_words: Container[str], dictionary: Container[str]) -> bool:
    """A one-word "name" that is a dictionary word and that the text also writes in lower
    case is a common word at the start of a sentence or in a title (``Convert a string``
    after ``cannot convert NULL``); a name is written capitalised throughout."""
    lower = value.lower()
    return " " not in value and lower in lower_words and in_dictionary(lower, dictionary)


def is_place(text: str, start: int, end: int) -> bool:
    """Whether the words right before a "name" make it a place: a house number and a comma
    (``Baarlandhof 68, Rotterdam``), a line of its own under a line that ends in a number
    (the town line of an address block), or a verb of travel or dwelling and its preposition
    (``flew to``, ``moved here from``, ``originally from``, ``lives in``, ``am in``,
    ``home city``); a possessive after it (``lives in Anna's flat``) keeps the name."""
    if _NUMBER_COMMA.search(text, max(0, start - 16), start) is not None:
        return True
    if (
        _LINE_AFTER_NUMBER.search(text, max(0, start - 16), start) is not None
        and _LINE_END.match(text, end) is not None
    ):
        return True
    if _POSSESSIVE_AFTER.match(text, end) is not None:
        return False
    return _PLACE_BEFORE.search(text, max(0, start - 40), start) is not None


class English:
    """Where ``text`` reads as English: of the lower-case words standing alone within
    :data:`ENGLISH_WINDOW` characters of a span, at least :data:`ENGLISH_MIN_SHARE` are
    English stop words, or there are too few words to tell (fewer than
    :data:`ENGLISH_MIN_WORDS`: a form, an address label). The words are found once per
    text; each question is two binary searches."""

    def __init__(self, text: str) -> None:
        self._starts: list[int] = []
        self._stops = [0]  # stop words among the first i words
        #: The lower-case words written in the text.
        self.lower_words: set[str] = set()
        for match in _PROSE_WORD.finditer(text):
            word = match.group()
            self._starts.append(match.start())
            self._stops.append(self._stops[-1] + (word in STOP_WORDS))
            self.lower_words.add(word)

    def around(self, start: int, end: int) -> bool:
        first = bisect_left(self._starts, start - ENGLISH_WINDOW)
        last = bisect_left(self._starts, end + ENGLISH_WINDOW)
        words = last - first
        if words < ENGLISH_MIN_WORDS:
            return True
        return self._stops[last] - self._stops[first] >= ENGLISH_MIN_SHARE * words


class _Taken:
    """Character offsets already covered by a span (overlap checks in constant time)."""

    def __init__(self, length: int, spans: Iterable[tuple[int, int]]) -> None:
        self._mask = bytearray(length + 1)
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        self._mask[start:end] = b"\x01" * (end - start)

    def overlaps(self, start: int, end: int) -> bool:
        return 1 in self._mask[start:end]


def _conjuncts(
    text: str, found: list[NameSpan], places: list[tuple[int, int]], dictionary: Container[str]
) -> list[NameSpan]:
    """Single capitalised words listed with a one-word name (``Alves and Smith``,
    ``Alik, Andrew, Michael and Ashley``), not a place's entity. The list is followed from
    the names that are no dictionary word (``Wisdom and Discipline`` are words, not names)."""
    singles = {
        (s.start, s.end) for s in found if _WORD.fullmatch(text[s.start : s.end]) is not None
    }
    taken = _Taken(len(text), [*((s.start, s.end) for s in found), *places])
    queue = [span for span in singles if not in_dictionary(text[span[0] : span[1]], dictionary)]
    seen = set(queue)
    added: list[NameSpan] = []
    while queue:
        start, end = queue.pop()
        for match in (
            _CONJUNCT_AFTER.match(text, end),
            _CONJUNCT_BEFORE.search(text, max(0, start - 60), start),
        ):
            if match is None or match.span("word") in seen:
                continue
            word = match.span("word")
            if word not in singles:
                if taken.overlaps(*word):
                    continue
                taken.add(*word)
                added.append(NameSpan(word[0], word[1], "list"))
            seen.add(word)
            queue.append(word)
    return added


def _repeats(
    text: str,
    found: list[NameSpan],
    places: list[tuple[int, int]],
    dictionary: Container[str],
) -> list[NameSpan]:
    words: set[str] = set()
    for span in found:
        value = text[span.start : span.end]
        if not plausible_name(value):
            continue
        words.update(
            w for w in value.split() if _WORD.fullmatch(w) and not in_dictionary(w, dictionary)
        )
    if not words:
        return []
    taken = _Taken(len(text), [*((s.start, s.end) for s in found), *places])
    repeats = []
    for match in _ANY_WORD.finditer(text):
        if match.group() not in words:
            continue
        start, end = match.span()
        if taken.overlaps(start, end):
            continue
        repeats.append(NameSpan(start, end, "repeat"))
    return repeats
