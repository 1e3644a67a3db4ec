"""What the tests need from the machine: free ports, and external programs (OPA, PostgreSQL).

A missing program skips the tests that need it on a developer's machine, with how to get
it; under ``CI=true`` it fails them, so that CI never passes without running them.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable(message: str) -> NoReturn:
    """Fail under CI=true, else skip: ``message`` says what is missing and how to get it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required under CI=true: {message}")
    pytest.skip(message)
