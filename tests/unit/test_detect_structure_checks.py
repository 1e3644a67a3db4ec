"""Structure checks behind the detectors: JWT headers, typed placeholders, ANSI colours,
credentials in commands, phone numbers vouched for by cues and dropped when implausible."""

from __future__ import annotations

import base64
import json

import pytest

from policy_engine.detection import PatternDetector, load_detector_set
from policy_engine.detection.normalize import normalize
from policy_engine.detection.plausibility import filter_implausible
from policy_engine.detection.validators import (
    atlassian_pat,
    github_checksum,
    jwt,
    repeated_unit,
    secret_value,
)
from policy_engine.models import DetectedSpan
from policy_engine.settings import PROJECT_ROOT


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def detector() -> PatternDetector:
    return PatternDetector(load_detector_set(PROJECT_ROOT / "detectors"))


def test_jwt_needs_a_json_header_with_an_algorithm() -> None:
    payload = _segment({"sub": "alice"})
    assert jwt(f"{_segment({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.c2ln")
    assert not jwt(f"{_segment({'typ': 'JWT'})}.{payload}.c2ln")  # no algorithm
    assert not jwt(f"{_segment({'alg': 'HS256'})[:-2]}.{payload}")  # header cut short
    assert not jwt("eyJnot-base64!.eyJ")


@pytest.mark.parametrize(
    "value",
    ["abcd1234abcd1234abcd1234", "qwer1234QWER1234qwer1234--tail", "aaaaaaaaaaaa", "xyzxyzxyz"],
)
def test_repeated_units_are_placeholders(value: str) -> None:
    assert repeated_unit(value)
    assert not secret_value(value)


@pytest.mark.parametrize(
    "value", ["k7Gq2vXz9LmP4tRw8YbN", "Vq3!mZ8#pL2xT9wK", "abab7Qz9Lm2Pw8Tb3Nc6"]
)
def test_random_values_are_not_repeated_units(value: str) -> None:
    assert not repeated_unit(value)
    assert secret_value(value)


def test_ansi_colours_are_removed_and_offsets_map_back() -> None:
    text = "key: \x1b[1;93mvalue-in-colour\x1b[0m done"
    view = normalize(text)
    assert view.text == "key: value-in-colour done"
    start = view.text.index("value")
    assert text[slice(*view.original_span(start, start + len("value-in-colour")))] == (
        "value-in-colour"
    )


def test_key_printed_in_colour_is_found(detector: PatternDetector) -> None:
    key = "sk-proj-Qm7Tz2Vx9Lp4Rw8YbT3BlbkFJNc6Hd3Jf5Ks0Ga"
    text = f"log: \x1b[93m{key}\x1b[0m"
    assert [(s.type, text[s.start : s.end]) for s in detector.detect(text)] == [
        ("SERVICE_TOKEN", key)
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("psql --password=Tk4vW9pLq2Zr -h db", "Tk4vW9pLq2Zr"),
        ("ALTER USER app IDENTIFIED BY Qw7zXk2mLp9v", "Qw7zXk2mLp9v"),
        ("amqp://svc:Vq3mZ8pL2xT9@mq.internal:5672", "Vq3mZ8pL2xT9"),
        ("curl -u deploy:Hb6yN2qVt8Wc https://x.test", "Hb6yN2qVt8Wc"),
    ],
)
def test_credentials_in_commands_and_urls(detector: PatternDetector, text: str, value: str) -> None:
    assert value in [text[s.start : s.end] for s in detector.detect(text)]


@pytest.mark.parametrize(
    "text",
    [
        "use --password-file to read it from disk",
        "mongodb://db.internal:27017/app",
        "CREATE USER app IDENTIFIED BY abcd1234abcd1234abcd1234",
    ],
)
def test_commands_without_a_credential(detector: PatternDetector, text: str) -> None:
    assert [s for s in detector.detect(text) if s.category == "secret"] == []


def _span(entity_type: str, text: str, value: str, score: float = 0.6) -> DetectedSpan:
    start = text.index(value)
    return DetectedSpan(
        type=entity_type,
        category="pii",
        start=start,
        end=start + len(value),
        score=score,
        detector="test",
    )


