"""Key management over HTTP for ``admin`` keys: ``GET /keys``, ``POST /keys``,
``DELETE /keys/{key_id}``. The same store as ``policy-engine keys``; a new key is in the
response body once and nowhere else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from policy_engine.access import KeyRing, Role
from policy_engine.api.auth import AUTH_RESPONSES, AdminCaller
from policy_engine.api.service import service_of
from policy_engine.keystore import KeyEntry, KeyStore
from policy_engine.models import ErrorBody

router = APIRouter(tags=["keys"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    404: {"model": ErrorBody, "description": "No active key has this id"},
    409: {"model": ErrorBody, "description": "The service runs without a key store"},
}


class KeyInfo(BaseModel):
    """A stored key as listed: never the key."""

    id: str
    role: Role
    created: str
    revoked: str | None
    label: str

    @classmethod
    def of(cls, entry: KeyEntry) -> KeyInfo:
        return cls(
            id=entry.id,
            role=entry.role,
            created=entry.created,
            revoked=entry.revoked,
            label=entry.label,
        )


class NewKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    label: str = Field(default="", max_length=200)


class NewKey(KeyInfo):
    """A key just made: ``key`` is shown here once and never again."""

    key: str


def _store(request: Request) -> KeyStore | None:
    keyring: KeyRing = service_of(request).keyring
    return keyring.store


def _problem(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(ErrorBody(error=code, message=message).model_dump(), status_code=status)


_NO_STORE = (409, "no_key_store", "this service runs without a key store")


@router.get("/keys", response_model=list[KeyInfo], responses=_ERRORS, summary="List API keys")
async def list_keys(request: Request, _: AdminCaller) -> list[KeyInfo] | JSONResponse:
    store = _store(request)
    if store is None:
        return _problem(*_NO_STORE)
    entries = await run_in_threadpool(store.entries)
    return [KeyInfo.of(entry) for entry in entries]


@router.post(
    "/keys",
    response_model=NewKey,
    status_code=201,
    responses={**_ERRORS, 422: {"model": ErrorBody, "description": "Invalid role or label"}},
    summary="Make an API key (shown once)",
)
async def create_key(request: Request, body: NewKeyRequest, _: AdminCaller) -> JSONResponse:
    store = _store(request)
    if store is None:
        return _problem(*_NO_STORE)
    key, entry = await run_in_threadpool(store.create, body.role, body.label)
    new = NewKey(key=key, **KeyInfo.of(entry).model_dump())
    return JSONResponse(new.model_dump(), status_code=201, headers={"Cache-Control": "no-store"})


@router.delete(
    "/keys/{key_id}", response_model=KeyInfo, responses=_ERRORS, summary="Revoke an API key"
)
async def revoke_key(
    request: Request,
    key_id: Annotated[str, Path(pattern=r"^key-[0-9a-f]{12}$")],
    _: AdminCaller,
) -> KeyInfo | JSONResponse:
    store = _store(request)
    if store is None:
        return _problem(*_NO_STORE)
    entries = await run_in_threadpool(store.entries)
    if not any(entry.id == key_id and entry.active for entry in entries):
        return _problem(404, "unknown_key", f"no active key {key_id}")
    return KeyInfo.of(await run_in_threadpool(store.revoke, key_id))
