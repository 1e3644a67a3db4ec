"""Names written in lower case, shown to the model capitalised.

The small model finds names by their capital letters; chat messages often have none
(``can u ask maria to call me back``). :func:`cased` returns the text with the words that a
cue puts in a name's place capitalised, at the same offsets, so that the NER stage runs
the model, its rules and the plausibility check on that view and reports what it finds on
the original text. The model still decides: ``thanks team`` shown as ``thanks Team`` is no
name to it.

A cue is a greeting or thanks (``hey``, ``thanks``), a verb that takes a person (``ask``,
``tell``, ``call``, ``talked to``, ``met with``, ``cc``) or an introduction (``my name is``;
``i'm``, ``it's`` and ``this is`` only before a word that is no English word: ``i'm tired``
stays as it is). The first word after it is capitalised unless it is a stop word, a chat
word or the plural of an English word (``ask questions``); a second one too unless it is
a stop word or a word of time (``john smith``, but ``john yesterday``). Only PERSON spans
count on capitalised words: a place or a company there (``ping devops``) is the
capital's doing.
"""

from __future__ import annotations

from collections.abc import Container

import regex
from spacy.lang.en.stop_words import STOP_WORDS

from policy_engine.detection.informal import CHAT_WORDS

_WORD = r"\p{Ll}[\p{Ll}'\u2019-]+"
_CUE = regex.compile(
    r"(?<![\p{L}\p{N}])(?i:(?P<intro>my[ \t]+name[ \t]+is|name['\u2019]?s|this[ \t]+is"
    r"|it['\u2019]?s|i['\u2019]?m|i[ \t]+am)|hey|hi|hello|dear|thanks|thank[ \t]+you|thx"
    r"|ask|asked|tell|told|call|called|text|texted|email|emailed|ping|pinged|remind"
    r"|talked[ \t]+to|talk[ \t]+to|spoke[ \t]+(?:to|with)|speak[ \t]+(?:to|with)"
    r"|met[ \t]+with|meeting[ \t]+with|chat[ \t]+with|cc:?)[ \t]+"
    rf"(?P<first>{_WORD})(?:[ \t]+(?P<second>{_WORD}))?(?![\p{{L}}\p{{N}}])"
)
_STOP_WORDS = frozenset(STOP_WORDS)
_POSSESSIVE = regex.compile(r"['\u2019]s$")
#: Words after a lower-case name that are no surname (``talked to john yesterday``).
_NOT_SURNAMES = CHAT_WORDS | frozenset(
    {"today", "tomorrow", "yesterday", "tonight", "later", "again", "now", "please", "thanks",
     "soon", "first", "pls", "plz", "too"}
)  # fmt: skip


def _plural(word: str, dictionary: Container[str]) -> bool:
    """``questions``, ``guys``: the plural of an English word, no name."""
    return word.endswith("s") and word[:-1].lower() in dictionary


def cased(text: str, dictionary: Container[str]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with the lower-case words in a name's place capitalised (same length), and
    the spans of those words; ``text`` itself and no spans when there are none.
    ``dictionary``: English words, lower case."""
    changes: list[tuple[int, int]] = []
    for cue in _CUE.finditer(text, overlapped=True):
        first = cue.group("first")
        if first in _STOP_WORDS or first in CHAT_WORDS or _plural(first, dictionary):
            continue
        if cue.group("intro") and _POSSESSIVE.sub("", first.lower()) in dictionary:
            continue
        changes.append(cue.span("first"))
        second = cue.group("second")
        if second and second not in _STOP_WORDS and second not in _NOT_SURNAMES:
            changes.append(cue.span("second"))
    if not changes:
        return text, []
    changes = sorted(set(changes))
    out = list(text)
    for start, _ in changes:
        capital = out[start].upper()
        if len(capital) == 1:  # a capital of another length would move every offset
            out[start] = capital
    return "".join(out), changes
