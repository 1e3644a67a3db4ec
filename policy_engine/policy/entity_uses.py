"""Which entity types a policy set uses, and where: for ``lint`` (warnings) and for hot
reload, which refuses a set that uses a type the running detectors cannot report.

A YAML rule names its types exactly (``when.entity_types``). A Rego module can only be read
for string literals that look like entity types (``"US_SSN"``; UPPER_SNAKE or five capitals
and more); such a literal is named with the Rego rule it sits in.

Detectors load once, when the service starts; a policy reload cannot bring new ones. So
:func:`unreportable` says which uses of a candidate set would never fire on the running
detectors: every YAML type they do not know, and every Rego literal that is an entity type
somewhere (a detector on disk now, a Presidio built-in) but not one the running detectors
know; other capitalised literals (``"TRAINING"``) are left to ``lint``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from policy_engine.policy.loader import PolicySet
from policy_engine.policy.yaml_load import parse_policy

#: A Rego string literal that looks like an entity type: UPPER_SNAKE with an underscore, or
#: at least five letters (short ones such as "EU" or "CN" are more often jurisdictions).
ENTITY_LITERAL = re.compile(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z0-9]{4,})"')
_RULE_HEAD = re.compile(r"^(?!package\b|import\b)([A-Za-z_]\w*)", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class EntityUse:
    """One use of an entity type: in which file, by which rule, and whether the policy names
    it as an entity type (YAML) or it only looks like one (a Rego string literal)."""

    entity_type: str
    file: str
    rule: str
    exact: bool
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def entity_uses(policy_set: PolicySet) -> Iterator[EntityUse]:
    """Every use in the set's modules and YAML policies, in file order."""
    for name, source in sorted(policy_set.modules.items()):
        path = policy_set.path_of(name)
        if name in policy_set.yaml_policies:
            policy = parse_policy(path, path.read_text(encoding="utf-8"))
            for rule in policy.rules:
                for entity_type in rule.when.entity_types or []:
                    yield EntityUse(entity_type, str(path), rule.id, exact=True)
            continue
        yield from rego_uses(str(path), source)


def rego_uses(file: str, source: str) -> Iterator[EntityUse]:
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    package = _PACKAGE.search(code)
    prefix = f"{package.group(1)}." if package else ""
    seen = set()
    for match in ENTITY_LITERAL.finditer(code):
        name = match.group(1)
        if name in seen:
            continue
        seen.add(name)
        heads = list(_RULE_HEAD.finditer(code, 0, match.start()))
        rule = prefix + heads[-1].group(1) if heads else prefix.rstrip(".")
        line = code.count("\n", 0, match.start()) + 1
        yield EntityUse(name, file, rule, exact=False, line=line)


def did_you_mean(name: str, known: Collection[str]) -> str:
    """`` (did you mean IBAN_CODE?)`` when a known type is close to ``name``."""
    ordered = sorted(known)
    close = [k for k in ordered if k.startswith(f"{name}_") or k.endswith(f"_{name}")]
    close += difflib.get_close_matches(name, ordered, n=2, cutoff=0.75)
    close = list(dict.fromkeys(close))[:3]
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def unreportable(
    policy_set: PolicySet, reportable: Collection[str], vocabulary: Collection[str]
) -> list[str]:
    """One message per use in ``policy_set`` of a type the running detectors cannot report
    (``reportable``); a Rego literal counts only when it is in ``vocabulary`` (the entity
    types known anywhere: built-ins, detectors on disk now)."""
    problems = []
    for use in entity_uses(policy_set):
        if use.entity_type in reportable:
            continue
        if not use.exact and use.entity_type not in vocabulary:
            continue
        problems.append(
            f"{use.where}: rule {use.rule} uses entity type {use.entity_type}, which the running"
            f" detectors cannot report{did_you_mean(use.entity_type, reportable)}. Detectors"
            " load when the service starts and do not reload: restart the service to load"
            " new ones from PE_DETECTORS_DIR"
        )
    return problems