@pytest.mark.parametrize(
    ("text", "value", "kept"),
    [
        ("fax +44 20 7946 0958", "+44 20 7946 0958", True),
        ("number 4012-8888-8888-1881-7", "4012-8888-8888-1881-7", False),  # 17 digits
        ("ship to 118 2290 Horseshoe Lane", "118 2290", False),  # house number, street
        ("ship to 118 2290 then call", "118 2290", True),
    ],
)
def test_phone_plausibility(text: str, value: str, kept: bool) -> None:
    span = _span("PHONE_NUMBER", text, value)
    assert filter_implausible(text, [span]) == ([span] if kept else [])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Head office: (212) 555-0188 office, (212) 555-0199 fax", "(212) 555-0199"),
        ("They are not answering at 4471 2290", "4471 2290"),
        ("Please call me back on +34 612 345 678.", "+34 612 345 678"),
    ],
)
def test_phone_cues(detector: PatternDetector, text: str, value: str) -> None:
    assert ("PHONE_NUMBER", value) in [
        (s.type, text[s.start : s.end]) for s in detector.detect(text)
    ]


@pytest.mark.parametrize(
    ("text", "value", "kept"),
    [
        ("Ludwig van Beethoven wrote it", "Ludwig van Beethoven", True),
        ("In 2019 Alice joined", "Alice", True),
        ("$uploadToken .= 'abc'", "uploadToken", False),  # code, not a name
        ("meet at the corner of Harbour Square", "Harbour Square", False),
        ("deliver to 4123 Marlow Crescent", "Marlow Crescent", False),  # house number before
        ("deliver to Marlow 17, Leeds", "Marlow", False),  # house number after
        ("call Priya 0161 496 0000", "Priya", True),  # a phone number is no house number
        ('String KEY = "abc"', "String KEY", False),  # assigned to: code
        ("return String(s)", "String", False),  # called: code
        ("completion: (Swift.Bool) -> ()", "Bool", False),  # qualified: code
        ("signed J.Koubek", "Koubek", True),  # an initial is no qualifier
        ("Jane Doe (finance) approved", "Jane Doe", True),  # a parenthesis after a blank
        ("Partners : Eumetsat,Roscosmos,Copernicus", "Roscosmos", False),  # packed list
        ("42,Roscosmos,jane.doe@example.com", "Roscosmos", True),  # a row about a person
    ],
)
def test_name_plausibility(text: str, value: str, kept: bool) -> None:
    span = _span("PERSON", text, value, 0.85)
    others = [_span("EMAIL_ADDRESS", text, text[text.rindex(",") + 1 :])] if "@" in text else []
    assert filter_implausible(text, [span, *others]) == ([span] if kept else []) + others


def test_a_card_number_taken_for_a_phone_number_makes_no_record_of_a_person() -> None:
    """A packed list keeps its names only beside a contact that is reported."""
    text = "42,Roscosmos,4111 1111 1111 1111"
    name = _span("PERSON", text, "Roscosmos", 0.85)
    card = _span("CREDIT_CARD", text, "4111 1111 1111 1111", 1.0)
    phone = _span("PHONE_NUMBER", text, "4111 1111 1111 1111", 0.4)
    assert filter_implausible(text, [name, card, phone]) == [card]
    row = "42,Roscosmos,+44 20 7946 0958"
    name = _span("PERSON", row, "Roscosmos", 0.85)
    phone = _span("PHONE_NUMBER", row, "+44 20 7946 0958", 0.75)
    assert filter_implausible(row, [name, phone]) == [name, phone]


