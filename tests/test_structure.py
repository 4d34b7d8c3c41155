"""The package's structure: data flows one way, modules stay small, imports are at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dynapose"
ROOT = PACKAGE.parents[1]
LONG = 500  # lines; a longer module says why at its top


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_graph_flows_one_way() -> None:
    """The layers in pyproject.toml ([tool.importlinter]): no cycles, no upward import."""
    lint = pytest.importorskip("importlinter.cli", reason="import-linter (the dev extra)")
    assert lint.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_long_modules_say_why() -> None:
    long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > LONG:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Kept as one module" not in doc:
                long.append(str(path.relative_to(PACKAGE)))
    assert long == [], f"over {LONG} lines without a reason in the docstring: {long}"


def test_imports_inside_functions_say_why() -> None:
    """Outside the CLI (which defers the stack on purpose), an import inside a function is for
    an optional or heavy dependency, with a comment on its line saying so."""
    bare = []
    for path in _modules():
        if path.parent.name == "cli":
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for func in ast.walk(ast.parse(text)):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom) and "#" not in lines[
                        node.lineno - 1]:
                    bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert bare == [], f"imports inside functions without a comment: {sorted(set(bare))}"


def test_every_module_has_a_docstring() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in _modules()
               if p.name != "__main__.py" and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


def test_public_api_is_importable_from_the_package() -> None:
    import dynapose

    for name in dynapose.__all__:
        value = getattr(dynapose, name)
        assert value is not None and (not callable(value) or value.__doc__), name
    with pytest.raises(AttributeError):
        dynapose.no_such_name  # noqa: B018


def _runtime_imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The package's modules that `module` imports when it runs (TYPE_CHECKING blocks are not
    run; ``from pkg import sub`` names the submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                     else node.module for a in node.names]
        else:
            continue
        for name in names:
            while name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in modules and name != module:
                found.add(name)
    return found


def test_no_import_cycles() -> None:
    """Modules (package __init__ files included) never import each other in a circle."""
    paths = {}
    for path in _modules():
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        paths[name] = path
    graph = {m: _runtime_imports(p, m, set(paths)) for m, p in paths.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for dep in sorted(graph[m]):
            if state.get(dep) == 1:
                cycles.append([*trail[trail.index(dep):], m, dep] if dep in trail else [m, dep])
            elif dep not in state:
                visit(dep, [*trail, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert cycles == [], f"import cycles: {cycles}"
