"""FastAPI dependencies that admit a request only with a key of the right role.

Keys travel as ``Authorization: Bearer KEY``. A missing or unknown key gets 401,
a key of another role 403; the body says what is needed, never the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def require_role(
    *roles: Role,
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Principal]:
    """A dependency returning the caller's :class:`Principal` if its role is in ``roles``."""
    wanted = " or ".join(roles)

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> Principal:
        del credentials  # declared for the OpenAPI document; the header is read below
        keyring: KeyRing = service_of(request).keyring
        header = request.headers.get("authorization", "")
        scheme, _, key = header.strip().partition(" ")
        if not header:
            raise AccessError(
                401, "unauthenticated", f"send Authorization: Bearer KEY with a {wanted} key"
            )
        if scheme.lower() != "bearer" or not key.strip():
            raise AccessError(
                401, "unauthenticated", "the Authorization header must be 'Bearer KEY'"
            )
        principal = keyring.authenticate(key.strip())
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
                f"key {principal.key_id} has role {principal.role}; this needs {wanted}",
            )
        return principal

    return dependency


#: The caller of a route that gateways call (``POST /decide``).
GatewayCaller = Annotated[Principal, Depends(require_role("gateway"))]

#: The caller of a route that only administrators may call (key management, reload).
AdminCaller = Annotated[Principal, Depends(require_role("admin"))]
