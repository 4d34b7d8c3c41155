"""Property-based tests of every reader of user files (Hypothesis).

Each test starts from a valid file, corrupts it at random -- truncation, bit flips, spliced
bytes, values of the wrong type, huge sizes in headers and manifests -- and reads it with the
reader the command line uses. The property: a clean :class:`DynaPoseError` (one line naming
the file) or a correct result; never another exception, never more than a bounded amount of
memory (each read runs under an address-space limit of its process's size + 1 GiB, so an
allocation sized by a file's own numbers fails the test as a MemoryError), and never code from
a crafted pickle. Example counts are modest (``FUZZ``) so the suite stays fast; the counts are
fixed (derandomised) so CI sees the same inputs every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import resource
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import torch
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dynapose.errors import DynaPoseError  # noqa: E402

T = TypeVar("T")

#: Examples per property (about 1,000 inputs in all, a few seconds each).
EXAMPLES = 60
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
#: Memory a read may use beyond what the process already holds.
HEADROOM = 1 << 30
MARKER = "DYNAPOSE_FUZZ_PAYLOAD_RAN"


# ------------------------------------------------------------------------------- the property


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


@contextlib.contextmanager
def bounded_memory(headroom: int = HEADROOM) -> Iterator[None]:
    """Limit this process's address space to its present size + `headroom` (Linux): a reader
    that asks for memory sized by a file's numbers gets MemoryError, which fails the test."""
    if not sys.platform.startswith("linux"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _vm_bytes() + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


#: (test, digest of the input files, "read" or "refused") of every example, for the tally
#: written to $DYNAPOSE_FUZZ_TALLY (a JSON file) when that is set.
OUTCOMES: set[tuple[str, str, str]] = set()


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def read_or_refuse(reader: Callable[[], T], path: Path) -> T | None:
    """The reader's result, or None for a clean refusal: a one-line DynaPoseError naming a file
    under `path`'s folder. Any other exception propagates (and fails the example)."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    digest = _digest(path.parent) if os.environ.get("DYNAPOSE_FUZZ_TALLY") else ""
    try:
        with bounded_memory():
            result = reader()
    except DynaPoseError as exc:
        message = str(exc)
        assert "\n" not in message and message.strip() == message
        assert exc.path is not None and str(path.parent) in exc.path, message
        OUTCOMES.add((test, digest, "refused"))
        return None
    OUTCOMES.add((test, digest, "read"))
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS on Linux")
def test_the_memory_bound_catches_an_allocation_sized_by_a_file() -> None:
    with pytest.raises(MemoryError), bounded_memory():
        np.ones(2 * HEADROOM, dtype=np.uint8)
    assert np.ones(HEADROOM // 4, dtype=np.uint8).sum() == HEADROOM // 4  # limit lifted again


@pytest.fixture(scope="module", autouse=True)
def _one_thread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))  # a payload would leave MARKER here
    yield
    assert not Path(MARKER).exists(), "a crafted pickle ran code"
    tally = os.environ.get("DYNAPOSE_FUZZ_TALLY")
    if tally:
        counts: dict[str, dict[str, int]] = {}
        for test, _, outcome in OUTCOMES:
            counts.setdefault(test, {"read": 0, "refused": 0})[outcome] += 1
        Path(tally).write_text(json.dumps(counts, indent=1) + "\n")
    os.chdir(cwd)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def fresh(work: Path, name: str) -> Path:
    """An empty folder `name` under `work` (emptied for each example)."""
    import shutil

    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


# ------------------------------------------------------------------------------ the corruption


@st.composite
def corrupted(draw: st.DrawFn, data: bytes, head: int = 160) -> bytes:
    """`data` after 1-3 random edits: truncation, a bit flip, spliced random bytes, a zeroed
    run, a duplicated slice; positions favour the first `head` bytes (where headers are)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        if not out:
            break
        n = len(out)
        at = draw(st.one_of(st.integers(0, min(head, n) - 1), st.integers(0, n - 1)))
        op = draw(st.sampled_from(["truncate", "flip", "splice", "zero", "dup"]))
        if op == "truncate":
            del out[at:]
        elif op == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "splice":
            size = draw(st.integers(0, 8))
            out[at:at + size] = draw(st.binary(min_size=1, max_size=12))
        elif op == "zero":
            size = draw(st.integers(1, 32))
            out[at:at + size] = bytes(len(out[at:at + size]))
        else:
            size = draw(st.integers(1, 64))
            out[at:at] = out[at:at + size]
    return bytes(out)


#: Numbers a file may hold where a size or count is expected: edges and huge values.
EDGE_INTS = st.sampled_from([0, -1, 1, 2, 3, 17, 193, 2**31, 2**32 + 1, 2**63, 10**12, 10**18])

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), EDGE_INTS, st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6))
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=8)


