"""The package's import map: no circle between modules, no import up a layer, and the
download engine reaching the archive only through its surface.

Every ``import`` counts, wherever it is: at the top, inside a function (a lazy import made
two of the circles issue 23 removed), under ``if TYPE_CHECKING:``. Importing ``a.b.c`` also
runs ``a/__init__`` and ``a/b/__init__``, so those count as imported too (a package's own
``__init__`` does not count for the modules inside it: Python has started it already).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "tikget_tui"

# The layers, top first, listed once (docs/architecture.md shows them): a module may import
# its own layer and the layers below it, never one above. Names are modules or packages.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tikget_tui.__main__", "tikget_tui.cli"),
    ("tikget_tui.commands",),
    ("tikget_tui.ui",),
    ("tikget_tui.scheduler", "tikget_tui.progress", "tikget_tui.notify", "tikget_tui.logs",
     "tikget_tui.demo"),
    ("tikget_tui.batch", "tikget_tui.watch"),
    ("tikget_tui.downloads",),
    ("tikget_tui.archive",),
    ("tikget_tui.verify", "tikget_tui.tiktok", "tikget_tui.store", "tikget_tui.files"),
    ("tikget_tui", "tikget_tui.config", "tikget_tui.locations", "tikget_tui.service",
     "tikget_tui.links", "tikget_tui.models", "tikget_tui.clock", "tikget_tui.units",
     "tikget_tui.jsonfile", "tikget_tui.private", "tikget_tui.instance",
     "tikget_tui.mediatools", "tikget_tui.startup"),
)


def modules(root: Path = ROOT) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(module imported, line) for every import statement of the module, anywhere in it."""
    is_package = path.name == "__init__.py"
    own = {name, *_ancestors(name)}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod
                       for a in node.names]
        for target in targets:
            for m in [*_ancestors(target), target]:
                if m in known and m not in own:
                    yield m, node.lineno


def graph() -> dict[str, dict[str, int]]:
    known = modules()
    return {name: dict(imports_of(name, path, known)) for name, path in known.items()}


def circles(g: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(g.get(w, {})))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    group = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        group.append(w)
                        if w == v:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def layer_of(name: str) -> int:
    best, where = "", -1
    for i, layer in enumerate(LAYERS):
        for entry in layer:
            if (name == entry or name.startswith(entry + ".")) and len(entry) > len(best):
                best, where = entry, i
    return where


def test_no_import_circle_between_modules() -> None:
    g = graph()
    found = circles(g)
    lines = []
    for group in found:
        inside = set(group)
        for m in group:
            for t, line in sorted(g[m].items()):
                if t in inside:
                    lines.append(f"  {m} (line {line}) imports {t}")
    assert not found, "import circles:\n" + "\n".join(lines)


def test_every_module_has_a_layer() -> None:
    missing = [m for m in modules() if layer_of(m) < 0 or (
        layer_of(m) == len(LAYERS) - 1 and m.count(".") > 1)]
    assert not missing, f"put these in LAYERS (tests/unit/test_layers.py): {missing}"


def test_no_import_goes_up_a_layer() -> None:
    ups = []
    for m, targets in graph().items():
        for t, line in sorted(targets.items()):
            if layer_of(t) < layer_of(m):
                ups.append(f"  {m} (line {line}) imports {t}, a layer above it")
    assert not ups, "imports up a layer:\n" + "\n".join(ups)


def test_the_download_engine_uses_only_the_archive_surface() -> None:
    """`tikget_tui.archive` exports the one decision/record surface; its modules are its own."""
    inside = [f"  {m} (line {line}) imports {t}"
              for m, targets in graph().items() if m.startswith("tikget_tui.downloads")
              for t, line in sorted(targets.items()) if t.startswith("tikget_tui.archive.")]
    assert not inside, "use `from tikget_tui.archive import ...`:\n" + "\n".join(inside)


@pytest.mark.parametrize("code, circle", [
    # a lazy import inside a function is an import
    ({"a": "import p.b\n", "b": "def f():\n    from p import a\n"}, ["p.a", "p.b"]),
    # so is one under TYPE_CHECKING
    ({"a": "from p.b import x\n",
      "b": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.a import y\n"},
     ["p.a", "p.b"]),
    # importing p.sub.c runs p/sub/__init__, which imports p.a
    ({"a": "from p.sub.c import x\n", "sub/__init__": "from p import a\n", "sub/c": ""},
     ["p.a", "p.sub"]),
    # a relative import
    ({"a": "from .b import x\n", "b": "from . import a\n"}, ["p.a", "p.b"]),
    # no circle: a package's own __init__ does not count for its modules
    ({"__init__": "from p.a import x\n", "a": "from p import b\n", "b": ""}, None),
])
def test_the_circle_finder_sees_what_python_runs(
        tmp_path: Path, code: dict[str, str], circle: list[str] | None) -> None:
    pkg = tmp_path / "p"
    for name, text in {"__init__": "", **code}.items():
        path = pkg / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    known = modules(pkg)
    g = {name: dict(imports_of(name, path, known)) for name, path in known.items()}
    assert circles(g) == ([circle] if circle else [])
