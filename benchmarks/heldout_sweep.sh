#!/bin/bash
# Drive-held-out bases and the frame-choice comparison, all at once (meant for a GPU: on one
# H200 the six bases took 2-3 minutes side by side and the whole sweep under 8; on the 2-core
# CPU a base alone takes 70-140 minutes).
#
#   OUT=runs/sweep bash benchmarks/heldout_sweep.sh
#
# (PY: the Python with torch, .venv/bin/python when there is one; DATA: CamVid, ../shared/...)
#
# For each drive of DRIVES and training seed of TSEEDS, trains the shipped recipe without the
# drive (docs/training.md) into runs/heldout-no<drive>-s<seed>/ (kept if already there), then
# runs benchmarks/finetune_loop.py on the drive with k=10, the choices CHOICES and
# fine-tuning seeds FSEEDS, one process per fine-tuning seed. Logs: $OUT/train-*.log,
# $OUT/ft-<drive>-s<seed>-f<fine-tuning seed>.log; $OUT/status.txt says what ended when.
# To bound it, run it under `timeout SECONDS` (the logs keep what ended by then).
set -u
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
DATA=${DATA:-../shared/data/camvid}; OUT=${OUT:-runs/heldout-sweep}
DRIVES=${DRIVES:-"0001TP 0006R0 0016E5"}; TSEEDS=${TSEEDS:-"0 1"}; FSEEDS=${FSEEDS:-"0 1"}
CHOICES=${CHOICES:-"plan plan-in-turn even even-early even-late"}
EPOCHS=${EPOCHS:-30}; DROPS=${DROPS:-"18 26"}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$OUT"; START=$(date +%s)
elapsed() { echo $(( $(date +%s) - START )); }
pipeline() {  # drive, training seed
  local d=$1 s=$2 base=runs/heldout-no$1-s$2
  if [ ! -f $base/last.pt ]; then
    $PY -m segnet_core.cli train --data "$DATA" --split train+val --hold-out-drive $d \
        --model segnet-basic-lcn --size 180x240 --epochs $EPOCHS --lr-drop $DROPS --seed $s \
        --out $base > "$OUT/train-$d-s$s.log" 2>&1 \
      || { echo "train $d s$s failed at $(elapsed) s" >> "$OUT/status.txt"; return; }
    echo "train $d s$s done at $(elapsed) s" >> "$OUT/status.txt"
  fi
  for f in $FSEEDS; do
    $PY benchmarks/finetune_loop.py --model $base/last.pt --data "$DATA" --drive $d \
        --frames 10 --methods shipped:seed=$f --choose $CHOICES \
        > "$OUT/ft-$d-s$s-f$f.log" 2>&1 &
  done
  wait
  echo "fine-tuning $d s$s done at $(elapsed) s" >> "$OUT/status.txt"
}
for d in $DRIVES; do for s in $TSEEDS; do pipeline $d $s & done; done
wait
echo "ended at $(elapsed) s" >> "$OUT/status.txt"
