"""The README stays a front page and measured figures stay in docs/results.md."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from dynapose.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIGS = ROOT / "src" / "dynapose" / "configs"
#: A length in millimetres written as a number: "40.0 mm", "~36mm", "1,720 mm".
MEASURED_MM = re.compile(r"\d[\d,.]*\s*(mm|millimet(re|er)s?)\b")


def help_commands(args: list[str]) -> list[str]:
    """The command names that `dynapose ARGS --help` lists under "Commands:"."""
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.split("Commands:", 1)[1].splitlines() if "Commands:" in result.output \
        else []
    return [line.split()[0] for line in lines if line.startswith("  ") and line.strip()]


def readme_table_commands() -> set[str]:
    """The first cell of each row of the README's command table, without its backquotes."""
    rows = re.findall(r"^\| `(dynapose [^`]+)` \|", README.read_text(encoding="utf-8"), re.M)
    return set(rows)


def test_readme_is_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 150


def test_every_command_is_in_the_readme_table() -> None:
    table = readme_table_commands()
    expected = []
    for name in help_commands([]):
        sub = help_commands([name])
        expected += [f"dynapose {name} {s}" for s in sub] if sub else [f"dynapose {name}"]
    assert len(expected) >= 10  # the parsing found the commands
    missing = [c for c in expected if c not in table]
    assert not missing, f"README's command table lacks {missing}"


def test_results_page_exists_and_is_in_the_site() -> None:
    assert (ROOT / "docs" / "results.md").is_file()
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    pages = set(re.findall(r"[\w/-]+\.md", str(nav)))
    on_disk = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert "results.md" in pages
    assert on_disk <= pages, f"pages missing from mkdocs.yml's nav: {sorted(on_disk - pages)}"


def test_preset_comments_hold_no_measured_figures() -> None:
    found = []
    for path in sorted(CONFIGS.glob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            comment = line.split("#", 1)[1] if "#" in line else ""
            if MEASURED_MM.search(comment):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert not found, "figures belong in docs/results.md:\n" + "\n".join(found)


def test_the_pattern_catches_a_figure() -> None:
    assert MEASURED_MM.search("network P1 40.0 mm (39.98)")
    assert MEASURED_MM.search("head sits ~36mm further forward")
    assert not MEASURED_MM.search("mean squared error over all elements, in mm^2")
