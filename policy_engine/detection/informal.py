"""Capitalised words of informal text that the model takes for names or places.

Tweets and chat messages capitalise what prose would not, and the small model reads a
capitalised unknown word as a name: a hashtag (``#Padres``), a chat word at the start of a
message (``Wanna``, ``Takin``, ``Goodnight``), a holiday (``Merry Christmas``), a product
written in CamelCase (``PlayStation``, ``ServiceNow``). :func:`not_a_name` tells the
plausibility check (:mod:`.plausibility`) that such a PERSON or LOCATION span is none:

* a span right after ``#`` (a hashtag: a topic, not a person or a place);
* one word of the closed list :data:`CHAT_WORDS`, or, first in its sentence, a dropped-g
  verb form (``Takin``, ``Lovin'``: the word with ``g`` is an English ``-ing`` word);
* words that name a holiday (:data:`HOLIDAY_WORDS`: ``Easter``, ``Labor Day``, ``New
  Year's Eve``), after ``Happy``, ``Merry`` … or not;
* one word with a capital inside it other than a name's (``Mc``, ``Mac``, ``O'``, ``De``,
  ``La`` …: ``McKenzie``, ``DeShawn`` are names, ``iPhone``, ``AirPods``, ``YouTube`` not).
"""

from __future__ import annotations

from collections.abc import Container

import regex

#: Chat words and interjections that the model labels as names when capitalised.
CHAT_WORDS = frozenset(
    {"wanna", "gonna", "gotta", "kinda", "sorta", "lemme", "gimme", "dunno", "lotta", "outta",
     "coulda", "shoulda", "woulda", "yall", "y'all", "omg", "lol", "lmao", "rofl", "brb", "btw",
     "tbh", "idk", "imo", "imho", "thx", "pls", "plz", "ugh", "yay", "yikes", "hmm", "haha",
     "hehe", "nope", "yep", "yup", "goodnight", "gnight", "goodmorning", "tmrw", "tmr", "cya",
     "xoxo", "bae", "bff", "fyi", "asap", "sooo", "soooo", "yass", "yasss", "omw", "smh",
     "ikr", "nvm", "ttyl", "wyd", "hbu", "congrats", "tysm", "ty"}
)  # fmt: skip
#: Words of holiday names (with "day", "eve", "new year" they are a holiday's name).
HOLIDAY_WORDS = frozenset(
    {"christmas", "xmas", "easter", "thanksgiving", "halloween", "hanukkah", "chanukah",
     "diwali", "eid", "ramadan", "passover", "kwanzaa", "holi", "vesak", "lent", "advent",
     "pentecost", "juneteenth", "mardi", "gras", "oktoberfest", "yom", "kippur", "rosh",
     "hashanah", "valentine", "valentine's", "valentines", "new", "year", "year's", "years",
     "lunar", "chinese", "day", "eve", "mother's", "father's", "independence", "labor",
     "labour", "memorial", "boxing", "patrick's", "st", "st.", "saint", "nowruz", "vaisakhi",
     "navratri", "hogmanay", "carnival", "festivus"}
)  # fmt: skip
#: A holiday of one word is one of these (``Eve``, ``Day``, ``Valentine`` alone are names).
_HOLIDAY_CORE = HOLIDAY_WORDS - {
    "new", "year", "year's", "years", "lunar", "chinese", "day", "eve", "st", "st.",
    "saint", "independence", "labor", "labour", "memorial", "boxing", "mother's",
    "father's", "mardi", "valentine", "valentine's", "valentines", "holi", "carnival",
}  # fmt: skip
_GREETINGS = frozenset({"happy", "merry", "blessed", "joyous", "joyful", "wonderful"})
_INNER_CAPITAL = regex.compile(r"\p{Ll}\p{Lu}")
#: Where a name may have a capital inside it.
_NAME_PREFIX = regex.compile(
    r"(?:Mc|Mac|Fitz|O['\u2019]|D['\u2019]|De|Da|Di|Du|Del|La|Le|Lo|Van|Von|St)\p{Lu}"
)
_DROPPED_G = regex.compile(r"(\p{L}+in)['\u2019]?")
_SENTENCE_START = regex.compile(r"(?:^|[.!?\n][\"')\]]*[ \t]*)[\"'(\[]*$")


def not_a_name(text: str, start: int, end: int, dictionary: Container[str] = ()) -> bool:
    """Whether the PERSON or LOCATION ``text[start:end]`` is a hashtag, a chat word, a
    holiday or a product (see the module docstring); ``dictionary``: English words (lower
    case), for dropped-g verb forms."""
    if text[start - 1 : start] == "#":
        return True
    words = text[start:end].split()
    lower = [word.lower() for word in words]
    if len(words) == 1:
        if lower[0] in CHAT_WORDS or _product(words[0]):
            return True
        if _dropped_g(words[0], dictionary) and _SENTENCE_START.search(
            text, max(0, start - 8), start
        ):
            return True
    if lower[0] in _GREETINGS:
        lower = lower[1:]
    if not lower or not all(word in HOLIDAY_WORDS for word in lower):
        return False
    return len(lower) > 1 or lower[0] in _HOLIDAY_CORE


def _product(word: str) -> bool:
    """A capital inside the word that no name prefix explains (``AirPods``, ``iPhone``)."""
    inner = _INNER_CAPITAL.search(word)
    return inner is not None and _NAME_PREFIX.match(word) is None


def _dropped_g(word: str, dictionary: Container[str]) -> bool:
    """``Takin``, ``Lovin'``: with ``g`` the word is an English ``-ing`` word."""
    found = _DROPPED_G.fullmatch(word)
    return found is not None and (found.group(1).lower() + "g") in dictionary