@st.composite
def mutated_mapping(draw: st.DrawFn, data: dict[str, Any], keys: list[str]) -> Any:
    """`data` with 1-3 keys (of `keys` or new ones) removed or set to random JSON values; now
    and then the whole value replaced by a random one."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    out = json.loads(json.dumps(data))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.one_of(st.sampled_from(keys), st.text(min_size=1, max_size=5)))
        if draw(st.booleans()) and key in out:
            del out[key]
        else:
            out[key] = draw(JSON_VALUES)
    return out


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


@st.composite
def lying_npy(draw: st.DrawFn, array: np.ndarray) -> bytes:
    """An .npy whose header claims a random (often huge) shape and dtype over `array`'s data."""
    shape = tuple(draw(st.lists(st.one_of(EDGE_INTS.filter(lambda n: n >= 0),
                                          st.integers(0, 40)), max_size=4)))
    dtype = draw(st.sampled_from(["<f8", "<f4", "|u1", "<i8", "|O", "<U5", "|V7"]))
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order":
                                               draw(st.booleans()), "shape": shape})
    return buf.getvalue() + array.tobytes()[: draw(st.integers(0, array.nbytes))]


def npy_inputs(array: np.ndarray) -> st.SearchStrategy[bytes]:
    return st.one_of(corrupted(npy_bytes(array)), lying_npy(array))


# ---------------------------------------------------------------------------------- the readers


@FUZZ
@given(x=npy_inputs(np.zeros((2, 2, 4, 4, 3), np.uint8)),
       y=npy_inputs(np.ones((2, 2, 17, 3), np.float32)))
def test_report_arrays(work: Path, x: bytes, y: bytes) -> None:
    from dynapose.data.arrays import validate_arrays

    folder = fresh(work, "arrays")
    (folder / "X.npy").write_bytes(x)
    (folder / "Y.npy").write_bytes(y)
    result = read_or_refuse(lambda: validate_arrays(folder / "X.npy", folder / "Y.npy"),
                            folder / "X.npy")
    if result is not None:
        xs, ys = result
        assert xs.dtype == np.uint8 and xs.ndim == 5 and len(xs) == len(ys) > 0
        assert np.isfinite(np.asarray(ys)).all()


@pytest.fixture(scope="module")
def clip_store(work: Path) -> Path:
    from dynapose.data.store import ClipStoreWriter

    path = work / "clip-store"
    rng = np.random.default_rng(0)
    with ClipStoreWriter(path, height=4, width=4, chunk_clips=2, joints2d=True) as w:
        for i in range(5):
            w.add(rng.integers(0, 255, (8, 4, 4, 3), dtype=np.uint8),
                  rng.normal(0, 300, (8, 17, 3)), rng.normal(0, 50, (8, 17, 2)),
                  subject=f"S{i % 2}", split=("train", "val")[i % 2])
    return path


STORE_FILES = ["manifest.json", "clips.json", "joints3d-00001.f32", "frames-00002.u8",
               "joints2d-00000.f32"]


@FUZZ
@given(data=st.data())
def test_clip_store(work: Path, clip_store: Path, data: st.DataObject) -> None:
    import shutil

    from dynapose.data.store import MANIFEST_SCHEMA, ClipStore

    folder = fresh(work, "store")
    store = folder / "s"
    shutil.copytree(clip_store, store)
    name = data.draw(st.sampled_from(STORE_FILES))
    target = store / name
    if name == "manifest.json" and data.draw(st.booleans()):
        value = data.draw(mutated_mapping(json.loads(target.read_text()), list(MANIFEST_SCHEMA)))
        target.write_text(json.dumps(value))
    elif name == "clips.json" and data.draw(st.booleans()):
        value = data.draw(mutated_mapping(json.loads(target.read_text()),
                                          ["split", "subject", "start"]))
        target.write_text(json.dumps(value))
    else:
        target.write_bytes(data.draw(corrupted(target.read_bytes())))

    def read() -> int:
        s = ClipStore(store)
        s.check_finite()
        for i in range(len(s)):
            clip = s.clip(i)
            assert clip["frames"].shape == (s.clip_len, s.height, s.width, 3)
        return len(s)

    assert read_or_refuse(read, target) in (None, 5)