def test_no_phone_number_is_parsed_inside_a_card_or_iban(
    detector: PatternDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone stage does not parse candidates inside the other numbers' spans (the
    plausibility filter would drop what it found there); numbers beside them are found."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    from policy_engine.detection import phones

    parsed: list[str] = []
    extract = phones._PlausibleMatcher._extract_match

    def counting(self: phones._PlausibleMatcher, candidate: str, offset: int) -> object:
        parsed.append(candidate)
        return extract(self, candidate, offset)

    monkeypatch.setattr(phones._PlausibleMatcher, "_extract_match", counting)
    text = "card 4111 1111 1111 1111, call 212-555-0143, IBAN DE89 3704 0044 0532 0130 00"
    card = (text.index("4111"), text.index("4111") + 19)
    iban = (text.index("DE89"), len(text))
    everything = phones.plausible_phone_results(PhoneRecognizer(), text)
    assert "4111 1111 1111 1111" in parsed and "89 3704 0044 0532 0130 00" in parsed
    parsed.clear()
    skipped = phones.plausible_phone_results(PhoneRecognizer(), text, [card, iban])
    assert set(parsed) == {"212-555-0143"}
    assert [(r.start, r.end) for r in skipped] == [(r.start, r.end) for r in everything]
    assert [(s.type, text[s.start : s.end]) for s in detector.detect(text)] == [
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("PHONE_NUMBER", "212-555-0143"),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Signed off by Mrs. Adaeze Okafor today", "Adaeze Okafor"),
        ("Contact:  Priya K. Raman\nPhone: none", "Priya K. Raman"),
        ("My name is Tomasz Wiśniewski.", "Tomasz Wiśniewski"),
        ('Ilse: "Are you coming?"\nTomasz: Not tonight.', "Ilse"),  # speakers
        ('Ilse: "Are you coming?"\nTomasz: Not tonight.', "Tomasz"),
        ("Mirela Kovač\nAccounts payable clerk\nAcme Ltd", "Mirela Kovač"),  # name line
        ("Mirela Kovač\n\n17 Harbour Road\nLeeds", "Mirela Kovač"),
        ("Oskar, can you send the minutes?", "Oskar"),  # called by name
    ],
)
def test_person_cues(detector: PatternDetector, text: str, value: str) -> None:
    assert ("PERSON", value) in [(s.type, text[s.start : s.end]) for s in detector.detect(text)]


@pytest.mark.parametrize(
    "text",
    [
        "User: What is the capital of France?",  # chat roles are not speakers' names
        "Note: Remember to rotate the keys.",
        "Quarterly Report\nRevenue grew by 4% in the quarter.",  # a heading, not a name
        "Acme Holdings Ltd\n17 Harbour Road",  # a company over an address
        "However, can you check it?",
    ],
)
def test_person_cues_leave_labels_and_headings(detector: PatternDetector, text: str) -> None:
    assert [s for s in detector.detect(text) if s.type == "PERSON"] == []


def test_github_checksum() -> None:
    # CRC32 of the body but its last six characters, in base 62, zero-padded.
    assert github_checksum("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")
    assert not github_checksum("ghp_1111111111111111111111111111114SunM1")
    assert not github_checksum("ghp_short")


def test_atlassian_pat_decodes_to_an_id_and_a_secret() -> None:
    token = base64.b64encode(b"518273640912:" + bytes(range(20))).decode()
    assert atlassian_pat(token)
    assert not atlassian_pat(base64.b64encode(b"no id here: " + bytes(21)).decode())
    assert not atlassian_pat("not base64 at all!")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("8564871003046171329", True),  # a long numeric client secret
        ("1700000000000000", False),  # a number: few distinct digits
        ("482910", False),  # too short for digits only
        ("1234567890123456789", False),  # a typed run
    ],
)
def test_numeric_secret_values(value: str, accepted: bool) -> None:
    assert secret_value(value) is accepted


@pytest.mark.parametrize(
    "text", ["no digits at all", "call 5", "x" * 5000 + "9", "Grüße", "Grüße ٣", "fullwidth \uff15"]
)
def test_the_digit_check_is_the_regex_search(text: str) -> None:
    """Texts without a digit are not handed to libphonenumber; the check in C for plain
    ASCII must answer as ``\\d`` (Unicode digits included) does."""
    from policy_engine.detection import phones

    assert phones._has_digit(text) == (phones._DIGIT.search(text) is not None)
