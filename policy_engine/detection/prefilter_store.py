"""Compiled prefilters kept on disk, so that a restart does not compile them again.

Compiling the pattern stage's hyperscan database and measuring its regexes is most of
what building the detector costs (about 0.9 s of CPU for the shipped detectors).
:class:`PrefilterStore` keeps both in a directory (``PE_COMPILED_CACHE_DIR``, default
``var/cache``), one file per set of patterns, named by a digest of everything the result
depends on: the patterns and their flags, the hyperscan version, the machine and the
source of :mod:`.prefilter` and of the modules it measures and compiles with. A changed
detector file, upgrade or code change therefore gets a new entry; nothing is ever read for
a different set of patterns.

A file that cannot be read, is truncated, fails its checksum or that hyperscan refuses is
ignored (a warning is logged) and compiled again; writing is atomic (a temporary file
renamed into place), and a failed write only costs the next start its time. The files
hold regex sources and compiled automata, no content from requests. They are as trusted
as the rest of ``var/`` (the audit log, the keys): whoever can write there can make the
service load a database of their choosing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hyperscan

from policy_engine.logs import get_logger

log = get_logger(__name__)

#: Changes when the file layout below changes.
_FORMAT = "policy-engine prefilter 2"
#: The modules whose code decides what is compiled and measured.
_SOURCES = tuple(
    Path(__file__).with_name(name)
    for name in ("prefilter.py", "regex_reach.py", "regex_rewrite.py", "hyperscan_db.py")
)


@dataclass(frozen=True)
class Compiled:
    """What :class:`~.prefilter.Prefilter` builds: per pattern its measured reach as
    ``[longest, ahead, consumed]`` (None: not windowed) and whether it is gated, and the
    block-mode hyperscan database (None: no pattern is in it)."""

    reaches: list[list[Any] | None]
    gated: list[bool]
    database: Any


class PrefilterStore:
    """Compiled prefilters in ``directory``, keyed by :meth:`key`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def key(patterns: Sequence[tuple[str, int]]) -> str:
        """A digest of the patterns and of everything their compiled form depends on."""
        digest = hashlib.sha256()
        for part in (
            _FORMAT,
            getattr(hyperscan, "__version__", "?"),
            platform.machine(),
            platform.python_version(),
            *(hashlib.sha256(source.read_bytes()).hexdigest() for source in _SOURCES),
            json.dumps([[pattern, flags] for pattern, flags in patterns]),
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / f"prefilter-{key[:32]}.bin"

    def load(self, key: str) -> Compiled | None:
        """The entry for ``key``; None when there is none or it is unusable."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("prefilter_cache_unreadable", path=str(path), error=str(exc))
            return None
        try:
            header_line, _, body = raw.partition(b"\n")
            header = json.loads(header_line)
            reaches, gated = header["reaches"], header["gated"]
            if header["key"] != key or header["sha256"] != _checksum([reaches, gated], body):
                raise ValueError("key or checksum mismatch")
            if not isinstance(reaches, list) or not all(map(_is_reach, reaches)):
                raise ValueError("malformed reaches")
            if not isinstance(gated, list) or not all(type(g) is bool for g in gated):
                raise ValueError("malformed gates")
            database = None
            if header["database"]:  # refuses a database built elsewhere
                database = hyperscan.loadb(body, hyperscan.HS_MODE_BLOCK)
        except (ValueError, KeyError, TypeError, hyperscan.error) as exc:
            log.warning("prefilter_cache_ignored", path=str(path), error=str(exc))
            return None
        log.info("prefilter_cache_loaded", path=str(path))
        return Compiled(reaches, gated, database)

    def save(self, key: str, compiled: Compiled) -> None:
        """Store ``compiled`` under ``key``; on failure log a warning and go on."""
        body = b"" if compiled.database is None else hyperscan.dumpb(compiled.database)
        header = {
            "key": key,
            "sha256": _checksum([compiled.reaches, compiled.gated], body),
            "database": compiled.database is not None,
            "reaches": compiled.reaches,
            "gated": compiled.gated,
        }
        path = self.path(key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".prefilter-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(json.dumps(header).encode("utf-8") + b"\n" + body)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("prefilter_cache_not_written", path=str(path), error=str(exc))
            return
        log.info("prefilter_cache_written", path=str(path))


def _checksum(reaches: Any, body: bytes) -> str:
    digest = hashlib.sha256(json.dumps(reaches, sort_keys=True).encode("utf-8"))
    digest.update(body)
    return digest.hexdigest()


def _is_reach(value: Any) -> bool:
    """None, or ``[longest (int or None), ahead (int), consumed (str)]``."""
    if value is None:
        return True
    if not isinstance(value, list) or len(value) != 3:
        return False
    longest, ahead, consumed = value
    return (
        (longest is None or type(longest) is int)
        and type(ahead) is int
        and isinstance(consumed, str)
    )
