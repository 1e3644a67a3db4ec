"""Where a name or a place can be: the windows of a text the NER stage analyses.

spaCy's NER costs about the same for every token, and most tokens of prose cannot begin a
PERSON or a LOCATION: the model writes those only over capitalised words. The NER stage
therefore runs the model only on windows around *candidates* (:func:`candidates`), each
window the candidate with :data:`CONTEXT_TOKENS` runs of non-blank characters on either
side (the model's features reach a few tokens each way), overlapping windows merged
(:func:`windows`). What lies outside every window is not analysed: a name there is
missed. ``make eval`` measures what that costs (:mod:`policy_engine.evaluation.windows`).

A candidate is a word written with a capital letter (or in capitals, ``UK``), except:

* the first word of a sentence (after ``.``, ``!`` or ``?``, or of the whole text) when
  it is a stop word (``The``, ``We``, ``Please``) or is followed by a determiner or a
  pronoun (``Draft a``, ``Compare the``, ``Send them``): an imperative or a common word.
  Another first word keeps the context on both sides, like every candidate: with the
  words after it only, the model takes more of them for places (``Plain words about``
  is a GPE to it, ``weather. Plain words about`` is not). A line's first word is not a
  sentence's (address blocks, lists and signatures put names and places there);
* weekdays, the months that are no given names, and the pronoun ``I``;
* a word glued to digits (``Q3``, ``H1``): no name or place is written so.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import regex
from spacy.lang.en.stop_words import STOP_WORDS

#: Runs of non-blank characters of context kept on each side of a candidate.
CONTEXT_TOKENS = 2

#: A word that starts with a capital letter (not inside a longer word or glued to digits).
_CAPITALISED = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_])\p{Lu}[\p{L}\p{M}]*(?:['\u2019.-]\p{L}[\p{L}\p{M}]*)*(?![\p{N}_])"
)
#: A token of context: a run of non-blank characters (a word with its punctuation; JSON or
#: code without blanks stays whole, as the model reads it in the whole text).
_TOKEN = regex.compile(r"\S+")
#: What may stand between a sentence's start and its first word.
_OPENERS = frozenset(" \t\"'\u201c\u2018([*\u2022->#")
_SENTENCE_ENDS = frozenset(".!?")
_CLOSERS = frozenset("\"'\u201d\u2019)]")
_NEXT_WORD = regex.compile(r"[ \t]+(\p{Ll}+)\b")
#: Words after which a sentence's first word is a verb or a common word, not a name.
_AFTER_NON_NAME = frozenset(
    {"a", "an", "the", "this", "that", "these", "those", "my", "our", "your", "their", "his",
     "its", "me", "us", "them", "it", "him", "all", "some", "any", "each", "every", "no"}
)  # fmt: skip
#: Words that are no name or place where capitalised: weekdays and the months that are no
#: given names.
_NEVER = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
     "february", "march", "july", "september", "october", "november", "december"}
)  # fmt: skip
_STOP_WORDS = frozenset(STOP_WORDS)
_POSSESSIVE = regex.compile(r"['\u2019]s$")
#: A title or an initial before a period (the period ends no sentence).
_ABBREVIATION = regex.compile(
    r"(?<![\p{L}.])(?:\p{Lu}|Mr|Mrs|Ms|Mx|Dr|Prof|Sr|Jr|St|Mt|Rev|Gen|Col|Capt|Lt|Sgt)$"
)


@dataclass(frozen=True)
class Candidate:
    """A word that may be part of a name or a place; ``first`` when it starts a sentence."""

    start: int
    end: int
    first: bool


def candidates(text: str) -> list[Candidate]:
    """Each word of ``text`` that may be part of a name or a place, in order."""
    found = []
    for match in _CAPITALISED.finditer(text):
        word = match.group()
        lower = _POSSESSIVE.sub("", word.lower())
        if lower in _NEVER or word == "I":
            continue
        first = _starts_sentence(text, match.start())
        if first and (lower in _STOP_WORDS or _determiner_after(text, match.end())):
            continue
        found.append(Candidate(match.start(), match.end(), first))
    return found


def windows(
    text: str, context: int = CONTEXT_TOKENS, *, covered: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """The merged ``(start, end)`` ranges of ``text`` around its :func:`candidates` (those
    inside a ``covered`` span left out), each with ``context`` tokens on either side (near
    the text's start, as many more after it as are missing before it)."""
    found = candidates(text)
    if covered:
        found = [c for c in found if not any(a <= c.start and c.end <= b for a, b in covered)]
    if not found:
        return []
    tokens = [match.span() for match in _TOKEN.finditer(text)]
    starts = [start for start, _ in tokens]
    merged: list[tuple[int, int]] = []
    for candidate in found:
        at = bisect.bisect_right(starts, candidate.start) - 1
        first = max(0, at - context)
        # Near the text's start, the context missing before it is taken after it.
        after = context + (context - (at - first))
        last = min(len(tokens) - 1, bisect.bisect_left(starts, candidate.end) - 1 + after)
        low, high = tokens[first][0], max(tokens[last][1], candidate.end)
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def _starts_sentence(text: str, position: int) -> bool:
    """Whether only blanks, opening quotes, brackets or bullets stand between ``position``
    and the start of the text or the end of a sentence (not of a line; not the period of
    a title or an initial: ``Mr. Okafor``, ``J. Okafor``)."""
    index = position - 1
    while index >= 0 and text[index] in _OPENERS:
        index -= 1
    if index < 0:
        return True
    while index >= 0 and text[index] in _CLOSERS:
        index -= 1
    if index < 0 or text[index] not in _SENTENCE_ENDS or index >= position - 1:
        return False
    return text[index] != "." or _ABBREVIATION.search(text, max(0, index - 5), index) is None


def _determiner_after(text: str, end: int) -> bool:
    following = _NEXT_WORD.match(text, end)
    return following is not None and following.group(1) in _AFTER_NON_NAME
