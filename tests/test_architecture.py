"""The package's shape: every import runs downward through the floors of STYLE.md, and no modules import in a circle.

The floors, top to bottom: cli -> evaluation/reports/serve -> engines -> the registry of built-in models ->
ranking -> models -> clustering -> the generator -> data -> metrics/errors/progress/atomic. A module may import
from its own floor or any floor below it, never from one above. Every import counts: at module level, inside
functions and under ``TYPE_CHECKING`` (an import deferred into a function still means the lower floor knows the
upper one).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: the floors, lowest first; a module's floor is that of the longest prefix of its dotted name listed here
FLOORS: list[tuple[str, ...]] = [
    ("hmrec", "hmrec.metrics", "hmrec.errors", "hmrec.progress", "hmrec.atomic"),
    ("hmrec.data",),
    ("hmrec.synthetic",),
    ("hmrec.clustering",),
    ("hmrec.models",),
    ("hmrec.ranking",),
    ("hmrec.registry",),
    ("hmrec.engines",),
    ("hmrec.evaluation", "hmrec.reports", "hmrec.serve", "hmrec.output"),
    # searching a model's parameters (hmrec tune) runs the evaluation and writes a report
    ("hmrec.tuning",),
    ("hmrec.cli", "hmrec.__main__"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the hmrec package by dotted name (a package by its own name, for its ``__init__``)."""
    return {module_name(path): path for path in sorted((SRC / "hmrec").rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The hmrec modules that module ``name`` imports, wherever the import statement sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing module's package
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                # ``from package import submodule`` imports the submodule
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return {target for target in found if target in known and target != name}


def floor(name: str) -> int:
    best, level = -1, -1
    for index, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            matches = name == prefix or (prefix != "hmrec" and name.startswith(prefix + "."))
            if matches and len(prefix) > best:
                best, level = len(prefix), index
    if level < 0:
        raise AssertionError(f"{name} is on no floor: add its package to FLOORS (and to STYLE.md's shape)")
    return level


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    # the checks below are only as good as the parser: a function-level, a relative and a from-package import
    package = tmp_path / "hmrec" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from hmrec.pkg import b\n")
    (package / "b.py").write_text("from . import c\n")
    (package / "c.py").write_text("import hmrec.pkg.a\n")
    known = {"hmrec.pkg", "hmrec.pkg.a", "hmrec.pkg.b", "hmrec.pkg.c"}
    edges = {
        name: imports(name, package / f"{name.rsplit('.', 1)[1]}.py", known)
        for name in ("hmrec.pkg.a", "hmrec.pkg.b", "hmrec.pkg.c")
    }
    assert edges == {"hmrec.pkg.a": {"hmrec.pkg.b"}, "hmrec.pkg.b": {"hmrec.pkg.c"}, "hmrec.pkg.c": {"hmrec.pkg.a"}}
    assert cycles(edges) == [["hmrec.pkg.a", "hmrec.pkg.b", "hmrec.pkg.c"]]


def test_floors_are_ordered_as_style_says() -> None:
    assert floor("hmrec.cli.main") > floor("hmrec.serve.app") > floor("hmrec.engines.local")
    assert floor("hmrec.engines.spark.models") > floor("hmrec.registry") > floor("hmrec.ranking.ranker")
    assert floor("hmrec.ranking.ranker") > floor("hmrec.models.base") > floor("hmrec.clustering")
    assert floor("hmrec.clustering") > floor("hmrec.data.dataset") > floor("hmrec.metrics") == floor("hmrec")


def test_no_module_imports_upward() -> None:
    upward = [
        f"{name} (floor {floor(name)}) imports {target} (floor {floor(target)})"
        for name, targets in sorted(graph().items())
        for target in sorted(targets)
        if floor(target) > floor(name)
    ]
    assert not upward, "imports against the floors of STYLE.md:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert not found, "modules that import each other (directly or round a circle):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )

