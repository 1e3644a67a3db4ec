"""What the console's tests share: a served log with real decisions and the hand-computed
savings log, a candidate policy directory, and signing in the way a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from policy_engine.audit import SQLiteAuditStore
from tests.conftest import GATEWAY_KEY, Server, bearer, start_server
from tests.savings_support import savings_log

SSN = "536-22-8190"
#: Real requests decided through POST /decide: (content, tenant).
REQUESTS = [
    (f"Employee SSN: {SSN}, please update payroll.", "acme"),
    ("Summarize the meeting notes please.", "globex"),
    ("INTERNAL ONLY - Project Bluefin launch plan", "acme"),
    ("Write to jane.doe@example.com about the invoice.", "globex"),
    ("def handler(event):\n    return event\n" * 4, "initech"),
    ("Translate 'good morning' to French.", "initech"),
]
ROUNDS = 6  # 36 decisions: more than one page of 25
TENANT_LOCK = """package segmentation.rules.tenant_lock

isolation contains {"rule": "tenant_lock.globex", "segment": "on_prem_only",
                    "message": "globex content stays on-prem"} if {
	input.context.tenant == "globex"
}
"""


def candidate_policies(root: Path, directory: Path) -> Path:
    """A copy of the shipped policies plus a rule keeping globex on-prem."""
    import shutil

    shutil.copytree(root / "policies", directory)
    (directory / "rules" / "tenant_lock").mkdir()
    (directory / "rules" / "tenant_lock" / "tenant_lock.rego").write_text(TENANT_LOCK)
    return directory


def console_server(root: Path, workdir: Path) -> Server:
    """A service (pattern detection: fast) whose console offers one replay candidate, with
    real decisions and the savings log (tests/savings_support.py) in its audit log."""
    candidate = candidate_policies(root, workdir / "tenant-lock")
    server = start_server(
        workdir / "service",
        PE_DETECTION_BACKEND="patterns",
        PE_CONSOLE_REPLAY_DIRS=str(candidate),
    )
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
            for _ in range(ROUNDS):
                for content, tenant in REQUESTS:
                    answer = http.post(
                        "/decide",
                        json={
                            "content": content,
                            "context": {"tenant": tenant, "application": "bot"},
                        },
                    )
                    answer.raise_for_status()
        store = SQLiteAuditStore(server.db_path)
        try:
            for record in savings_log():
                store.append(record)
        finally:
            store.close()
    except BaseException:
        server.stop()
        raise
    return server


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@contextmanager
def signed_in(server: Server, key: str) -> Iterator[httpx.Client]:
    """A client that signed in through the form, as a browser does (it keeps the cookies)."""
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as http:
        form = http.get("/ui/sign-in")
        answer = http.post(
            "/ui/sign-in",
            data={"csrf": csrf_of(form.text), "key": key, "next": "/ui"},
            headers={"Origin": server.url},
        )
        assert answer.status_code == 303, answer.text
        yield http
