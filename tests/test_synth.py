"""Synthetic clip stores: determinism, worker independence, splits, labels, bad input, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import shared_path
from dynapose.bench.synth import bench_synth
from dynapose.camera import project
from dynapose.cli import main
from dynapose.data.store import ClipStore, partial_path
from dynapose.data.synthetic import synth
from dynapose.errors import DynaPoseError

SIZE = 48


def _files(store: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(store.iterdir())}


def test_same_seed_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    a = synth.synthesize(tmp_path / "a", 10, size=SIZE, seed=3, workers=1, progress=False)
    b = synth.synthesize(tmp_path / "b", 10, size=SIZE, seed=3, workers=2, progress=False)
    c = synth.synthesize(tmp_path / "c", 10, size=SIZE, seed=4, workers=2, progress=False)
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert fa.keys() == fb.keys() and all(fa[k] == fb[k] for k in fa)
    assert fa["frames-00000.u8"] != fc["frames-00000.u8"]


def test_store_contents_labels_and_splits(tmp_path: Path) -> None:
    path = synth.synthesize(tmp_path / "s", 40, size=SIZE, seed=1, workers=2, progress=False)
    store = ClipStore(path)
    assert len(store) == 40 and store.has_joints2d
    assert (store.height, store.width, store.clip_len) == (SIZE, SIZE, 8)
    clip = store.clip(5)
    assert clip["frames"].shape == (8, SIZE, SIZE, 3) and clip["frames"].std() > 5
    for col in ("subject", "action", "camera", "start", "split", "source", "motion"):
        assert col in store.meta_columns
    # Labels: projecting joints3d with the crop intrinsics gives joints2d; all inside the crop.
    for i in range(len(store)):
        fx, fy, cx, cy = store.meta_columns["intrinsics"][i]
        j3, j2 = store.read("joints3d", i), store.read("joints2d", i)
        assert np.allclose(project(j3, [fx, fy], [cx, cy]), j2, atol=1e-2)
        assert np.all((j2 > 0) & (j2 < SIZE)) and np.all(j3[..., 2] > 2000)
    # Splits: every split present, disjoint by subject and by motion variant.
    split = np.asarray(store.meta_columns["split"])
    subjects = np.asarray(store.meta_columns["subject"])
    motions = np.asarray(store.meta_columns["motion"])
    assert set(split) == {"train", "val", "test"}
    for s1, s2 in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not set(subjects[split == s1]) & set(subjects[split == s2])
        assert not set(motions[split == s1]) & set(motions[split == s2])
    assert store.attrs["subjects"][subjects[split == "test"][0]] == "test"
    assert set(store.meta_columns["camera"]) == {"cam0", "cam1", "cam2", "cam3"}
    assert set(store.meta_columns["source"]) == {"procedural"}
    # 8 consecutive frames: joints move smoothly (50 fps), no jumps between frames.
    j3 = store.read("joints3d", 0)
    assert np.abs(np.diff(j3, axis=0)).max() < 200


def test_subject_partition_keeps_every_split() -> None:
    for n in (3, 5, 12, 40):
        counts = synth.split_counts(n)
        assert sum(counts.values()) == n and min(counts.values()) >= 1
        subjects = synth.make_subjects(0, n)
        assert {s.split for s in subjects} == {"train", "val", "test"}
    with pytest.raises(DynaPoseError):
        synth.make_subjects(0, 2)


@pytest.mark.parametrize("kwargs", [{"size": 16}, {"size": 2000}, {"num_clips": 0},
                                    {"num_clips": -3}, {"workers": 0}])
def test_impossible_sizes_and_counts_are_refused(tmp_path: Path, kwargs: dict) -> None:
    args = {"num_clips": 4, "size": SIZE, **kwargs}
    with pytest.raises(DynaPoseError, match="store"):
        synth.synthesize(tmp_path / "store", progress=False, **args)
    assert not (tmp_path / "store").exists() and not partial_path(tmp_path / "store").exists()


def test_bad_bvh_names_the_file_and_leaves_no_store(tmp_path: Path) -> None:
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0\n")
    with pytest.raises(DynaPoseError, match=r"broken\.bvh") as info:
        synth.synthesize(tmp_path / "store", 4, size=SIZE, motions=[bad], progress=False)
    assert "\n" not in str(info.value)
    with pytest.raises(DynaPoseError, match=r"missing\.bvh"):
        synth.synthesize(tmp_path / "store", 4, size=SIZE, motions=[tmp_path / "missing.bvh"],
                         progress=False)
    assert not (tmp_path / "store").exists() and not partial_path(tmp_path / "store").exists()


def test_failure_midway_leaves_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = synth.render_clip

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("renderer crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(synth, "render_clip", flaky)
    out = tmp_path / "store"
    with pytest.raises(RuntimeError):
        synth.synthesize(out, 12, size=SIZE, workers=1, progress=False)
    assert calls["n"] == 6
    assert not out.exists() and not partial_path(out).exists()
    # An existing store is left untouched by a failed overwrite.
    monkeypatch.setattr(synth, "render_clip", real)
    synth.synthesize(out, 4, size=SIZE, workers=1, progress=False)
    before = _files(out)
    monkeypatch.setattr(synth, "render_clip", flaky)
    calls["n"] = 0
    with pytest.raises(RuntimeError):
        synth.synthesize(out, 12, size=SIZE, workers=1, progress=False, overwrite=True)
    assert _files(out) == before and not partial_path(out).exists()


def test_bvh_motions_split_by_file(tmp_path: Path) -> None:
    mocap = shared_path("data", "mocap")
    files = [mocap / "bandai_namco" / "dataset-1_walk_normal_001.bvh",
             mocap / "bandai_namco" / "dataset-2_wave-left-hand_normal_001.bvh",
             mocap / "xia_style_cmu_skeleton" / "angry_13_000.bvh"]
    path = synth.synthesize(tmp_path / "s", 12, size=SIZE, motions=files, workers=1,
                            progress=False)
    store = ClipStore(path)
    split = np.asarray(store.meta_columns["split"])
    source = np.asarray(store.meta_columns["source"])
    assert set(split) == {"train", "val", "test"}
    assert all(s.startswith("bvh:") for s in source)
    for s in ("val", "test"):  # each file belongs to one split only
        assert not set(source[split == s]) & set(source[split == "train"])
    j2 = store.read("joints2d", 0)
    assert np.all((j2 > 0) & (j2 < SIZE))


def test_single_bvh_is_split_in_time(tmp_path: Path) -> None:
    bvh = shared_path("data", "mocap", "bandai_namco", "dataset-1_walk_normal_001.bvh")
    path = synth.synthesize(tmp_path / "s", 12, size=SIZE, motions=[bvh], workers=1,
                            progress=False)
    store = ClipStore(path)
    n = synth.load_motions([bvh])[0].num_frames
    split = np.asarray(store.meta_columns["split"])
    start = np.asarray(store.meta_columns["start"])
    assert set(split) == {"train", "val", "test"}
    assert np.all(start[split == "train"] + 8 <= int(0.7 * n))
    val = start[split == "val"]
    assert np.all((val >= int(0.7 * n)) & (val + 8 <= int(0.8 * n)))
    assert np.all(start[split == "test"] >= int(0.8 * n))


def test_cli_synth_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "cli-store"
    runner = CliRunner()
    result = runner.invoke(main, ["synth", "--out", str(out), "--clips", "6", "--size",
                                  str(SIZE), "--workers", "2", "--seed", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "wrote 6 clips" in result.output
    store = ClipStore(out)
    assert len(store) == 6 and store.read("frames", 5).shape == (8, SIZE, SIZE, 3)
    # Writing again without --overwrite is refused with a one-line error.
    again = runner.invoke(main, ["synth", "--out", str(out), "--clips", "6", "--quiet"])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(main, ["synth", "--out", str(tmp_path / "x"), "--clips", "2",
                               "--size", "8", "--quiet"])
    assert bad.exit_code == 2 and "image size" in bad.output
    bench = runner.invoke(main, ["bench", "synth", "--size", str(SIZE), "--frames", "32",
                                 "--workers", "1", "--json"])
    assert bench.exit_code == 0, bench.output
    assert json.loads(bench.output)["frames_per_s"] > 0


def test_bench_synth_reports_frames_per_second() -> None:
    result = bench_synth(size=SIZE, frames=32, workers=2)
    assert result["frames"] == 32 and result["workers"] == 2
    assert result["frames_per_s"] > 0 and result["frames_per_s_single"] > 0
    assert result["ms_per_frame_render"] > 0
