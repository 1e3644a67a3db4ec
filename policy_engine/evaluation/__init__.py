"""The detection evaluation harness behind ``make eval``.

Labeled cases (:mod:`.cases`) come from three places: sentences generated at run time by
``presidio-evaluator`` (:mod:`.generated`, fixed seed, frozen clock), the project's own
hand-written cases in ``eval/cases/*.yaml`` (banners, codenames, look-alike negatives and
the evasion set), and, when it exists, a development set of JSONL files read in place.
Two systems (:mod:`.systems`) label every case: ours and Presidio's default
``AnalyzerEngine`` on the same spaCy model. :mod:`.scoring` counts matches
(exact-or-overlap, see there) and :mod:`.report` prints and writes the tables.

Nothing here is imported by the service.
"""
