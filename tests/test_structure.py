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
