"""Presidio's e-mail recognizer without network access.

Presidio's ``EmailRecognizer`` checks the domain of each match with the module-level
``tldextract.extract``, whose default instance downloads the Public Suffix List on first
use (offline it prints a traceback and falls back; elsewhere it can hang until a
timeout). :class:`OfflineEmailRecognizer` does the same check with an extractor built on
the snapshot bundled with ``tldextract``: no download, no cache directory, no socket.
Presidio's own module is left untouched.
"""

from __future__ import annotations

from functools import cache

import tldextract
from presidio_analyzer.predefined_recognizers import EmailRecognizer


@cache
def offline_tld_extractor() -> tldextract.TLDExtract:
    """The process-wide extractor on the bundled suffix-list snapshot, loaded now."""
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    extractor("warm-up.example.com")  # parse the snapshot here, not during a request
    return extractor


class OfflineEmailRecognizer(EmailRecognizer):
    """``EmailRecognizer`` (same patterns, context and name) with an offline domain check."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="EmailRecognizer")
        self._extract = offline_tld_extractor()

    def validate_result(self, pattern_text: str) -> bool:
        """A match counts only if its domain ends in a known public suffix."""
        return bool(self._extract(pattern_text).fqdn)
