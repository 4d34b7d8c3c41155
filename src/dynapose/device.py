"""Where tensors live: the one place that chooses a device, its precision and its settings.

Every stage that runs a model (training, evaluation, inference, benchmarks) takes a device
*spec* — ``"auto"`` (a GPU when torch sees one, else the CPU), ``"cpu"``, ``"cuda"`` or
``"cuda:N"`` — and turns it into a :class:`torch.device` here, so that an impossible choice
fails the same way everywhere: one line saying what to do instead.

On CUDA, training runs deterministically (:func:`make_deterministic`): a run resumed after an
interruption replays the same kernels and ends with bit-identical weights, as on the CPU. Mixed
precision is bfloat16 autocast (:func:`autocast`) on either device; weights and optimiser
updates stay float32. Checkpoints are always written from CPU tensors, so they load anywhere.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import torch

from dynapose.errors import DynaPoseError

#: The device specs every ``--device`` option and ``device:`` setting accepts.
DEVICE_SPECS = "auto, cpu, cuda or cuda:N"
#: Training precisions: float32 throughout, the forward/backward under bfloat16 autocast, or
#: auto: bfloat16 where the device computes it natively, else float32 (:func:`resolve_precision`).
PRECISIONS = ("auto", "fp32", "bf16")

_SPEC = re.compile(r"^(auto|cpu|cuda)(:(\d+))?$")


def check_device_spec(spec: str) -> str | None:
    """The problem with the *form* of a device spec (None when it is well formed); whether the
    device exists is :func:`resolve_device`'s question, asked where the run happens."""
    m = _SPEC.match(str(spec).strip().lower())
    if m is None or (m.group(2) and m.group(1) != "cuda"):
        return f"unknown device {spec!r} (use {DEVICE_SPECS})"
    return None


def cuda_count() -> int:
    """GPUs torch can use here (0 on a CPU-only build or a machine without one)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """A device spec (:data:`DEVICE_SPECS`; None means "auto") -> the :class:`torch.device`.

    ``auto`` is ``cuda:0`` when torch sees a GPU, else ``cpu``; ``cuda`` is the current CUDA
    device (``cuda:0`` unless a process chose another). A spec this machine cannot honour
    raises DynaPoseError saying what to use instead.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    text = "auto" if spec is None else str(spec).strip().lower()
    problem = check_device_spec(text)
    if problem:
        raise DynaPoseError(problem)
    kind, _, index = text.partition(":")
    count = cuda_count()
    if kind == "cpu":
        return torch.device("cpu")
    if kind == "auto":
        return torch.device("cuda", torch.cuda.current_device()) if count else torch.device("cpu")
    if count == 0:
        why = ("this torch is built without CUDA" if torch.version.cuda is None
               else "torch finds no GPU on this machine")
        raise DynaPoseError(f"--device {text}: CUDA is not available ({why}, torch "
                            f"{torch.__version__}); use --device cpu (or auto)")
    n = int(index) if index else torch.cuda.current_device()
    if n >= count:
        have = "cuda:0" if count == 1 else f"cuda:0 .. cuda:{count - 1}"
        raise DynaPoseError(f"--device {text}: no such GPU, this machine has {count} "
                            f"({have}); use one of those, or --device cpu")
    return torch.device("cuda", n)


def rank_device(spec: str, local_rank: int, world: int) -> torch.device:
    """The device of one of `world` data-parallel processes (``LOCAL_RANK`` `local_rank`):
    on CUDA each process takes its own GPU, ``cuda:LOCAL_RANK`` (torchrun's convention)."""
    if world <= 1:
        return resolve_device(spec)
    text = str(spec).strip().lower()
    device = resolve_device("cuda" if text.startswith("cuda") else text)
    if device.type != "cuda":
        return device
    if text.startswith("cuda:"):
        raise DynaPoseError(f"--device {text} with {world} processes: each process takes the "
                            "GPU of its LOCAL_RANK; use --device cuda (or auto)")
    count = cuda_count()
    if local_rank >= count:
        raise DynaPoseError(f"process LOCAL_RANK {local_rank} has no GPU: this machine has "
                            f"{count}; use --nproc {count} (or fewer), or --device cpu")
    return torch.device("cuda", local_rank)


def is_cuda(device: torch.device | str) -> bool:
    return torch.device(device).type == "cuda"


def process_group_backend(device: torch.device) -> str:
    """torch.distributed's backend for processes that train on `device`: NCCL between GPUs,
    gloo between CPU processes."""
    return "nccl" if is_cuda(device) else "gloo"


