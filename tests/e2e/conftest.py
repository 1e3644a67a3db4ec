"""Fixtures of the routing proxy's end-to-end tests (helpers in tests/proxy_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.conftest import GATEWAY_KEY, Server, start_server
from tests.fake_openai import FakeOpenAI
from tests.proxy_support import (
    KEY_VALUE,
    KEY_VARIABLE,
    UPSTREAM_TIMEOUT,
    Upstreams,
    write_policies,
    write_test_catalog,
)


@pytest.fixture(scope="session")
def upstreams() -> Iterator[Upstreams]:
    fakes = Upstreams(FakeOpenAI(), FakeOpenAI(), FakeOpenAI())
    for fake in fakes.all():
        fake.start()
    yield fakes
    for fake in fakes.all():
        fake.stop()


@pytest.fixture(scope="session")
def proxy_server(
    tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("proxy")
    server = start_server(
        workdir,
        PE_CATALOG=str(write_test_catalog(workdir / "catalog.yaml", upstreams)),
        PE_POLICIES_DIR=str(write_policies(workdir / "policies", "masking", "routing")),
        PE_UPSTREAM_TIMEOUT=str(UPSTREAM_TIMEOUT),
        PE_SCAN_DEADLINE_SECONDS="120",
        **{KEY_VARIABLE: KEY_VALUE},
    )
    yield server
    server.stop()


@pytest.fixture
def fresh(upstreams: Upstreams) -> Upstreams:
    """The fakes with no behaviour set and nothing received yet."""
    upstreams.reset()
    return upstreams


@pytest.fixture
def sdk(proxy_server: Server) -> Iterator[openai.OpenAI]:
    """The OpenAI SDK pointed at the proxy (no retries: each test sees one attempt)."""
    with openai.OpenAI(
        base_url=proxy_server.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=60
    ) as client:
        yield client
