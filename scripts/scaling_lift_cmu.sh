#!/usr/bin/env bash
# How the shipped recipe's error falls with the amount of real motion capture (docs/results.md,
# "How much real motion would it take"): the recipe of the ablation's run F (500 k windows) with a
# quarter and a half of CMU's training frames (whole performer groups), the made motion unchanged;
# S8 evaluated with ground-truth 2D and with the Stacked-Hourglass detections. Run from anywhere,
# in the project's environment, with ../shared beside it; the full-CMU point is the ablation's F.
set -u
cd "$(dirname "$0")/.."

MADE=synth-0,synth-1,synth-2,synth-3,synth-4,synth-5,synth-6,pose-0,pose-1,pose-2,pose-3,pose-4,pose-5,pose-6
QUARTER=cmu-actions                                       # 22,153 of 81,337 frames (27 %)
HALF=cmu-actions,cmu-martial,cmu-005,cmu-002              # 42,355 frames (52 %)
DATA=cmu:../shared/data/mocap/cmu+synthetic:100:600+postures:150:1500
D=../shared/data/h36m/data_3d_h36m.npz
SH=../shared/data/h36m/pose_baseline_layout
run() {  # name cmu-groups
  local out=runs/scaling/$1
  [ -f $out/done ] && return
  mkdir -p runs/scaling && rm -rf $out
  /usr/bin/time -f "%e s" dynapose train-lift --preset lift-cmu --data $DATA --train-subjects $2,$MADE \
    --val-subjects cmu-actions-test --epochs 1 --samples-per-epoch 500000 --no-evaluate --quiet \
    ${THREADS:+--threads $THREADS} --out $out > $out.train.log 2>&1
  dynapose evaluate-lift --checkpoint $out --data $D --subjects S8 --out $out/gt.json > $out.gt.log 2>&1
  dynapose evaluate-lift --checkpoint $out --data $D --subjects S8 --detections $SH --out $out/sh.json > $out.sh.log 2>&1
  touch $out/done
}
run quarter $QUARTER
run half $HALF
