"""The packages of `saleor_lengo` depend one way: no import cycle, and no import upward.

The graph is read from the source with `ast`, so an import inside a function
counts as much as one at the top of a module: both make the importer depend
on the imported. A node is a top-level module (`money.py` is `money`) or a
subpackage (`payments/...` is `payments`); `saleor_lengo/__init__.py` is
`__init__`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import saleor_lengo

PACKAGE = Path(saleor_lengo.__file__).parent

# Bottom to top: a node may import nodes of its own layer or below, never
# above. The payment core sits just above the foundation, so it cannot reach
# Saleor, Lengo, callbacks, the outbox relay, the web layer or the CLI.
LAYERS: list[tuple[str, frozenset[str]]] = [
    (
        "foundation",
        frozenset(
            {
                "__init__", "logs", "jsonutil", "outbound_networks", "outbound", "settings",
                "crypto", "db", "money", "page_words", "resources", "pressure", "backoff",
                "background", "wakeups", "callback_queue", "metrics", "words",
            }
        ),
    ),
    ("payment core", frozenset({"payments"})),
    ("payout core", frozenset({"payouts"})),
    ("Lengo Pay's API", frozenset({"lengo"})),
    ("configurations", frozenset({"configurations"})),
    ("Saleor's API and installations", frozenset({"saleor"})),
    ("read cache", frozenset({"read_cache"})),
    ("collaborators", frozenset({"needs", "services"})),
    ("uninstall", frozenset({"uninstall"})),
    ("outbox relay", frozenset({"outbox"})),
    ("gauges", frozenset({"gauges"})),
    ("payment flows", frozenset({"flows"})),
    ("callbacks", frozenset({"callbacks"})),
    ("Saleor webhook handlers", frozenset({"handlers"})),
    ("background workers", frozenset({"workers"})),
    ("app API", frozenset({"app_api"})),
    ("Lengo simulator", frozenset({"simulator"})),
    ("web", frozenset({"web"})),
    ("commands", frozenset({"commands"})),
    ("CLI", frozenset({"cli"})),
]

# The payment core and what it may use: nothing of these.
CORE = frozenset({"payments", "payouts", "money"})
ABOVE_CORE = frozenset({"saleor", "lengo", "web", "app_api", "commands", "cli", "callbacks", "outbox", "flows"})


@dataclass(frozen=True)
class Import:
    importer: str  # node
    imported: str  # node
    where: str  # file:line


def _node(parts: tuple[str, ...]) -> str:
    return parts[0] if parts else "__init__"


def _imports() -> Iterator[Import]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = parts[:-1] if is_package else parts
        package = module if is_package else module[:-1]
        importer = _node(module)
        for statement in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[tuple[str, ...]] = []
            if isinstance(statement, ast.Import):
                targets = [
                    tuple(alias.name.split(".")[1:])
                    for alias in statement.names
                    if alias.name.startswith("saleor_lengo.")
                ]
            elif isinstance(statement, ast.ImportFrom):
                if statement.level:
                    base = package[: len(package) - statement.level + 1]
                    full = base + tuple(statement.module.split(".") if statement.module else ())
                elif statement.module == "saleor_lengo" or (statement.module or "").startswith("saleor_lengo."):
                    full = tuple(statement.module.split(".")[1:])  # type: ignore[union-attr]
                else:
                    continue
                # `from saleor_lengo import x`: x is a module or a name of `__init__`.
                targets = [(alias.name,) if _exists(alias.name) else () for alias in statement.names] if not full else [full]
            for target in targets:
                imported = _node(target)
                if imported != importer:
                    yield Import(importer, imported, f"{path.relative_to(PACKAGE.parent)}:{statement.lineno}")


def _exists(name: str) -> bool:
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name / "__init__.py").exists()


def _graph() -> dict[str, dict[str, list[str]]]:
    graph: dict[str, dict[str, list[str]]] = {}
    for imp in _imports():
        graph.setdefault(imp.importer, {}).setdefault(imp.imported, []).append(imp.where)
    return graph


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    # A check that reads nothing passes everything: it must see known imports.
    graph = _graph()
    assert "payments" in graph["flows"]
    assert "db" in graph["payments"]
    assert "web" in graph["commands"]  # `serve` imports it inside a function


def test_no_import_cycle_between_packages() -> None:
    graph = _graph()
    messages = []
    for component in _cycles(graph):
        edges = [
            f"  {a} -> {b} ({', '.join(graph[a][b])})"
            for a in component
            for b in component
            if b in graph.get(a, {})
        ]
        messages.append(f"cycle between {', '.join(component)}:\n" + "\n".join(edges))
    assert not messages, "\n".join(messages)


def test_every_node_has_a_layer() -> None:
    nodes = {path.stem if path.suffix else path.name for path in PACKAGE.iterdir() if not path.name.startswith((".", "_"))}
    nodes = {n for n in nodes if _exists(n)} | {"__init__"}
    declared = set().union(*(members for _, members in LAYERS))
    assert nodes - declared == set(), "add these to LAYERS in tests/test_import_graph.py"
    assert declared - nodes == set(), "LAYERS names modules that do not exist"


def test_imports_point_down_the_layers() -> None:
    rank = {node: (i, name) for i, (name, members) in enumerate(LAYERS) for node in members}
    upward = [
        f"{imp.where}: {imp.importer} ({rank[imp.importer][1]}) imports {imp.imported} ({rank[imp.imported][1]}), a layer above"
        for imp in _imports()
        if rank[imp.imported][0] > rank[imp.importer][0]
    ]
    assert not upward, "\n".join(upward)


def test_the_payment_core_reaches_nothing_above_it() -> None:
    reached = [
        f"{imp.where}: {imp.importer} imports {imp.imported}"
        for imp in _imports()
        if imp.importer in CORE and imp.imported in ABOVE_CORE
    ]
    assert not reached, "\n".join(reached)
