from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dynapose.cli import main
from dynapose.config import load_config, preset_names
from dynapose.errors import DynaPoseError


def test_seed_preset_is_the_report_recipe() -> None:
    c = load_config("seed")
    assert (c.epochs, c.batch_size, c.lr, c.beta1, c.beta2, c.eps, c.loss) == (
        5, 80, 5e-3, 0.75, 0.95, 1e-7, "mse")
    assert c.optimizer == "keras-adam" and c.model_config["input_size"] == 224
    assert {"seed", "quick"} <= set(preset_names())


def test_file_then_flags_override_the_preset(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("epochs: 3\nlr: 0.001\nmodel_config:\n  clip_len: 4\n")
    c = load_config("seed", f, {"lr": 0.002, "batch_size": None})
    assert (c.epochs, c.lr, c.batch_size) == (3, 0.002, 80)
    assert c.model_config == {"clip_len": 4, "input_size": 224}


@pytest.mark.parametrize(
    ("text", "message"),
    [("epochs: [1\n", "invalid YAML"), ("- 1\n", "mapping"), ("epocs: 3\n", "unknown setting"),
     ("epochs: 0\n", "epochs must be >= 1"), ("optimizer: sgd\n", "unknown optimizer")],
)
def test_bad_config_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(DynaPoseError, match=message) as info:
        load_config("seed", f)
    assert "bad.yaml" in str(info.value)


def test_unknown_preset_and_missing_file_via_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["train", "--data", "x", "--out", str(tmp_path / "r"),
                               "--preset", "nope"])
    assert res.exit_code == 2 and "unknown preset 'nope'" in res.output
    res = runner.invoke(main, ["train", "--data", "x", "--out", str(tmp_path / "r"),
                               "--config", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "none.yaml: config file not found" in res.output
    assert not (tmp_path / "r").exists()
