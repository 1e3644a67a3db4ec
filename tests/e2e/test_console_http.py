"""The console over HTTP, against a real service: who may see it (401/403 pages), sessions
and CSRF, the pages' content, and that no key ever lands in a URL or the service log."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ADMIN_KEY, AUDITOR_KEY, GATEWAY_KEY, ROOT, Server, run_cli
from tests.console_support import SSN, console_server, csrf_of, signed_in
from tests.savings_support import DAY

PAGES = ["/ui", "/ui/decisions", "/ui/decisions/s-0001", "/ui/chain", "/ui/replay", "/ui/savings"]
#: Every key and Location header the tests used, searched for in the log at the end.
SEEN_LOCATIONS: list[str] = []
CREATED_KEYS: list[str] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = console_server(ROOT, tmp_path_factory.mktemp("console-http"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def auditor(server: Server) -> Iterator[httpx.Client]:
    with signed_in(server, AUDITOR_KEY) as http:
        yield http


def sign_in(http: httpx.Client, key: str, **headers: str) -> httpx.Response:
    form = http.get("/ui/sign-in")
    answer = http.post(
        "/ui/sign-in", data={"csrf": csrf_of(form.text), "key": key, "next": "/ui"}, headers=headers
    )
    SEEN_LOCATIONS.append(answer.headers.get("location", ""))
    return answer


# --------------------------------------------------------------------------- who may see it


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_session(server: Server, path: str) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        page = http.get(path)
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert "Sign in with an auditor or admin key to see this page." in page.text
    assert 'name="key"' in page.text and 'type="password"' in page.text
    assert "isolation." not in page.text and "acme" not in page.text  # nothing of the log


def test_posting_a_tool_form_without_a_session_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("/ui/chain", data={"csrf": "x"}).status_code == 401
        assert http.post("/ui/replay", data={"csrf": "x"}).status_code == 401


def test_a_gateway_key_gets_403_and_no_session(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        answer = sign_in(http, GATEWAY_KEY)
        assert answer.status_code == 403
        assert "has the role gateway; the console is for auditor and admin keys" in answer.text
        assert "pe_console_session" not in answer.headers.get("set-cookie", "")
        assert http.get("/ui/decisions").status_code == 401


def test_an_unknown_key_gets_401(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        answer = sign_in(http, "pe_not-a-key-anybody-made-0123456789")
        assert answer.status_code == 401
        assert "That key is unknown or revoked." in answer.text
        assert sign_in(http, "").status_code == 401


@pytest.mark.parametrize("key", [AUDITOR_KEY, ADMIN_KEY])
def test_auditor_and_admin_keys_sign_in(server: Server, key: str) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        answer = sign_in(http, key)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("pe_console_session=")
        )
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/ui"} <= attributes
        value = cookie.split(";")[0].split("=", 1)[1]
        assert key not in value
        payload = json.loads(base64.urlsafe_b64decode(value.split(".")[0] + "=="))
        assert set(payload) == {"sid", "kid", "exp"}  # a session id and the key's id, no key
        for path in PAGES:
            assert http.get(path).status_code == 200, path


def test_a_key_in_the_url_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        answer = http.get("/ui/sign-in", params={"key": AUDITOR_KEY})
        assert answer.status_code == 400
        assert "type the key into the form below" in answer.text
        assert AUDITOR_KEY not in answer.text
        assert http.get("/ui").status_code == 401


def test_a_forged_or_altered_session_cookie_is_refused(
    server: Server, auditor: httpx.Client
) -> None:
    value = auditor.cookies["pe_console_session"]
    body, mac = value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["exp"] += 3600
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for cookie in (f"{forged}.{mac}", f"{body}.{mac[:-2]}AA", "garbage"):
            http.cookies.set("pe_console_session", cookie, path="/ui")
            page = http.get("/ui/decisions")
            assert page.status_code == 401
            assert "Your session has ended; sign in again." in page.text


def test_sign_out_ends_the_session(server: Server) -> None:
    with signed_in(server, AUDITOR_KEY) as http:
        cookie = http.cookies["pe_console_session"]
        page = http.get("/ui/decisions")
        out = http.post("/ui/sign-out", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 200 and "You are signed out." in out.text
    with httpx.Client(base_url=server.url, timeout=60) as replayed:
        replayed.cookies.set("pe_console_session", cookie, path="/ui")
        assert replayed.get("/ui/decisions").status_code == 401


def test_revoking_the_key_ends_its_sessions(server: Server) -> None:
    made = run_cli(server.workdir, "keys", "create", "--role", "auditor")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    CREATED_KEYS.append(key)
    created = re.search(r"created (key-[0-9a-f]+)", made.stderr)
    assert created is not None
    key_id = created.group(1)
    with signed_in(server, key) as http:
        assert http.get("/ui/decisions").status_code == 200
        assert run_cli(server.workdir, "keys", "revoke", key_id).returncode == 0
        page = http.get("/ui/decisions")
        assert page.status_code == 401
        assert f"Key {key_id} is revoked or unknown now; sign in again." in page.text


# --------------------------------------------------------------------------- CSRF


def test_forms_without_the_sessions_csrf_token_are_refused(
    server: Server, auditor: httpx.Client
) -> None:
    token = csrf_of(auditor.get("/ui/chain").text)
    with signed_in(server, ADMIN_KEY) as other:
        other_token = csrf_of(other.get("/ui/chain").text)
    assert other_token != token
    for data, headers in [
        ({"other": "field"}, {}),
        ({"csrf": "not-the-token"}, {}),
        ({"csrf": other_token}, {}),  # another session's token
        ({"csrf": token}, {"Origin": "https://evil.example"}),
        ({"csrf": token}, {"Origin": "null"}),
    ]:
        refused = auditor.post("/ui/chain", data=data, headers=headers)
        assert refused.status_code == 403, (data, headers)
        assert "did not come from your console session" in refused.text
        assert "OK:" not in refused.text
    as_json = auditor.post("/ui/chain", json={"csrf": token})
    assert as_json.status_code == 415
    accepted = auditor.post("/ui/chain", data={"csrf": token}, headers={"Origin": server.url})
    assert accepted.status_code == 200


def test_sign_in_needs_its_form_token(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        no_form = http.post("/ui/sign-in", data={"csrf": "x", "key": AUDITOR_KEY})
        assert no_form.status_code == 403
        assert "did not come from this console" in no_form.text
        token = csrf_of(http.get("/ui/sign-in").text)
        cross_site = http.post(
            "/ui/sign-in",
            data={"csrf": token, "key": AUDITOR_KEY},
            headers={"Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
        assert "pe_console_session" not in cross_site.headers.get("set-cookie", "")


def test_after_sign_in_only_console_paths_are_followed(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        token = csrf_of(http.get("/ui/sign-in").text)
        answer = http.post(
            "/ui/sign-in", data={"csrf": token, "key": AUDITOR_KEY, "next": "//evil.example/ui"}
        )
        assert answer.headers["location"] == "/ui"


# --------------------------------------------------------------------------- pages


def test_pages_carry_security_headers_and_fetch_nothing_elsewhere(auditor: httpx.Client) -> None:
    for path in PAGES:
        page = auditor.get(path)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script" not in page.text
        assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text), path


def test_decisions_list_filters_and_pages(auditor: httpx.Client) -> None:
    everything = auditor.get("/ui/decisions", params={"limit": "25"})
    rows = re.findall(r'href="/ui/decisions/([^"]+)"', everything.text)
    assert len(rows) == 25
    next_page = re.search(r'href="([^"]+)" rel="next"', everything.text)
    assert next_page is not None
    following = auditor.get(next_page.group(1).replace("&amp;", "&"))
    more = re.findall(r'href="/ui/decisions/([^"]+)"', following.text)
    assert more and not set(more) & set(rows)

    on_prem = auditor.get("/ui/decisions", params={"segment": "on_prem_only", "tenant": "acme"})
    segments = re.findall(r'class="badge seg-([a-z_]+)"', on_prem.text)
    assert segments and set(segments) == {"on_prem_only"}
    assert ">globex<" not in on_prem.text

    by_rule = auditor.get("/ui/decisions", params={"rule": "isolation.sensitive_pii"})
    assert "isolation.sensitive_pii" in by_rule.text and "isolation.ip_markers" not in by_rule.text

    by_endpoint = auditor.get("/ui/decisions", params={"endpoint": "qwen3-32b-together"})
    assert re.findall(r'href="/ui/decisions/([^"]+)"', by_endpoint.text) == ["s-0004"]

    window = auditor.get("/ui/decisions", params={"since": DAY, "until": f"{DAY}T10:00:03Z"})
    assert re.findall(r'href="/ui/decisions/([^"]+)"', window.text) == ["s-0001", "s-0002"]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"since": "last tuesday"}, "&#39;last tuesday&#39; is not a date or time"),
        ({"segment": "nowhere"}, "segment</a>: Input should be"),
        ({"since": "2026-11-22", "until": "2026-11-21"}, "must be after &#39;since&#39;"),
        ({"cursor": "bogus"}, "not a page of this list"),
        ({"limit": "100000"}, "one of 25, 50, 100, 200"),
    ],
)
def test_bad_filters_get_400_naming_the_field(
    auditor: httpx.Client, params: dict[str, str], problem: str
) -> None:
    page = auditor.get("/ui/decisions", params=params)
    assert page.status_code == 400
    assert problem in page.text
    (field,) = params.keys() - {"since"} or {"since"}
    if field != "cursor":  # the form's own fields are marked
        assert f'id="f-{field}"' in page.text and 'aria-invalid="true"' in page.text


def test_a_decision_shows_why_never_the_value(auditor: httpx.Client) -> None:
    listing = auditor.get("/ui/decisions", params={"entity_type": "US_SSN", "tenant": "acme"})
    decision_id = re.findall(r'href="/ui/decisions/([0-9A-Z]{26})"', listing.text)[0]
    page = auditor.get(f"/ui/decisions/{decision_id}")
    assert page.status_code == 200
    text = page.text
    assert "isolation.sensitive_pii" in text and "US_SSN" in text
    assert "14\u201325" in text  # 14 to 25, the SSN's position in "Employee SSN: 536-22-8190, …"
    assert "segment on_prem_only" in text  # an excluded endpoint's reason
    assert "provenance.unverified_weights" in text
    assert "Policy revision" in text and "Detector revision" in text
    assert re.search(r"Sequence</dt><dd>\d+ of \d+", text)
    assert SSN not in text
    missing = auditor.get("/ui/decisions/NO-SUCH-DECISION")
    assert missing.status_code == 404
    assert "No decision with this id" in missing.text
    elsewhere = auditor.get("/ui/no/such/page")
    assert elsewhere.status_code == 404 and "There is no such console page." in elsewhere.text
    assert auditor.get("/ui/static/console.css").headers["content-type"].startswith("text/css")


def test_a_delivery_record_shows_on_its_decision(auditor: httpx.Client) -> None:
    page = auditor.get("/ui/decisions/s-0003")
    assert "Delivery (routing proxy)" in page.text
    assert "Tokens measured: 1200 in, 300 out." in page.text
    assert "qwen3-32b-together" in page.text


def test_verify_on_demand_names_the_first_bad_record(server: Server, auditor: httpx.Client) -> None:
    token = csrf_of(auditor.get("/ui/chain").text)
    intact = auditor.post("/ui/chain", data={"csrf": token})
    assert intact.status_code == 200
    count = re.search(r"OK: (\d+) records, hash chain intact", intact.text)
    assert count is not None and int(count.group(1)) >= 45
    db = sqlite3.connect(server.db_path)
    try:
        (original,) = db.execute("SELECT record FROM decisions WHERE sequence = 5").fetchone()
        edited = original.replace('"latency_ms":', '"latency_ms":1', 1)
        db.execute("UPDATE decisions SET record = ? WHERE sequence = 5", (edited,))
        db.commit()
        broken = auditor.post("/ui/chain", data={"csrf": token})
        assert "FAILED at sequence 5: edited" in broken.text
        assert "First bad record</dt><dd>sequence 5</dd>" in broken.text
        db.execute("UPDATE decisions SET record = '{\"not\": 1}' WHERE sequence = 5")
        db.commit()
        unreadable = auditor.get("/ui/decisions")
        assert unreadable.status_code == 503
        assert "record 5 cannot be read as a decision record" in unreadable.text
        assert (
            "FAILED at sequence 5: unreadable"
            in auditor.post("/ui/chain", data={"csrf": token}).text
        )
    finally:
        db.execute("UPDATE decisions SET record = ? WHERE sequence = 5", (original,))
        db.commit()
        db.close()


def test_replay_runs_a_known_candidate_only(auditor: httpx.Client) -> None:
    page = auditor.get("/ui/replay")
    assert '<option value="tenant-lock">tenant-lock</option>' in page.text
    token = csrf_of(page.text)
    result = auditor.post(
        "/ui/replay", data={"csrf": token, "candidate": "tenant-lock", "since": "2026-01-01"}
    )
    assert result.status_code == 200
    # globex's decisions not on-prem already: 2 per round of requests, and s-0004; and the
    # hand-made s-0002, s-0003 and s-0005, whose reasons no findings back.
    assert "16 of 43 decisions would change" in result.text
    assert re.search(r"tenant_lock.globex</th><td class=\"num\">13</td>", result.text)
    examples = re.findall(r'href="/ui/decisions/([0-9A-Z]{26})"', result.text)
    assert examples
    assert "tenant_lock.globex" in result.text
    assert auditor.get(f"/ui/decisions/{examples[0]}").status_code == 200
    for candidate in ("/tmp", str(ROOT / "policies"), "nope"):
        refused = auditor.post(
            "/ui/replay", data={"csrf": token, "candidate": candidate, "since": "2026-01-01"}
        )
        assert refused.status_code == 400
        assert "pick one of the candidate directories listed" in refused.text


def test_savings_page_shows_the_hand_computed_numbers(auditor: httpx.Client) -> None:
    page = auditor.get("/ui/savings", params={"since": DAY, "until": "2026-11-21"})
    assert page.status_code == 200
    text = page.text
    for shown in ["$0.0024", "$0.0211", "$0.0187", "88.71", "$2.50 / $10.00"]:
        assert shown in text, shown
    assert "<strong>Measured</strong> for 1 decisions: 1200 tokens in, 300 out" in text
    assert "<strong>Estimated</strong> for 3 decisions: 1601 in" in text
    assert "3 decisions could not use the cheapest endpoint" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and 'role="img"' in text
    other = auditor.get(
        "/ui/savings", params={"since": DAY, "until": "2026-11-21", "baseline": "deepseek-v4-pro"}
    )
    assert "$0.0046" in other.text
    bad = auditor.get("/ui/savings", params={"baseline": "nope"})
    assert bad.status_code == 400 and "pick an endpoint of the catalog" in bad.text


def test_overview_counts_and_charts(auditor: httpx.Client) -> None:
    page = auditor.get("/ui", params={"since": "all"})
    assert page.status_code == 200
    assert page.text.count('role="img"') >= 4
    assert "isolation.sensitive_pii" in page.text and "US_SSN" in page.text
    total = re.search(r'<span class="n">(\d+)</span> decisions', page.text)
    assert total is not None and int(total.group(1)) == 36 + 7


# --------------------------------------------------------------------------- last: the log


def test_no_key_in_the_log_or_a_url(server: Server) -> None:
    log = server.log_text()
    assert "console_signed_in" in log and "console_sign_in_refused" in log
    for key in (AUDITOR_KEY, ADMIN_KEY, GATEWAY_KEY, *CREATED_KEYS):
        assert key not in log
        assert all(key not in location for location in SEEN_LOCATIONS)
    for line in log.splitlines():
        entry = json.loads(line)
        if entry.get("event") == "http_request":
            assert "key" not in entry["path"].lower() or entry["path"] == "/keys"