@pytest.fixture(scope="module")
def pose_store(work: Path) -> Path:
    from dynapose.camera import Camera
    from dynapose.data.pose_store import PoseStoreWriter

    cam = Camera(R=np.eye(3), T=np.zeros(3), f=np.array([1000.0, 1000.0]),
                 c=np.array([500.0, 500.0]), k=np.zeros(3), p=np.zeros(2), width=1000,
                 height=1000, name="c0")
    path = work / "pose-store"
    with PoseStoreWriter(path) as w:
        for i in range(2):
            w.add(np.full((6, 17, 3), 3000.0 + i), np.full((6, 17, 2), 500.0), camera=cam,
                  subject=f"S{i}", action="Walking", fps=50)
    return path


@FUZZ
@given(data=st.data())
def test_pose_store(work: Path, pose_store: Path, data: st.DataObject) -> None:
    import shutil

    from dynapose.data.pose_store import SEQUENCE_SCHEMA, PoseStore

    folder = fresh(work, "poses")
    store = folder / "p"
    shutil.copytree(pose_store, store)
    name = data.draw(st.sampled_from(["manifest.json", "00000.joints3d.npy",
                                      "00001.joints2d.npy"]))
    target = store / name
    if name == "manifest.json" and data.draw(st.booleans()):
        manifest = json.loads(target.read_text())
        manifest["sequences"][0] = data.draw(mutated_mapping(manifest["sequences"][0],
                                                             list(SEQUENCE_SCHEMA)))
        target.write_text(json.dumps(manifest))
    elif name.endswith(".npy") and data.draw(st.booleans()):
        target.write_bytes(data.draw(lying_npy(np.zeros((6, 17, 3), np.float32))))
    else:
        target.write_bytes(data.draw(corrupted(target.read_bytes())))

    def read() -> int:
        s = PoseStore(store)
        for i in range(len(s)):
            assert np.isfinite(s.joints3d(i)).all() and np.isfinite(s.joints2d(i)).all()
            s.camera(i)
        return len(s)

    assert read_or_refuse(read, target) in (None, 2)


@pytest.fixture(scope="module")
def checkpoints(work: Path) -> dict[str, Path]:
    from dynapose.io.checkpoint import save_checkpoint
    from dynapose.models import build_model

    torch.manual_seed(0)
    return {"lifter": save_checkpoint(work / "ck-lifter", build_model(
                "lifter", filter_widths=[3, 1], channels=8)),
            "seed": save_checkpoint(work / "ck-seed", build_model("seed", input_size=193))}


MODEL_KEYS = {"lifter": ["filter_widths", "channels", "dropout", "causal", "confidence",
                         "bn_momentum", "num_joints", "frame_stride"],
              "seed": ["clip_len", "input_size", "fast", "init"]}


@FUZZ
@given(data=st.data())
def test_checkpoint(work: Path, checkpoints: dict[str, Path], data: st.DataObject) -> None:
    import shutil

    from dynapose.io.checkpoint import load_checkpoint

    kind = data.draw(st.sampled_from(["lifter", "seed"]))
    folder = fresh(work, "ckpt")
    ckpt = folder / "c"
    shutil.copytree(checkpoints[kind], ckpt)
    what = data.draw(st.sampled_from(["model config", "config", "weights"]))
    if what == "weights":
        target = ckpt / "model.safetensors"
        target.write_bytes(data.draw(corrupted(target.read_bytes(), head=400)))
    else:
        target = ckpt / "config.json"
        config = json.loads(target.read_text())
        if what == "model config":
            config["model"]["config"] = data.draw(mutated_mapping(config["model"]["config"],
                                                                  MODEL_KEYS[kind]))
        else:
            config = data.draw(mutated_mapping(config, ["format", "model", "info", "version"]))
        target.write_text(json.dumps(config))
    result = read_or_refuse(lambda: load_checkpoint(ckpt), target)
    if result is not None:
        model, _ = result
        for tensor in model.state_dict().values():
            assert not tensor.is_floating_point() or torch.isfinite(tensor).all()


