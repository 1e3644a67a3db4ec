"""What a request failed validation on, for its caller: fields and problems, never values.

Shared by the HTTP API (422 answers with ``details``) and the engine (``RequestError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, get_args

from pydantic import BaseModel

from policy_engine.yaml_source import validation_problem


class _WithErrors(Protocol):
    """A validation error of pydantic or FastAPI: its ``errors()`` are pydantic's."""

    def errors(self) -> Sequence[Any]: ...


def validation_details(
    exc: _WithErrors, model: type[BaseModel] | None = None
) -> list[dict[str, str]]:
    """Each problem of ``exc`` as ``{"field", "problem"}``, naming fields but never their
    values ("body" for the request as a whole). With the ``model`` validated, an unknown
    field's problem also names the fields allowed there (a misspelt key says which was
    meant)."""
    details = []
    for error in exc.errors():
        problem = validation_problem(error)
        if error["type"] == "extra_forbidden" and model is not None:
            allowed = _fields_at(model, error["loc"][:-1])
            if allowed:
                problem = f"{problem}; the fields here are {', '.join(allowed)}"
        field = ".".join(str(part) for part in error["loc"]) or "body"
        details.append({"field": field, "problem": problem})
    return details


def _fields_at(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The field names of the model found at ``path`` inside ``model`` ([] when unknown)."""
    for part in path:
        if isinstance(part, int):
            continue  # an item of a list
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model in a field's type (``X | None``, ``list[X]`` ...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def describe_validation_error(details: list[dict[str, str]]) -> str:
    """A one-line summary of :func:`validation_details`."""
    return "; ".join(f"{d['field']}: {d['problem']}" for d in details)
