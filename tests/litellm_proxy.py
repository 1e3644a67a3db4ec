"""A real LiteLLM proxy for the tests: litellm[proxy] from PyPI in var/litellm-venv
(scripts/ensure-litellm.sh; `make test` runs it), started on a free loopback port with a
config from examples/litellm/, in front of the fake OpenAI-compatible upstream
(tests/fake_openai.py) and a real policy-engine service.

Without the virtualenv the LiteLLM tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import GATEWAY_KEY, ROOT, Server, start_server
from tests.fake_openai import FakeOpenAI
from tests.local_services import free_port, unavailable

LITELLM_VENV = ROOT / "var" / "litellm-venv"
EXAMPLES = ROOT / "examples" / "litellm"
MASTER_KEY = "sk-litellm-master-0123456789"
#: The model each model group of the example configs asks the upstream for.
PUBLIC_MODEL = "deepseek-v4-flash"
ON_PREM_MODEL = "qwen3-32b"
#: Seconds LiteLLM may take to start (about 30 on a busy 2-core machine).
START_SECONDS = 240

#: What the LiteLLM tests send: a name and an SSN (sensitive personal data), and a chat
#: whose secret is only in a tool call's arguments (LiteLLM's ``texts`` do not hold them).
SSN = "536-22-8190"
NAME_AND_SSN = f"Please update the payroll file for John Smith, SSN {SSN}."
AWS_KEY = "AKIAZ7QW3RT5LM2XNB4Y"


def tool_call_chat() -> list[Any]:
    """A chat whose one secret is in an assistant's tool-call arguments."""
    return [
        {"role": "user", "content": "Look up the deploy credentials."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "arguments": f'{{"aws_access_key_id": "{AWS_KEY}"}}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "done"},
        {"role": "user", "content": "Thanks, summarize what you did."},
    ]


def litellm_bin(name: str) -> Path:
    """A program of LiteLLM's virtualenv; fails under CI=true when there is none, else
    skips."""
    path = LITELLM_VENV / "bin" / name
    if not path.is_file():
        unavailable(
            "no LiteLLM proxy: run scripts/ensure-litellm.sh (make test does) to install "
            "litellm[proxy] into var/litellm-venv"
        )
    return path


def litellm_env(engine_url: str, upstream_url: str, **extra: str) -> dict[str, str]:
    """The environment the example configs read, for a proxy in front of ``engine_url``
    and ``upstream_url``; no price map download, no proxy for loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PE_", "LITELLM_"))}
    env.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        POLICY_ENGINE_URL=engine_url,
        POLICY_ENGINE_KEY=GATEWAY_KEY,
        PUBLIC_LLM_API_BASE=upstream_url,
        PUBLIC_LLM_API_KEY="public-upstream-key",
        ONPREM_LLM_API_BASE=upstream_url,
        ONPREM_LLM_API_KEY="onprem-upstream-key",
        LITELLM_MASTER_KEY=MASTER_KEY,
    )
    env.update(extra)
    return env


def launch_litellm(workdir: Path, config: Path, env: dict[str, str]) -> Server:
    """``litellm --config CONFIG`` on a free loopback port, starting (:func:`wait_alive`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "litellm.log"
    with log_path.open("wb") as log_file:
        command = [str(litellm_bin("litellm")), "--config", str(config)]
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return Server(f"http://127.0.0.1:{port}", workdir, log_path, process)


def wait_alive(proxy: Server) -> None:
    """Wait until a launched LiteLLM proxy answers its liveness probe."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            code = proxy.process.returncode
            raise RuntimeError(f"litellm exited with {code}:\n{proxy.log_text()}")
        try:
            if httpx.get(proxy.url + "/health/liveliness", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proxy.stop()
    raise RuntimeError(f"litellm not ready in time:\n{proxy.log_text()}")


def config_with(example: Path, workdir: Path, **general_settings: Any) -> Path:
    """``example`` with more ``general_settings``, written into ``workdir``."""
    config = yaml.safe_load(example.read_text(encoding="utf-8"))
    config.setdefault("general_settings", {}).update(general_settings)
    path = workdir / example.name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


#: The engine behind the proxies: the shipped defaults (Presidio + spaCy), with a scan
#: deadline a busy test machine keeps.
ENGINE_ENV = {"PE_SCAN_DEADLINE_SECONDS": "60"}


@dataclass
class Stack:
    """A LiteLLM proxy in front of a policy-engine service and the fake upstream."""

    engine: Server
    upstream: FakeOpenAI
    proxy: Server

    @property
    def url(self) -> str:
        """The proxy's base URL for an OpenAI client."""
        return self.proxy.url + "/v1"

    def restart_engine(self) -> None:
        """Start the (stopped) engine again at the address the proxy was given."""
        port = int(self.engine.url.rsplit(":", 1)[1])
        self.engine = start_server(self.engine.workdir, port=port, **ENGINE_ENV)

    def stop(self) -> None:
        self.proxy.stop()
        self.engine.stop()


def stack(
    tmp_path_factory: pytest.TempPathFactory,
    example: str,
    beside: Sequence[Path] = (),
    **general_settings: Any,
) -> Iterator[Stack]:
    """A module's stack on the example config ``example``: as it is, or with more
    ``general_settings`` and the files ``beside`` copied next to it (modules LiteLLM
    loads from the config's folder)."""
    litellm_bin("litellm")  # skip (or fail under CI) before starting anything
    workdir = tmp_path_factory.mktemp(example.removesuffix(".yaml"))
    config = EXAMPLES / example
    if general_settings or beside:
        config = config_with(config, workdir, **general_settings)
        for path in beside:
            shutil.copy(path, workdir / path.name)
    with FakeOpenAI() as upstream:
        # LiteLLM starts slowly: the engine starts meanwhile, at the address it was given.
        engine_port = free_port()
        env = litellm_env(f"http://127.0.0.1:{engine_port}", upstream.url)
        proxy = launch_litellm(workdir / "litellm", config, env)
        try:
            engine = start_server(workdir / "engine", port=engine_port, **ENGINE_ENV)
        except BaseException:
            proxy.stop()
            raise
        running = Stack(engine, upstream, proxy)
        try:
            wait_alive(proxy)
            yield running
        finally:
            running.stop()


def run_in_litellm(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter of LiteLLM's virtualenv (where this package is
    installed without its dependencies, as on a gateway host); its last line of output,
    JSON, is the result."""
    done = subprocess.run(
        [str(litellm_bin("python")), "-c", code, *args],
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_PROXY": "127.0.0.1"},
        cwd=LITELLM_VENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
