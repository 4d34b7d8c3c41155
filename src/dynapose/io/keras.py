"""Importing the report's Keras model (``.h5``/``.keras`` weights) as a DynaPose checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

from dynapose.io.atomic import atomic_dir
from dynapose.io.checkpoint import save_checkpoint
from dynapose.models.keras_import import load_keras_weights


def import_keras(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    input_size: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Convert the Keras weights file `path` into a DynaPose checkpoint folder `out`.

    The folder appears complete or not at all (written beside it, then renamed); an existing
    `out` is refused unless `overwrite`. Returns `out`.
    """

    model = load_keras_weights(path, input_size=input_size)
    out = Path(out)
    info = {"source": "keras", "keras_file": os.fspath(Path(path).resolve())}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        save_checkpoint(tmp, model, info=info)
    return out
