"""Which endpoints a decided request goes to, in order: the one chosen, then at most one
fallback, both among the decision's ``allowed_endpoints`` (so never a looser segment).

The one chosen: the model asked for (a catalog id the decision allows), else the endpoint
the conversation answered from while it stays allowed (sticky), else the first allowed
endpoint (the cheapest of the routing tier, then the cheapest). The fallback: the next
allowed endpoint of another vendor, else the next allowed one. A decision the proxy cannot
obey is refused: the endpoint asked for is not allowed, none is, or an obligation is one
the proxy cannot fulfil.
"""

from __future__ import annotations

from collections.abc import Mapping

from policy_engine.models import TIERS
from policy_engine.proxy.masking import REDACT
from policy_engine.proxy.openai_errors import ProxyError
from policy_engine.proxy.upstreams import Target
from policy_engine.records import AuditRecord

POLICY_ERROR = "policy_error"


def unsupported_obligations(obligations: list[str]) -> list[str]:
    """Obligations the proxy cannot fulfil (it masks ``redact:TYPE`` and ranking applies
    ``tier:NAME``)."""
    tiers = {f"tier:{tier}" for tier in TIERS}
    return [o for o in obligations if not (o.startswith(REDACT) and len(o) > len(REDACT))
            and o not in tiers]  # fmt: skip


def plan_route(
    decided: AuditRecord,
    requested: str | None,
    targets: Mapping[str, Target],
    sticky: str | None,
) -> list[str]:
    """The endpoints to try, in order (:class:`ProxyError` when the decision refuses)."""
    allowed = decided.allowed_endpoints
    about = _about(decided)
    if requested is not None and requested not in allowed:
        shown = ", ".join(allowed) or "none"
        raise ProxyError(
            403,
            POLICY_ERROR,
            "endpoint_not_allowed",
            f"{about} does not allow endpoint {requested}; allowed: {shown}. Nothing was"
            " forwarded. Ask for model 'auto' to be routed to the cheapest allowed endpoint.",
        )
    if not allowed:
        raise ProxyError(
            403,
            POLICY_ERROR,
            "no_allowed_endpoint",
            f"{about} allows no endpoint; nothing was forwarded",
        )
    unsupported = unsupported_obligations(decided.obligations)
    if unsupported:
        raise ProxyError(
            403,
            POLICY_ERROR,
            "obligation_unsupported",
            f"{about} carries obligations the proxy cannot fulfil ({', '.join(unsupported)});"
            " nothing was forwarded",
        )
    routable = [endpoint for endpoint in allowed if endpoint in targets]
    if requested is not None:
        first = requested
    elif sticky in routable:
        first = sticky
    else:
        first = routable[0] if routable else allowed[0]
    if first not in targets:
        raise ProxyError(
            503,
            "server_error",
            "no_upstream",
            f"{about}: endpoint {first} has no upstream (set upstream in the catalog, or"
            " PE_UPSTREAM_BASE_URL); nothing was forwarded",
        )
    rest = [endpoint for endpoint in routable if endpoint != first]
    vendor = targets[first].vendor
    fallback = next((e for e in rest if targets[e].vendor != vendor), rest[0] if rest else None)
    return [first] if fallback is None else [first, fallback]


def _about(decided: AuditRecord) -> str:
    rules = ", ".join(decided.rules) or "none"
    return f"decision {decided.decision_id} (segment {decided.segment.value}; rules: {rules})"
