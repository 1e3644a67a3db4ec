"""Abuse and bad input over HTTP: each limit answers a clear 4xx; a pathological detector
makes the decision fail closed with reason scan_timeout once the scan deadline passes."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import GATEWAY_KEY, Server, bearer, start_server

#: A recognizer that backtracks exponentially on a long run of "a" not followed by "b":
#: it runs until its regex time limit (2 s), far past the test's scan deadline.
SLOW_DETECTORS = """\
version: 1
recognizers:
  - id: backtracker
    entity_type: LETTER_RUN
    category: ip_marker
    description: A pathological pattern, to prove the scan deadline.
    patterns:
      - name: nested repeat
        regex: '(?:a|aa)+b'
        score: 0.5
"""
# Not plain ASCII ("\u00e9"): the regex then searches the whole text. In plain ASCII the
# pattern stage's prefilter proves that it matches nowhere, and it does not run at all.
PATHOLOGICAL = "a" * 64 + "! \u00e9"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("limited")
    detectors = workdir / "detectors"
    detectors.mkdir()
    (detectors / "slow.yaml").write_text(SLOW_DETECTORS)
    server = start_server(
        workdir,
        PE_DETECTION_BACKEND="patterns",
        PE_DETECTORS_DIR=str(detectors),
        PE_SCAN_DEADLINE_SECONDS="1",
        PE_MAX_MESSAGES="4",
        PE_MAX_NESTING_DEPTH="8",
        PE_MAX_MESSAGE_CHARS="1000",
        PE_MAX_BODY_BYTES="20000",
        PE_STRICT_MODE="true",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(limited: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.url, timeout=60, headers=bearer(GATEWAY_KEY)) as client:
        yield client


def deep(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"messages": [{"role": "user", "content": "hi"}] * 5}, 413, "too_many_messages"),
        ({"content": "word " * 300}, 413, "content_too_long"),
        ({"messages": [{"role": "user", "content": "w" * 1001}]}, 413, "content_too_long"),
        ({"content": "hi", "context": deep(8)}, 400, "nesting_too_deep"),
        ({"messages": [{"role": "user", "content": "hi", "mood": "x"}]}, 422, "unknown_field"),
        ({"content": "hi", "contxt": {}}, 422, "invalid_request"),
    ],
)
def test_limits_answer_clear_errors(
    http: httpx.Client, body: object, status: int, code: str
) -> None:
    response = http.post("/decide", json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["error"] == code
    assert error["message"]


def test_body_size_and_parser_depth_limits(http: httpx.Client) -> None:
    big = http.post("/decide", json={"content": "z" * 30000})
    assert big.status_code == 413 and big.json()["error"] == "body_too_large"
    brackets = b'{"content": "hi", "x": ' + b"[" * 9000 + b"]" * 9000 + b"}"
    too_deep = http.post("/decide", content=brackets, headers={"content-type": "application/json"})
    assert too_deep.status_code == 400 and too_deep.json()["error"] == "nesting_too_deep"


def test_pathological_input_fails_closed_at_the_scan_deadline(
    http: httpx.Client, limited: Server
) -> None:
    clean = http.post("/decide", json={"content": "nothing to see here"}).json()
    assert clean["outcome"] == "decided" and clean["segment"] == "any"

    response = http.post("/decide", json={"content": PATHOLOGICAL})
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["outcome"] == "fail_closed"
    assert decision["segment"] == "on_prem_only"
    assert decision["reasons"][0]["rule"] == "scan_timeout"
    assert "within 1 s" in decision["reasons"][0]["message"]
    db = sqlite3.connect(limited.db_path)
    (text,) = db.execute(
        "SELECT record FROM decisions WHERE decision_id = ?", (decision["decision_id"],)
    ).fetchone()
    db.close()
    record = json.loads(text)
    assert record["outcome"] == "fail_closed"
    assert record["reasons"][0]["rule"] == "scan_timeout"
    # The detector scans one text at a time, so requests that arrive while the runaway scan
    # holds it fail closed too; once its regex time limit ends it, the service decides again.
    outcomes = []
    for _ in range(60):
        outcomes.append(http.post("/decide", json={"content": "still fine"}).json()["outcome"])
        if outcomes[-1] == "decided":
            break
        time.sleep(0.5)
    assert outcomes[-1] == "decided", outcomes
    metrics = http.get("/metrics").text
    timed_out = float(
        re.search(r'policy_engine_fail_closed_total\{reason="scan_timeout"\} (\S+)', metrics)[1]
    )
    assert timed_out == len(outcomes)  # the pathological one plus the ones that waited
