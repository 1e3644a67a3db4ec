"""Property-based API tests: schemathesis generates requests from the service's own OpenAPI
document and sends them to a real server with a gateway key. No answer may be a 500, and
every answer must match the schema (status codes, content types, headers, bodies), and
schema-invalid requests must be rejected."""

from __future__ import annotations

import hypothesis
import schemathesis

from tests.conftest import GATEWAY_KEY, Server, bearer

#: Examples per operation and generation mode: bounded so that `make test` stays quick.
MAX_EXAMPLES = 60


def test_every_operation_conforms_to_its_schema(server: Server) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/decide", "/healthz", "/readyz", "/metrics"}
    for operation in operations:

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
                headers=bearer(GATEWAY_KEY),
                timeout=60,
                # The schema cannot say "exactly one of content and messages, with some
                # non-blank text", so a schema-valid body may rightly get 422.
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
            )

        call()
