"""FastAPI dependencies that admit a request only with a key of the right role.

Keys travel as ``Authorization: Bearer KEY`` (on LiteLLM's guardrail route also as
``x-api-key: KEY``). A missing or unknown key gets 401,
a key of another role 403; the body says what is needed, never the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from policy_engine.access import KeyRing, Principal, Role
from policy_engine.api.service import service_of
from policy_engine.errors import AccessError
from policy_engine.models import ErrorBody

#: OpenAPI answers of every route guarded by :func:`require_role` (give them to its router).
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No key, or an unknown or revoked key"},
    403: {"model": ErrorBody, "description": "The key's role may not call this"},
}

#: Declares the bearer scheme in the OpenAPI document; the header is parsed below, so that
#: a missing and a malformed header get different messages.
bearer_scheme = HTTPBearer(
    auto_error=False, bearerFormat="API key", description="Authorization: Bearer KEY"
)
#: The ``x-api-key`` header, accepted where :func:`require_role` is given ``api_key_header``.
api_key_scheme = APIKeyHeader(
    name="x-api-key", auto_error=False, description="x-api-key: KEY (when no Authorization)"
)


def require_role(*roles: Role, api_key_header: bool = False) -> Callable[..., Principal]:
    """A dependency returning the caller's :class:`Principal` if its role is in ``roles``.

    The key is read from ``Authorization: Bearer KEY``; with ``api_key_header``, also from
    ``x-api-key: KEY`` when there is no ``Authorization`` header (LiteLLM's ``api_key:``
    option sends it so).
    """
    wanted = " or ".join(roles)
    how = (
        "Authorization: Bearer KEY or x-api-key: KEY"
        if api_key_header
        else ("Authorization: Bearer KEY")
    )

    def admit(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, key = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise AccessError(
                    401, "unauthenticated", "the Authorization header must be 'Bearer KEY'"
                )
        elif api_key_header and "x-api-key" in request.headers:
            key = request.headers["x-api-key"]
            if not key.strip():
                raise AccessError(401, "unauthenticated", "the x-api-key header is empty")
        else:
            raise AccessError(401, "unauthenticated", f"send {how} with a {wanted} key")
        return _principal(service_of(request).keyring, key.strip(), roles)

    if not api_key_header:

        def bearer_only(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
        ) -> Principal:
            del credentials  # declared for the OpenAPI document; the header is read above
            return admit(request)

        return bearer_only

    def bearer_or_api_key(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
        api_key: Annotated[str | None, Security(api_key_scheme)],
    ) -> Principal:
        del credentials, api_key  # declared for the OpenAPI document; read above
        return admit(request)

    return bearer_or_api_key


def _principal(keyring: KeyRing, key: str, roles: tuple[Role, ...]) -> Principal:
    """The principal of ``key`` if its role is in ``roles`` (401 unknown, 403 wrong role)."""
    principal = keyring.authenticate(key)
    if principal is None:
        raise AccessError(
            401,
            "invalid_key",
            "the key is unknown or revoked; an operator makes a new one with "
            f"'policy-engine keys create --role {roles[0]}'",
        )
    if principal.role not in roles:
        raise AccessError(
            403,
            "forbidden",
            f"key {principal.key_id} has role {principal.role}; this needs {' or '.join(roles)}",
        )
    return principal


#: The caller of a route that gateways call (``POST /decide``).
GatewayCaller = Annotated[Principal, Depends(require_role("gateway"))]

#: The caller of a route that only administrators may call (key management, reload).
AdminCaller = Annotated[Principal, Depends(require_role("admin"))]

#: The caller of LiteLLM's guardrail route: a gateway key, as a bearer token or ``x-api-key``.
GatewayApiKeyCaller = Annotated[Principal, Depends(require_role("gateway", api_key_header=True))]
