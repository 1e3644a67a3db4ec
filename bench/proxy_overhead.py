"""`make bench`: what the routing proxy adds to an upstream call, and its throughput.

An OpenAI-compatible fake upstream (tests/fake_openai.py) runs in a process of its own and
answers at once; ``policy-engine serve`` workers send every endpoint there
(``PE_UPSTREAM_BASE_URL``). For each workload, request by request and interleaved:

* ``POST /v1/chat/completions`` with model ``auto`` through the proxy;
* the direct call: the same chat body straight to the fake (the model the proxy chose);
* ``POST /decide`` (what a decision costs over HTTP) on a twin request: another prompt of
  the same workload and size. A text is dearer to scan the first time a process sees it
  (spaCy and the detectors keep what they learnt of its words), so the proxy and
  ``/decide`` each get prompts they have not seen; the finding cache is off
  (``PE_FINDING_CACHE_SIZE=0``) for the same reason.

Added latency = proxy minus direct, per prompt (p50, p99). Goal (issue 17): added p50 <=
/decide p50 + 2 ms. Throughput per workload: 2 workers through the proxy, beside /decide
on twin requests. Written to ``var/bench/proxy_overhead.json``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import service
from bench.measure import percentile
from bench.workloads import chat_requests, single_prompts

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = {"200B": 60, "2KB": 40}
CHATS = 2
THROUGHPUT_ROUNDS = {"200B": 200, "2KB": 200}
THROUGHPUT_CHATS = 6
GOAL_MARGIN_MS = 2.0


def start_fake() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_openai"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def timed_ms(call: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{response.request.url} answered {response.status_code}")
    return elapsed, response


def workload(
    worker: service.Worker,
    upstream: httpx.Client,
    bodies: list[list[dict[str, Any]]],
    twins: list[list[dict[str, Any]]],
) -> dict[str, Any]:
    direct, decide, proxy, added = [], [], [], []
    for messages, twin in zip(bodies, twins, strict=True):
        proxy_ms, answer = timed_ms(
            lambda m=messages: worker.client.post(
                "/v1/chat/completions", json={"model": "auto", "messages": m}
            )
        )
        model = answer.json()["model"]  # the upstream model the proxy chose
        direct_ms, _ = timed_ms(
            lambda m=messages, model=model: upstream.post(
                "/chat/completions", json={"model": model, "messages": m}
            )
        )
        decide_ms, _ = timed_ms(lambda m=twin: worker.client.post("/decide", json={"messages": m}))
        direct.append(direct_ms)
        decide.append(decide_ms)
        proxy.append(proxy_ms)
        added.append(proxy_ms - direct_ms)
    measured = {"direct": direct, "decide": decide, "proxy": proxy, "added": added}
    row: dict[str, Any] = {name: summary(samples) for name, samples in measured.items()}
    row["requests"] = len(bodies)
    row["goal_ms"] = round(row["decide"]["p50_ms"] + GOAL_MARGIN_MS, 2)
    row["goal_met"] = row["added"]["p50_ms"] <= row["goal_ms"]
    return row


def throughput_sets() -> dict[str, tuple[list[Any], list[Any]]]:
    """Per workload, the proxy's requests and /decide's (twins, as for latency)."""
    out: dict[str, tuple[list[Any], list[Any]]] = {}
    pair = [single_prompts(THROUGHPUT_ROUNDS, seed=71 + offset) for offset in (0, 1)]
    for name in THROUGHPUT_ROUNDS:
        proxied, decided = ([[{"role": "user", "content": t}] for t in p[name]] for p in pair)
        out[name] = (proxied, decided)
    chats = [
        [m for seed in range(start, start + THROUGHPUT_CHATS) for m in chat_requests(seed=seed)]
        for start in (500, 600)
    ]
    out["chat"] = (chats[0], chats[1])
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
    }


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pe-bench-proxy-"))
    fake, url = start_fake()
    settings = {"PE_UPSTREAM_BASE_URL": url, "PE_COMPILED_CACHE_DIR": str(workdir / "compiled")}
    # Without the finding cache every call scans its prompt: the proxy (first) and /decide
    # (second) on one prompt then pay the same detection, as two first sightings would.
    uncached = {**settings, "PE_FINDING_CACHE_SIZE": "0"}
    results: dict[str, Any] = {"workloads": {}, "throughput": {}}
    sets: list[dict[str, list[list[dict[str, Any]]]]] = []
    for offset in (0, 1):  # the proxy's requests, and their twins for /decide
        prompts = single_prompts(ROUNDS, seed=17 + offset)
        bodies = {
            n: [[{"role": "user", "content": t}] for t in texts] for n, texts in prompts.items()
        }
        seeds = range(300 + offset * 50, 300 + offset * 50 + CHATS)
        bodies["chat"] = [m for seed in seeds for m in chat_requests(seed=seed)]
        sets.append(bodies)
    try:
        worker = service.start_worker(workdir / "latency", **uncached)
        with httpx.Client(base_url=url, timeout=60) as upstream:
            worker.client.post(
                "/v1/chat/completions",
                json={"model": "auto", "messages": [{"role": "user", "content": "warm up"}]},
            )
            for name, batch in sets[0].items():
                results["workloads"][name] = workload(worker, upstream, batch, sets[1][name])
        worker.stop()
        workers = [service.start_worker(workdir / f"tp{i}", **settings) for i in range(2)]
        try:
            for worker in workers:
                worker.decide({"content": "warm up"})
            for name, (proxied, decided) in throughput_sets().items():
                results["throughput"][name] = {
                    "decide": service.throughput(workers, [{"messages": m} for m in decided]),
                    "proxy": service.throughput(
                        workers,
                        [{"model": "auto", "messages": m} for m in proxied],
                        path="/v1/chat/completions",
                    ),
                }
        finally:
            for worker in workers:
                worker.stop()
    finally:
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(timeout=30)
    report(results)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "proxy_overhead.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out / 'proxy_overhead.json'}")


def report(results: dict[str, Any]) -> None:
    print(
        f"\n{'proxy, per workload':<20} {'direct p50':>10} {'p99':>7} {'/decide p50':>11} "
        f"{'proxy p50':>10} {'p99':>7} {'added p50':>10} {'p99':>7} {'goal p50':>9}"
    )
    for name, row in results["workloads"].items():
        verdict = "met" if row["goal_met"] else "NOT met"
        print(
            f"{name:<20} {row['direct']['p50_ms']:>8.2f}ms {row['direct']['p99_ms']:>5.1f}ms "
            f"{row['decide']['p50_ms']:>9.2f}ms {row['proxy']['p50_ms']:>8.2f}ms "
            f"{row['proxy']['p99_ms']:>5.1f}ms {row['added']['p50_ms']:>8.2f}ms "
            f"{row['added']['p99_ms']:>5.1f}ms <={row['goal_ms']:>6.2f}ms {verdict}"
        )
    print(f"\n{'2 workers, requests/s':<20} {'/decide':>8} {'proxy':>8}")
    for name, row in results["throughput"].items():
        print(
            f"{name:<20} {row['decide']['requests_per_s']:>8.1f} "
            f"{row['proxy']['requests_per_s']:>8.1f}"
        )


if __name__ == "__main__":
    main()
