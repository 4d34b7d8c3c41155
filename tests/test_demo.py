"""The quick demo end to end: synthesis, training, evaluation, video, summary — real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dynapose.cli import main

pytestmark = pytest.mark.slow


def test_quick_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--quick", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    for key in ("metrics_csv", "checkpoint", "video", "evaluation"):
        assert Path(summary[key]).exists(), key
    assert all(Path(f).stat().st_size > 1000 for f in summary["figures"])
    assert summary["clips"]["test"] > 0 and summary["clips"]["train"] > 0
    assert summary["baseline_mpjpe_mm"] > 0 and summary["test_mpjpe_mm"] > 0
    assert "mean pose" in result.output and "SUMMARY" not in result.output
    assert str(out / "run" / "checkpoint") in result.output
    # A second run into the same, now non-empty folder is refused without --overwrite.
    again = CliRunner().invoke(main, ["demo", "--quick", "--out", str(out)])
    assert again.exit_code == 2 and "not empty" in again.output
