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
    meant). The branches pydantic tried for a field that may take several types do not
    show (``content.str``, ``content.list[ContentPart]``): the field says what it may be,
    or, when the value had the shape of one of them, what is wrong inside it."""
    details: list[dict[str, str]] = []
    alternatives: dict[str, list[str]] = {}
    deeper: set[str] = set()
    for error in exc.errors():
        loc = list(error["loc"])
        branch = next((i for i, part in enumerate(loc) if _is_branch(part)), None)
        if branch is not None:
            field = _field_name(loc[:branch])
            if branch == len(loc) - 1 and error["type"] != "missing":
                alternatives.setdefault(field, []).append(_kind_of(str(loc[branch])))
                continue
            deeper.add(field)
            del loc[branch]
        details.append({"field": _field_name(loc), "problem": _problem(error, loc, model)})
    for field, kinds in alternatives.items():
        if field not in deeper:
            details.append({"field": field, "problem": f"must be {' or '.join(kinds)}"})
    return details


def _problem(error: Any, loc: list[Any], model: type[BaseModel] | None) -> str:
    kind = error["type"]
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if error.get("input") is None:
            return "must be an object, not null (leave the field out when there is none)"
        return "must be an object"
    problem = validation_problem(error)
    if kind == "extra_forbidden" and model is not None:
        allowed = _fields_at(model, loc[:-1])
        if allowed:
            problem = f"{problem}; the fields here are {', '.join(allowed)}"
    return problem


def _field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


#: How the branches pydantic names read in a message.
_KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "list[ContentPart]": "a list of content parts",
    "list[Message]": "a list of messages",
    "list[ToolCall]": "a list of tool calls",
}


def _is_branch(part: Any) -> bool:
    """Whether a part of an error's location is the name pydantic gives a branch of a
    union (a type such as ``str`` or ``list[ContentPart]``), not a field or an index."""
    if not isinstance(part, str):
        return False
    return part in _KINDS or "[" in part or "-" in part or part[:1].isupper()


def _kind_of(branch: str) -> str:
    return _KINDS.get(branch, "a valid value")


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
