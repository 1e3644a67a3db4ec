"""The package's shape: no import cycles (function-local imports included), small modules,
and a core that imports no adapter, no web framework and no detection or policy library."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "policy_engine"
MAX_LINES = 500

#: The core: contracts, the decision's pure parts, the engine, its ports.
CORE = [
    "policy_engine.models",
    "policy_engine.records",
    "policy_engine.decision",
    "policy_engine.engine",
    "policy_engine.intake",
    "policy_engine.ports",
    "policy_engine.catalog",
    "policy_engine.scan",
    "policy_engine.observe",
    "policy_engine.validation",
    "policy_engine.errors",
    "policy_engine.digest",
    "policy_engine.findings",
    "policy_engine.chat",
]
#: What the core must not import: adapters, entry points, the composition root, and the
#: libraries they wrap.
NOT_IN_CORE = (
    "policy_engine.api",
    "policy_engine.audit",
    "policy_engine.cli",
    "policy_engine.detection",
    "policy_engine.policy",
    "policy_engine.bootstrap",
    "policy_engine.proxy",
    "fastapi",
    "httpx",
    "starlette",
    "uvicorn",
    "presidio_analyzer",
    "spacy",
    "regopy",
    "psycopg",
    "click",
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for child in ast.walk(node))
    return inside


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every module ``name`` imports, anywhere in it (functions included), except imports
    only made for type checking; a name imported from a package is the submodule when
    there is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in known else base


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {
            target for target in imports_of(name, path, known) if target in known and target != name
        }
        for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_the_package() -> None:
    assert cycles(import_graph()) == []


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        name: count
        for name, path in modules().items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize("core_module", CORE)
def test_the_core_imports_no_adapter_and_no_framework(core_module: str) -> None:
    known = modules()
    imported = set(imports_of(core_module, known[core_module], known))
    wrong = sorted(
        target
        for target in imported
        if any(target == bad or target.startswith(bad + ".") for bad in NOT_IN_CORE)
    )
    assert wrong == []
