#!/usr/bin/env bash
# DynaPose on a CUDA GPU: the GPU tests, then the figures, in one short run (issue 20).
#
#   bash scripts/gpu_check.sh          # from the repository root, on the GPU machine
#
# Runs with the machine's own python3 and its packages (torch with CUDA, numpy, safetensors,
# pyyaml, click, tqdm, matplotlib, pillow, h5py, pytest): nothing is installed from a registry.
# PyAV (the prediction benchmark's video) is installed from .whl/ when the machine lacks it and
# the wheels were carried (scripts/gpu_wheels.sh fetches them here). Every step has its own
# timeout and the whole run a budget (GPU_CHECK_BUDGET, seconds): steps that would start after
# it are skipped, in the order below, most important first.
#
# Writes to $OUT (default ./gpu-check-out), 6 files:
#   summary.json   every figure (raw benchmark JSON included), labelled; what was skipped, why
#   summary.txt    the table printed last
#   log.txt        every step's output
#   pytest.txt     tests/test_gpu.py (+ the fast tests of tests/test_device.py)
#   env.txt        nvidia-smi, python, torch, CUDA
#   lift_h36m_metrics.csv   the timed lift-h36m preset epoch's metrics.csv
#
# A dry run of the script itself on a machine without a GPU:
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_QUICK=1 PYTHON=.venv/bin/python bash scripts/gpu_check.sh
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/dynapose-gpu-check.XXXXXX)
PY=${PYTHON:-python3}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
QUICK=${GPU_CHECK_QUICK:-0}
BUDGET=${GPU_CHECK_BUDGET:-390}
H36M=${GPU_CHECK_H36M:-}
for candidate in shared/data/h36m/data_3d_h36m.npz ../shared/data/h36m/data_3d_h36m.npz; do
  [ -z "$H36M" ] && [ -f "$candidate" ] && H36M=$candidate
done
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export CUBLAS_WORKSPACE_CONFIG=:4096:8 MPLBACKEND=Agg
LOG=$OUT/log.txt
: >"$LOG"
START=$SECONDS
STEPS="$WORK/steps.tsv"
: >"$STEPS"

note() { echo "== $*" | tee -a "$LOG"; }

# step NAME MAX_SECONDS OUTFILE COMMAND...: run COMMAND (stdout to OUTFILE, both to the log) under
# min(MAX_SECONDS, what is left of the budget); recorded as ok / failed (rc) / skipped.
step() {
  local name=$1 max=$2 outfile=$3
  shift 3
  local left=$((BUDGET - (SECONDS - START)))
  if [ "$left" -lt 20 ]; then
    note "$name: skipped (budget of ${BUDGET}s spent)"
    printf '%s\tskipped\t0\tbudget spent\n' "$name" >>"$STEPS"
    return
  fi
  local limit=$((max < left ? max : left)) t0=$SECONDS rc
  note "$name (limit ${limit}s): $*"
  timeout --kill-after=10 "$limit" "$@" >"$outfile" 2>"$WORK/$name.err"
  rc=$?
  cat "$outfile" "$WORK/$name.err" >>"$LOG"
  local status=ok
  [ "$rc" -ne 0 ] && status=failed
  [ "$rc" -eq 124 ] && status=timeout
  note "$name: $status (rc $rc) in $((SECONDS - t0))s"
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - t0))" "$rc" >>"$STEPS"
}