def native_bf16(device: torch.device | str) -> bool:
    """Whether `device` does bfloat16 matrix products in hardware: a GPU that supports them,
    or a CPU with AVX512-BF16 or AMX. Elsewhere (AVX2-only CPUs) oneDNN emulates them and a
    bfloat16 training step is about 20x slower than float32 (docs/results.md)."""
    if is_cuda(device):
        return bool(torch.cuda.is_bf16_supported())
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """The precision a run uses on `device`: ``"auto"`` is bf16 where the hardware computes it
    (:func:`native_bf16`) and fp32 elsewhere; fp32 and bf16 are kept as asked."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot run (one line saying what to use instead)."""
    if precision not in PRECISIONS:
        raise DynaPoseError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if precision == "bf16" and is_cuda(device) and not torch.cuda.is_bf16_supported():
        raise DynaPoseError(f"{device} ({torch.cuda.get_device_name(device)}) has no bfloat16 "
                            "support: use precision fp32")


def autocast(device: torch.device, precision: str = "fp32") -> AbstractContextManager[Any]:
    """The forward pass's precision: bfloat16 autocast for ``"bf16"`` (matrix products and
    convolutions in bfloat16, reductions and the weights in float32), nothing for ``"fp32"``;
    ``"auto"`` as :func:`resolve_precision` decides."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                          enabled=resolve_precision(precision, device) == "bf16")


def make_deterministic(device: torch.device) -> None:
    """Make CUDA kernels repeat bit for bit (the same inputs, the same rounding), so that a
    resumed training run ends with the weights of one that never stopped.

    cuDNN is kept to deterministic algorithms without auto-tuning (its timing-based choice may
    differ between two processes), and cuBLAS to a fixed workspace. A no-op on the CPU.
    """
    if not is_cuda(device):
        return
    # read by cuBLAS when its handle is made; a process that already made one keeps its own
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)
    # ... without also filling every new tensor with NaN (a check for reading uninitialised
    # memory, not a condition of determinism; it would cost a pass over every loader batch)
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]


def loader_settings(device: torch.device, workers: int, world: int = 1) -> tuple[int, bool]:
    """(loader worker processes, pin memory) for batches bound for `device`.

    ``workers`` < 0 sizes the pool to the machine: on CUDA the GPU waits on the disk, so up to
    4 workers per training process, within the cores; on the CPU one worker (the cores are
    busy with the model). Pinned host memory lets copies to the GPU run asynchronously.
    """
    cuda = is_cuda(device)
    if workers < 0:
        cores = os.cpu_count() or 1
        workers = max(1, min(4, cores // max(world, 1) - 1)) if cuda else 1
    return workers, cuda


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`tensor` on `device`; from pinned memory the copy overlaps with GPU work."""
    return tensor.to(device, non_blocking=tensor.is_pinned())


@contextmanager
def out_of_memory(device: torch.device, what: str, batch_size: int | None = None,
                  hint: str = "--batch-size") -> Iterator[None]:
    """Turn running out of GPU memory into one DynaPoseError line naming `what` ran out, at
    which batch size, and what to try instead."""
    try:
        yield
    except torch.cuda.OutOfMemoryError as exc:
        # the traceback's frames hold the failed step's tensors: free them with the cache
        traceback.clear_frames(exc.__traceback__)
        if is_cuda(device):
            torch.cuda.empty_cache()
        at = f" at batch size {batch_size}" if batch_size is not None else ""
        free = ""
        if is_cuda(device):
            try:
                got, total = torch.cuda.mem_get_info(device)
                free = f"; {got / 2**30:.1f} of {total / 2**30:.1f} GiB free now"
            except RuntimeError:  # the device may be too broken to ask
                pass
        raise DynaPoseError(f"{what} ran out of memory on {device}{at}{free}: use a smaller "
                            f"{hint}, or another --device") from exc


def synchronize(device: torch.device) -> None:
    """Wait for `device`'s queued work (for timing: CUDA runs asynchronously)."""
    if is_cuda(device):
        torch.cuda.synchronize(device)


def describe(device: torch.device) -> dict[str, Any]:
    """The device as benchmarks record it: name, memory, compute capability, versions."""
    info: dict[str, Any] = {"device": str(device), "torch": torch.__version__}
    if is_cuda(device):
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    capability=f"{props.major}.{props.minor}",
                    multiprocessors=props.multi_processor_count, cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
    else:
        info.update(name="cpu", threads=torch.get_num_threads(), cores=os.cpu_count())
    return info