def _yaml_settings(cls: type) -> st.SearchStrategy[str]:
    import dataclasses

    names = [f.name for f in dataclasses.fields(cls)]
    values = st.one_of(JSON_VALUES, st.sampled_from([".inf", "-.inf", ".nan", "yes", "1e400",
                                                     "0x10", "five", "[", "{a: 1}", "S1"]))
    mapping = st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=5)), values,
                              max_size=4)

    def dump(m: dict[str, Any]) -> str:
        return "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}"
                         for k, v in m.items()) + "\n"

    return st.one_of(mapping.map(dump), st.text(max_size=40),
                     mapping.map(lambda m: yaml.safe_dump(m, allow_unicode=True)))


@FUZZ
@given(text=_yaml_settings(__import__("dynapose.config", fromlist=["TrainConfig"]).TrainConfig))
def test_training_settings_yaml(work: Path, text: str) -> None:
    from dynapose.config import TrainConfig, load_config
    from dynapose.schema import field_types, matches

    path = fresh(work, "yaml") / "train.yaml"
    path.write_text(text, encoding="utf-8")
    config = read_or_refuse(lambda: load_config("seed", path), path)
    if config is not None:
        assert all(matches(getattr(config, k), t) for k, t in field_types(TrainConfig).items())
        assert math.isfinite(config.lr) and config.epochs >= 1


@FUZZ
@given(text=_yaml_settings(__import__("dynapose.config", fromlist=["LiftConfig"]).LiftConfig))
def test_lifter_settings_yaml(work: Path, text: str) -> None:
    from dynapose.config import LiftConfig, load_lift_config
    from dynapose.schema import field_types, matches

    path = fresh(work, "yaml") / "lift.yaml"
    path.write_text(text, encoding="utf-8")
    config = read_or_refuse(lambda: load_lift_config("lift-quick", path), path)
    if config is not None:
        assert all(matches(getattr(config, k), t) for k, t in field_types(LiftConfig).items())


KEYPOINTS = np.random.default_rng(1).uniform(0, 500, (12, 17, 3))


@FUZZ
@given(data=st.data())
def test_keypoint_arrays(work: Path, data: st.DataObject) -> None:
    from dynapose.data.keypoints import read_keypoints_file

    folder = fresh(work, "kp")
    suffix = data.draw(st.sampled_from([".npy", ".npz"]))
    payload = data.draw(npy_inputs(KEYPOINTS))
    path = folder / f"k{suffix}"
    if suffix == ".npy":
        path.write_bytes(payload)
    else:
        buf = io.BytesIO()
        method = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
        with zipfile.ZipFile(buf, "w", method) as z:
            z.writestr(data.draw(st.sampled_from(["keypoints.npy", "keypoints"])), payload)
        path.write_bytes(data.draw(st.one_of(st.just(buf.getvalue()),
                                             corrupted(buf.getvalue(), head=80))))
    kp = read_or_refuse(lambda: read_keypoints_file(path), path)
    if kp is not None:
        assert kp.pixels.shape == (len(kp), 17, 2) and np.isfinite(kp.confidence).all()


COCO_FIELDS = ["image_id", "category_id", "keypoints", "score"]


@st.composite
def coco_json(draw: st.DrawFn) -> Any:
    good = {"image_id": 0, "category_id": 1, "keypoints": [100.0, 100.0, 1.0] * 17, "score": 1}
    annotations = []
    for _ in range(draw(st.integers(0, 4))):
        entry = dict(good, image_id=draw(st.one_of(st.integers(0, 20), EDGE_INTS,
                                                   st.text(max_size=3))))
        if draw(st.booleans()):
            entry = draw(mutated_mapping(entry, COCO_FIELDS))
        annotations.append(entry)
    if draw(st.booleans()):
        return annotations
    images = draw(st.one_of(st.none(), st.lists(st.dictionaries(
        st.sampled_from(["id", "file_name"]), st.one_of(st.integers(0, 20), JSON_VALUES)),
        max_size=4)))
    return {"annotations": annotations, **({} if images is None else {"images": images})}


@FUZZ
@given(value=coco_json(), raw=st.booleans(), data=st.data())
def test_coco_json(work: Path, value: Any, raw: bool, data: st.DataObject) -> None:
    from dynapose.data.keypoints import read_keypoints_file

    path = fresh(work, "coco") / "k.json"
    text = json.dumps(value).encode()
    path.write_bytes(data.draw(corrupted(text)) if raw else text)
    kp = read_or_refuse(lambda: read_keypoints_file(path), path)
    if kp is not None:
        assert kp.pixels.shape == (len(kp), 17, 2) and len(kp) <= 1_000_000


