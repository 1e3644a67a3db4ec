"""A gateway that embeds the engine: route each prompt to the endpoint the engine recommends.

Run from the repository root after `make install`:  .venv/bin/python examples/gateway.py
The decisions are appended to the audit log configured by PE_AUDIT_URL (default var/audit.db).
"""

from __future__ import annotations

from policy_engine import Engine

PROMPTS = [
    "Write a short poem about autumn leaves.",
    "Reply to anna.schmidt@example.com and confirm Tuesday's meeting.",
    "Debug this: aws_secret_access_key = 9dK3vQ7xL2pR8tW5zN1mB6cF4hJ0yG7sA3eU2iOq",
]


def main() -> None:
    with Engine.from_settings() as engine:
        for prompt in PROMPTS:
            decision = engine.decide(
                {"content": prompt, "context": {"requested_endpoint": "deepseek-v4-flash"}},
                caller="example-gateway",
            )
            print(
                f"{decision.segment.value:<15} -> {decision.recommended_endpoint:<22}"
                f" (requested allowed: {decision.requested_endpoint_allowed},"
                f" audit #{decision.audit.sequence})"
            )


if __name__ == "__main__":
    main()
