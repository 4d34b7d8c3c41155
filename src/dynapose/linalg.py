"""Small batched linear algebra on one BLAS thread.

Thousands of 3 x 3 or 17 x 17 systems solved at once are far too small to split between
threads, and OpenBLAS's threads spin waiting for each other: with a second process busy on the
other core, a batched solve that takes a tenth of a second alone can take minutes. Every
batched solve in DynaPose goes through here, where BLAS is held to one thread for the call
(``dynapose bench fit`` measures it with a core kept busy; figures: docs/results.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Hold every loaded BLAS (OpenBLAS, MKL, BLIS: numpy's, scipy's...) to one thread inside the
    block. The libraries are looked up on each entry (about 1 ms), so one loaded later is held
    too: enter it around a whole computation, not inside its loops."""
    with ThreadpoolController().limit(limits=1, user_api="blas"):
        yield


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve`` of batched systems a (..., n, n), b (..., n, k), on one thread."""
    with one_blas_thread():
        return np.linalg.solve(a, b)


def pinv(a: np.ndarray) -> np.ndarray:
    """``np.linalg.pinv`` of batched matrices a (..., m, n), on one thread."""
    with one_blas_thread():
        return np.linalg.pinv(a)