def _vp3d_npz(positions: Any, metadata: Any) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, positions_2d=np.array(positions, dtype=object),
             metadata=np.array(metadata, dtype=object))
    return buf.getvalue()


ARRAYS = st.one_of(
    st.just(np.ones((5, 17, 2))), st.just(np.ones((5, 17, 2), np.float32)),
    st.just(np.full((5, 17, 2), "x")), st.just(np.ones((5, 3, 2))), st.just(np.ones((0, 17, 2))),
    st.just(np.full((5, 17, 2), np.inf)), st.just(np.ones((5, 17))), st.just(np.ones(3)),
    st.just(np.array([None, 1], dtype=object)))


@st.composite
def videopose3d(draw: st.DrawFn) -> bytes:
    leaf = st.lists(ARRAYS, min_size=0, max_size=4) | ARRAYS | JSON_SCALARS
    positions = draw(st.dictionaries(st.sampled_from(["S1", "S9", "vid", ""]),
                                     st.dictionaries(st.sampled_from(["Walking", "custom"]),
                                                     leaf, max_size=2), max_size=2)
                     | JSON_VALUES)
    metadata = draw(st.one_of(st.just({"layout_name": "h36m"}), st.just({"layout_name": "coco"}),
                              JSON_VALUES))
    data = _vp3d_npz(positions, metadata)
    return draw(st.one_of(st.just(data), corrupted(data, head=400)))


@FUZZ
@given(npz=videopose3d())
def test_videopose3d_2d(work: Path, npz: bytes) -> None:
    from dynapose.data.keypoints import read_keypoints_file

    path = fresh(work, "vp3d") / "k.npz"
    path.write_bytes(npz)
    kp = read_or_refuse(lambda: read_keypoints_file(path), path)
    if kp is not None:
        assert kp.pixels.shape == (len(kp), 17, 2)


@FUZZ
@given(data=st.data())
def test_videopose3d_3d(work: Path, data: st.DataObject) -> None:
    from dynapose.data.h36m import load_npz_3d

    leaf = st.one_of(st.just(np.ones((4, 32, 3), np.float32)), st.just(np.ones((4, 32, 2))),
                     st.just(np.full((4, 32, 3), np.nan)), st.just(np.full((4, 32, 3), "a")),
                     JSON_SCALARS)
    positions = data.draw(st.dictionaries(st.sampled_from(["S1", "S8"]), st.dictionaries(
        st.sampled_from(["Walking", "Eating"]), leaf, max_size=2), max_size=2) | JSON_VALUES)
    buf = io.BytesIO()
    np.savez(buf, positions_3d=np.array(positions, dtype=object))
    path = fresh(work, "vp3d3") / "d.npz"
    path.write_bytes(data.draw(st.one_of(st.just(buf.getvalue()),
                                         corrupted(buf.getvalue(), head=300))))
    result = read_or_refuse(lambda: load_npz_3d(path), path)
    if result is not None:
        for actions in result.values():
            for pos in actions.values():
                assert pos.ndim == 3 and pos.shape[2] == 3 and np.isfinite(pos).all()


def _bvh_text() -> str:
    from test_bvh import cmu_text, walking_frames

    return cmu_text(walking_frames(20), frame_time=1 / 50)


@st.composite
def bvh_text(draw: st.DrawFn) -> bytes:
    """The rig's BVH with random token edits (numbers, counts, Frame Time, keywords) or byte
    corruption."""
    text = _bvh_text()
    if draw(st.booleans()):
        return draw(corrupted(text.encode(), head=len(text)))
    tokens = text.split(" ")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(tokens) - 1))
        tokens[i] = draw(st.one_of(
            st.sampled_from(["1e6", "1e308", "-1e308", "nan", "inf", "0", "-0.0001",
                             "99999999999", "{", "}", "JOINT", "End", "MOTION\n"]),
            st.floats(allow_nan=False).map(repr), st.text(max_size=4)))
    return " ".join(tokens).encode("utf-8", "replace")


@FUZZ
@given(text=bvh_text())
def test_bvh(work: Path, text: bytes) -> None:
    from dynapose.data.synthetic.synth import load_motions

    path = fresh(work, "bvh") / "walk_01.bvh"
    path.write_bytes(text)
    motions = read_or_refuse(lambda: load_motions([path]), path)
    if motions is not None:
        assert motions[0].fps == 50.0 and np.isfinite(motions[0].joints).all()
