#!/usr/bin/env bash
# Train the shipped lifter (the lift-cmu preset: CMU motion capture + procedural motion) on a
# CUDA GPU within a time budget, and bring back its checkpoint.
#
#   CMU_DATA=runs/cmu-data bash scripts/gpu_train_lifter.sh   # on the GPU machine, repo root
#
# CMU_DATA holds the three npz files of ../shared/data/mocap/cmu (copied into an ignored folder
# to travel; never committed). The number of 1 M-window epochs is what the budget
# (TRAIN_BUDGET, seconds) allows at the measured training speed, so the cosine schedule runs to
# its end; the command actually run is printed and saved. Writes to $OUT: model.safetensors,
# config.json, metrics.csv, bench.json, train.log, command.txt, env.txt.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-train-out}
mkdir -p "$OUT"
DATA=${CMU_DATA:-runs/cmu-data}
BUDGET=${TRAIN_BUDGET:-300}
PY=${PYTHON:-python3}
RUN=$(mktemp -d /tmp/dynapose-lift-cmu.XXXXXX)/run
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1 CUBLAS_WORKSPACE_CONFIG=:4096:8 MPLBACKEND=Agg
{ nvidia-smi; "$PY" -c "import torch; print(torch.__version__, torch.version.cuda)"; } >"$OUT/env.txt" 2>&1
timeout 120 "$PY" -m dynapose bench lift --receptive-field 81 --channels 256 --batch 512 \
  --frames 400 --seconds 4 --device "${DEVICE:-cuda}" --json >"$OUT/bench.json" 2>>"$OUT/train.log"
EPOCHS=$("$PY" -c "
import json, sys
per_s = json.load(open('$OUT/bench.json'))['train']['samples_per_s']
print(max(2, min(30, int($BUDGET * per_s * 0.8 / 1e6))))")
CMD=("$PY" -m dynapose train-lift --preset lift-cmu --data "cmu:$DATA+synthetic:100:600"
     --out "$RUN" --device "${DEVICE:-cuda}" --epochs "$EPOCHS" --no-evaluate --quiet)
echo "${CMD[*]}" | tee "$OUT/command.txt"
timeout $((BUDGET + 120)) "${CMD[@]}" 2>&1 | tee -a "$OUT/train.log"
cp "$RUN/checkpoint/model.safetensors" "$RUN/checkpoint/config.json" "$RUN/metrics.csv" "$OUT/" \
  2>>"$OUT/train.log"
ls -la "$OUT"
