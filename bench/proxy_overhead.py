"""`make bench`: what the routing proxy adds to an upstream call, and its throughput.

An OpenAI-compatible fake upstream (tests/fake_openai.py) runs in a process of its own and
answers at once; ``policy-engine serve`` workers send every endpoint there
(``PE_UPSTREAM_BASE_URL``). For each workload, prompt by prompt and interleaved:

* the direct call: the same chat body straight to the fake (the model the proxy chose);
* ``POST /decide`` on the same messages (what a decision costs over HTTP);
* ``POST /v1/chat/completions`` with model ``auto`` through the proxy.

Added latency = proxy minus direct, per prompt (p50, p99). Goal (issue 17): added p50 <=
/decide p50 + 2 ms. Throughput: 2 workers on the 2 KB prompts through the proxy, beside
/decide on the same prompts. Written to ``var/bench/proxy_overhead.json``.
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
THROUGHPUT_PROMPTS = 200
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
    worker: service.Worker, upstream: httpx.Client, bodies: list[list[dict[str, Any]]]
) -> dict[str, Any]:
    direct, decide, proxy, added = [], [], [], []
    for messages in bodies:
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
        decide_ms, _ = timed_ms(
            lambda m=messages: worker.client.post("/decide", json={"messages": m})
        )
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


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
    }


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pe-bench-proxy-"))
    fake, url = start_fake()
    settings = {"PE_UPSTREAM_BASE_URL": url, "PE_COMPILED_CACHE_DIR": str(workdir / "compiled")}
    results: dict[str, Any] = {"workloads": {}, "throughput": {}}
    prompts = single_prompts(ROUNDS, seed=17)
    bodies = {
        name: [[{"role": "user", "content": t}] for t in texts] for name, texts in prompts.items()
    }
    bodies["chat"] = [m for seed in range(CHATS) for m in chat_requests(seed=300 + seed)]
    try:
        worker = service.start_worker(workdir / "latency", **settings)
        with httpx.Client(base_url=url, timeout=60) as upstream:
            worker.client.post(
                "/v1/chat/completions",
                json={"model": "auto", "messages": [{"role": "user", "content": "warm up"}]},
            )
            for name, batch in bodies.items():
                results["workloads"][name] = workload(worker, upstream, batch)
        worker.stop()
        texts = single_prompts({"2KB": THROUGHPUT_PROMPTS}, seed=71)["2KB"]
        chats = [{"model": "auto", "messages": [{"role": "user", "content": t}]} for t in texts]
        decides = [{"content": t} for t in texts]
        workers = [service.start_worker(workdir / f"tp{i}", **settings) for i in range(2)]
        try:
            for worker in workers:
                worker.decide({"content": "warm up"})
            results["throughput"]["decide_2_workers"] = service.throughput(workers, decides)
            results["throughput"]["proxy_2_workers"] = service.throughput(
                workers, chats, path="/v1/chat/completions"
            )
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
    tp = results["throughput"]
    print(
        f"2 KB throughput, 2 workers: /decide {tp['decide_2_workers']['requests_per_s']:.1f}"
        f" requests/s, proxy {tp['proxy_2_workers']['requests_per_s']:.1f} requests/s"
    )


if __name__ == "__main__":
    main()
