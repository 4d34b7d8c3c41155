#!/usr/bin/env bash
# The ablation of the shipped recipe (docs/results.md): 500 k windows each, S8 evaluated with
# ground-truth 2D and with the Stacked-Hourglass detections, and CMU's held-out performer filmed
# from users' places. Run from anywhere, in the project's environment, with ../shared beside it.
set -u
cd "$(dirname "$0")/.."

OLD=cmu-actions,cmu-salsa,cmu-indian,cmu-martial,cmu-001,cmu-002,cmu-003,cmu-005,cmu-006,cmu-007,synth-0,synth-1,synth-2,synth-3,synth-4,synth-5,synth-6
NEW=$OLD,pose-0,pose-1,pose-2,pose-3,pose-4,pose-5,pose-6
CMU=cmu:../shared/data/mocap/cmu+synthetic:100:600
D=../shared/data/h36m/data_3d_h36m.npz
SH=../shared/data/h36m/pose_baseline_layout
run() {  # name data subjects views detector [recombine]
  local out=runs/ablation/$1
  [ -f $out/done ] && return
  rm -rf $out
  /usr/bin/time -f "%e s" dynapose train-lift --preset lift-cmu --data $2 --train-subjects $3 \
    --val-subjects cmu-actions-test --user-views $4 --detector-model $5 --recombine ${6:-0} --epochs 1 \
    --samples-per-epoch 500000 --no-evaluate --quiet --out $out > $out.train.log 2>&1
  dynapose evaluate-lift --checkpoint $out --data $D --subjects S8 --out $out/gt.json > $out.gt.log 2>&1
  dynapose evaluate-lift --checkpoint $out --data $D --subjects S8 --detections $SH --out $out/sh.json > $out.sh.log 2>&1
  python benchmarks/unusual_views.py --checkpoint $out > $out.views.log 2>&1
  touch $out/done
}
run A_old_recipe $CMU $OLD 0 0
run B_postures $CMU+postures:150:1500 $NEW 0 0
run C_postures_views $CMU+postures:150:1500 $NEW 0.5 0
run D_postures_detector $CMU+postures:150:1500 $NEW 0 0.5
run E_all $CMU+postures:150:1500 $NEW 0.5 0.5
run F_all_recombine $CMU+postures:150:1500 $NEW 0.5 0.5 0.3
