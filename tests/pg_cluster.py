"""A throw-away PostgreSQL cluster for the tests: initdb in a temp dir, a free loopback port.

`make test` runs ``scripts/ensure-postgres.sh`` first, which installs the Debian package
when the binaries are missing. Under ``CI=true`` a cluster that cannot be started fails
the tests that need it; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.local_services import free_port, unavailable


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unavailable(reason: str) -> NoReturn:
    unavailable(f"PostgreSQL: {reason} (run scripts/ensure-postgres.sh)")


class Cluster:
    """One running cluster; :meth:`create_database` hands out fresh databases."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.port = free_port()
        self.user = "postgres"
        self._as: list[str] = []
        self._count = 0
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")  # KeyError: no such user
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
        self.sockets.mkdir()
        if self._as:
            shutil.chown(self.sockets, "postgres")
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.resume()

    def resume(self) -> None:
        """Start the (initialized) cluster again on the same port, after :meth:`stop`."""
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
            " -c max_connections=100 -c fsync=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "postgres.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        subprocess.run(
            [*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        self._count += 1
        name = f"audit_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    bindir = _binaries()
    if bindir is None:
        _unavailable("no initdb found under /usr/lib/postgresql/*/bin")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="pe-pg-"))
    try:
        cluster = Cluster(bindir, root)
        cluster.start()
    except (KeyError, OSError, subprocess.SubprocessError) as exc:
        log = root / "postgres.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"cannot start a cluster ({exc}) {detail.decode(errors='replace')} {tail}")
        raise
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def postgres_url(pg_cluster: Cluster) -> str:
    """A ``postgresql://`` URL of a fresh, empty database."""
    return pg_cluster.create_database()
