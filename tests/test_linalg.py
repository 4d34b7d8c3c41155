"""Batched small solves run on one BLAS thread, give numpy's answers, and the fit's benchmark
reports both of its measurements."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from dynapose.bench.fit import bench_fit
from dynapose.linalg import one_blas_thread, pinv, solve


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_limits_inside_and_restores_after() -> None:
    before = _blas_threads()
    with one_blas_thread():
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before


def test_solve_and_pinv_agree_with_numpy() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 17, 17))
    a = a @ a.transpose(0, 2, 1) + np.eye(17)
    b = rng.normal(size=(50, 17, 1))
    np.testing.assert_allclose(solve(a, b), np.linalg.solve(a, b), rtol=1e-10)
    np.testing.assert_allclose(a @ solve(a, b), b, atol=1e-9)
    singular = np.zeros((3, 3, 3))
    singular[:, 0, 0] = 2.0
    np.testing.assert_allclose(pinv(singular)[:, 0, 0], 0.5)


def test_bench_fit_measures_quiet_and_busy() -> None:
    result = bench_fit(frames=200, repeats=1, busy=1)
    assert result["busy_processes"] == 1
    assert result["quiet_s"] > 0 and result["busy_s"] > 0
    assert result["slowdown"] == result["busy_s"] / result["quiet_s"]