{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,utilization.gpu --format=csv 2>&1 || echo "nvidia-smi: not here"
  "$PY" -c "import sys, torch; print('python', sys.version.split()[0]); print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), 'devices', torch.cuda.device_count()); print('cudnn', torch.backends.cudnn.version())"
  echo "cpus: $(nproc)"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt" >>"$LOG"

if ! "$PY" -c "import av" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    note "installing carried wheels: $(ls .whl)"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .whl/*.whl >>"$LOG" 2>&1 \
      && export PYTHONPATH="$PYTHONPATH:$WORK/site"
  fi
  "$PY" -c "import av" 2>/dev/null || note "no PyAV: the prediction benchmark and the video test will be skipped"
fi

DP=("$PY" -m dynapose)
if [ "$QUICK" = 1 ]; then  # the dry run's sizes
  TRAIN_ARGS=(--batch 4 --size 193 --steps 2 --warmup 1)
  LIFT_ARGS=(--receptive-field 27 --channels 64 --batch 64 --frames 300 --seconds 0.3)
  PRED_ARGS=(--frames 24 --seconds 0.3 --batch 4)
  EPOCH_SAMPLES=2048 MOTION=synthetic:8:300
else
  TRAIN_ARGS=(--batch 80 --size 224 --steps 20 --warmup 3)
  LIFT_ARGS=(--receptive-field 81 --channels 512 --batch 512 --frames 2000 --seconds 4)
  PRED_ARGS=(--frames 300 --seconds 3 --batch 16)
  EPOCH_SAMPLES=1000000 MOTION=synthetic:48:600
fi
SYNTH_SPLIT=(--train-subjects synth-0,synth-1,synth-2,synth-3,synth-4,synth-5,synth-6 --val-subjects synth-7)

# 1. the tests (a GPU test that fails is the first thing to know)
step pytest 240 "$OUT/pytest.txt" "$PY" -m pytest -q -rs -p no:cacheprovider tests/test_gpu.py tests/test_device.py -m "not slow"
# 2. lifter training at the Human3.6M preset's size (512 channels, receptive field 81, stride 3, bf16)
step bench_lift 90 "$WORK/bench_lift.json" "${DP[@]}" bench lift "${LIFT_ARGS[@]}" --precision bf16 --device "$DEVICE" --json
# 3. the lift-h36m preset's training loop for one epoch: on Human3.6M when it is here, else on
#    synthetic motion (the same network, batches and augmentation; the preset's time extrapolated)
if [ -n "$H36M" ]; then
  LIFT_DATA=$H36M LIFT_SPLIT=()
else
  LIFT_DATA=$MOTION LIFT_SPLIT=("${SYNTH_SPLIT[@]}")
fi
step train_lift_epoch 180 "$WORK/train_lift.txt" "${DP[@]}" train-lift --data "$LIFT_DATA" \
  --out "$WORK/lift-h36m" --preset lift-h36m ${LIFT_SPLIT[@]+"${LIFT_SPLIT[@]}"} --epochs 1 \
  --samples-per-epoch "$EPOCH_SAMPLES" --device "$DEVICE" --no-evaluate --quiet
cp "$WORK/lift-h36m/metrics.csv" "$OUT/lift_h36m_metrics.csv" 2>/dev/null
# 4. the seed model's training step, float32 and bfloat16
step bench_train_fp32 90 "$WORK/bench_train_fp32.json" "${DP[@]}" bench train "${TRAIN_ARGS[@]}" --device "$DEVICE" --json
step bench_train_bf16 90 "$WORK/bench_train_bf16.json" "${DP[@]}" bench train "${TRAIN_ARGS[@]}" --precision bf16 --device "$DEVICE" --json
# 5. prediction frames/s (model alone, and decode + crop + model + joints files)
if "$PY" -c "import av" 2>/dev/null; then
  step bench_predict 120 "$WORK/bench_predict.json" "${DP[@]}" bench predict "${PRED_ARGS[@]}" --backend torch --no-visuals --device "$DEVICE" --json
else
  printf 'bench_predict\tskipped\t0\tno PyAV\n' >>"$STEPS"
fi
# 6. what deterministic kernels cost, and whether torch.compile helps (compilation not timed)
step bench_lift_nondet 60 "$WORK/bench_lift_nondet.json" "${DP[@]}" bench lift "${LIFT_ARGS[@]}" --precision bf16 --no-deterministic --device "$DEVICE" --json
step bench_lift_compile 180 "$WORK/bench_lift_compile.json" "${DP[@]}" bench lift "${LIFT_ARGS[@]}" --precision bf16 --compile --device "$DEVICE" --json
step bench_train_compile 180 "$WORK/bench_train_compile.json" "${DP[@]}" bench train "${TRAIN_ARGS[@]}" --precision bf16 --compile --device "$DEVICE" --json

# the summary: every figure with its label, then a short table (the tool shows the end)
H36M_USED=${H36M:+yes} "$PY" - "$WORK" "$OUT" "$DEVICE" "$((SECONDS - START))" <<'EOF'
import csv, json, os, sys
from pathlib import Path

work, out, device, total = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
steps = {}
for line in (work / "steps.tsv").read_text().splitlines():
    name, status, seconds, why = line.split("\t")
    steps[name] = {"status": status, "seconds": int(seconds), "rc_or_reason": why}

def load(name):
    path = work / f"{name}.json"
    try:
        return json.loads(path.read_text()) if steps.get(name, {}).get("status") == "ok" else None
    except (OSError, ValueError):
        return None

summary = {"device": device, "total_s": total, "steps": steps,
           "raw": {n: load(n) for n in ("bench_lift", "bench_lift_nondet", "bench_lift_compile",
                                        "bench_train_fp32", "bench_train_bf16",
                                        "bench_train_compile", "bench_predict")}}
raw = summary["raw"]
rows = []
def row(label, value, unit, how=""):
    rows.append((label, value, unit, how))

for name, how in (("bench_train_fp32", "fp32"), ("bench_train_bf16", "bf16"),
                  ("bench_train_compile", "bf16 + torch.compile")):
    r = raw[name]
    if r:
        row(f"seed training, batch {r['batch']} @ {r['size']}px", r["clips_per_s"], "clips/s",
            f"{how}; step {r['step_ms']} ms; GPU peak {r.get('gpu_peak_mb', '-')} MB")
for name, how in (("bench_lift", "bf16, deterministic (as train-lift)"),
                  ("bench_lift_nondet", "bf16, non-deterministic kernels"),
                  ("bench_lift_compile", "bf16, deterministic, torch.compile")):
    r = raw[name]
    if r:
        extra = f"; {r['compiled_graphs']} compiled graph(s)" if "compiled_graphs" in r else ""
        row(f"lifter training step (R{r['receptive_field']}/{r['channels']}ch, batch {r['batch']})",
            r["train"]["samples_per_s"], "samples/s", how + extra)
if raw["bench_lift"]:
    r = raw["bench_lift"]
    row("lifter inference, 4 x 2000-frame sequences", r["infer_batched"]["frames_per_s"],
        "frames/s", "dilated, batched")
    row("lifter inference, causal, 1 frame at a time", r["infer_causal_stream"]["frames_per_s"],
        "frames/s", "batch 1")
if raw["bench_predict"]:
    r = raw["bench_predict"]
    row("seed model alone (torch)", round(r["model_torch"]["frames_per_s"], 1), "frames/s",
        f"batch {r['batch_windows']} windows x 8 frames")
    if "model_torch_shared_features" in r:
        row("seed model as predict runs it", round(r["model_torch_shared_features"]["frames_per_s"], 1),
            "frames/s", "each frame's CNN once, stride 4")
    row("predict end to end (no visuals)", round(r["end_to_end"]["frames_per_s"], 1), "frames/s",
        r["end_to_end"]["video"] + "; decode + crop on the CPU")

# the lift-h36m preset: one epoch timed, the whole preset extrapolated
text = (work / "train_lift.txt").read_text() if (work / "train_lift.txt").exists() else ""
metrics = out / "lift_h36m_metrics.csv"
if steps.get("train_lift_epoch", {}).get("status") == "ok" and metrics.exists():
    sys.path.insert(0, str(Path.cwd() / "src"))
    from dynapose.config import load_lift_config
    preset = load_lift_config("lift-h36m")
    epoch = list(csv.DictReader(metrics.open()))[-1]
    per_s = float(text.split("training samples/s")[0].rsplit("metrics.csv;", 1)[-1])
    wall = steps["train_lift_epoch"]["seconds"]
    windows = preset.epochs * preset.samples_per_epoch
    on = "Human3.6M" if os.environ.get("H36M_USED") else "synthetic motion (Human3.6M absent)"
    summary["lift_h36m"] = {
        "data": on, "epoch_samples": int(epoch["samples"]), "epoch_seconds": float(epoch["seconds"]),
        "train_samples_per_s": per_s, "command_wall_s": wall, "epoch_val_p1_mm": epoch.get("val_mpjpe_p1"),
        "preset_windows": windows,
        "preset_train_minutes_extrapolated": round(windows / per_s / 60, 2),
        "how": f"EXTRAPOLATED: the preset's {preset.epochs} x {preset.samples_per_epoch} windows at "
               "this epoch's training samples/s (loop with snapshots; per-epoch validation, "
               "start-up and the final evaluation not included)",
    }
    row("lift-h36m training loop, one epoch", round(per_s), "samples/s", f"on {on}")
    row("lift-h36m preset, whole training", summary["lift_h36m"]["preset_train_minutes_extrapolated"],
        "min", f"EXTRAPOLATED from one epoch ({windows / 1e6:.0f} M windows)")

lines = [f"DynaPose GPU check on {device}: {total} s"]
for name, s in steps.items():
    lines.append(f"  {name:22} {s['status']:8} {s['seconds']:4d} s  {'' if s['status'] == 'ok' else s['rc_or_reason']}")
width = max((len(r[0]) for r in rows), default=10)
lines.append("")
for label, value, unit, how in rows:
    lines.append(f"{label:<{width}}  {value:>10} {unit:<9} {how}")
table = "\n".join(lines)
summary["table"] = table
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
(out / "summary.txt").write_text(table + "\n")
print(table)
EOF
tail -n 5 "$OUT/pytest.txt" 2>/dev/null
rm -rf "$WORK"
