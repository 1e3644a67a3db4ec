"""Property-based API tests: schemathesis generates requests from the service's own OpenAPI
document and sends them to a real server, with the key of the role each route needs. No
answer may be a 500, every answer must match the schema (status codes, content types,
headers, bodies), and schema-invalid requests must be rejected."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis

from tests.conftest import ADMIN_KEY, AUDITOR_KEY, GATEWAY_KEY, Server, bearer

#: The key sent to each route, by path prefix (the role the route needs); others: gateway.
KEY_BY_PREFIX = {"/keys": ADMIN_KEY, "/policies": ADMIN_KEY, "/audit": AUDITOR_KEY}

#: Examples per operation and generation mode: bounded so that `make test` stays quick.
MAX_EXAMPLES = 60


def check_operation(operation: Any, key: str) -> None:
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=bearer(key),
            timeout=60,
            # The schema cannot say "exactly one of content and messages, with some
            # non-blank text", so a schema-valid body may rightly get 422.
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
        )

    call()


def test_every_operation_conforms_to_its_schema(server: Server) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert paths >= {"/decide", "/healthz", "/readyz", "/metrics", "/keys", "/keys/{key_id}"}
    for operation in operations:
        key = next(
            (k for prefix, k in KEY_BY_PREFIX.items() if operation.path.startswith(prefix)),
            GATEWAY_KEY,
        )
        check_operation(operation, key)
