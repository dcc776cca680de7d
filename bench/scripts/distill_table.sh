#!/usr/bin/env bash
# The distillation table of the README: student accuracy on Fashion-MNIST versus temperature T and
# alpha, at 1,000, 5,000 and 60,000 training images (4,690 steps of batch 128 each: 10 epochs of the
# full set), next to the same student trained from the same seed on labels alone (scratch).
#   bench/scripts/distill_table.sh [DIR]          (DIR keeps the trained teacher between runs)
# STUDENT (default "mlp(784,100,10)"), TS ("1 2 4 8 20"), ALPHAS ("0.5 0.9"), SUBSETS ("1000 5000 60000"),
# SEEDS ("0") choose the grid, or CELLS ("A:T ...", e.g. "0.5:20 0.9:4") names the settings outright;
# LR (default 1e-3) and SHIFT (default 0; up to SHIFT pixels, the teacher labelling each shifted
# image) apply to every run, scratch included, so scratch sees the same images as the students.
# SCRATCH=0 leaves the scratch run out (to split one grid over two processes); THREADS (default 2)
# is passed as --threads (the accuracies do not depend on it).
# The README's tables:
#   bench/scripts/distill_table.sh
#   ALPHAS="0.95 0.99 1" TS="2 4 8 20" SUBSETS=5000 bench/scripts/distill_table.sh
#   CELLS="0.5:20 0.9:4" SUBSETS=5000 LR=5e-4 bench/scripts/distill_table.sh        (and LR=2e-3)
#   CELLS="0.5:2 0.5:4 0.5:8 0.5:20 0.9:1 0.9:2 0.9:4 0.9:8 0.99:2 0.99:4 1:2" SHIFT=2 SUBSETS=5000 \
#       bench/scripts/distill_table.sh
#   CELLS="0.95:20" SUBSETS=5000 SEEDS=1 bench/scripts/distill_table.sh
#   CELLS="0.9:2 0.99:2 1:2" SHIFT=2 SUBSETS=5000 SEEDS=1 bench/scripts/distill_table.sh
#   CELLS="0.9:2 0.99:2" SHIFT=2 SUBSETS=60000 SEEDS="0 1" bench/scripts/distill_table.sh
#   STUDENT=lenet5 bench/scripts/distill_table.sh        (the lenet5-wide -> lenet5 table; it was run
#       as ALPHAS=0.5 and, in parallel, ALPHAS=0.9 SCRATCH=0, each with THREADS=1 and its own DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-out/distill-table}
student=${STUDENT:-mlp(784,100,10)}
mkdir -p "$dir"
teacher="$dir/lenet5-wide.safetensors"
[ -f "$teacher" ] || ./whittle train --arch lenet5-wide --data fashion-mnist --out "$teacher" >/dev/null
acc() {  # prints the student's test accuracy (percent) of one distill run
  ./whittle distill --teacher "$teacher" --student-arch "$student" --data fashion-mnist --steps 4690 \
      --lr "${LR:-1e-3}" --shift "${SHIFT:-0}" --threads "${THREADS:-2}" --out "$dir/s.safetensors" --report "$dir/r.json" "$@" >/dev/null
  python3 -c 'import json,sys; print("%.2f" % (100*json.load(open(sys.argv[1]))["final"]["accuracy"]))' "$dir/r.json"
}
cells=${CELLS:-$(for a in ${ALPHAS:-0.5 0.9}; do for t in ${TS:-1 2 4 8 20}; do printf '%s:%s ' "$a" "$t"; done; done)}
echo "student $student, teacher lenet5-wide, 4,690 steps, adam lr ${LR:-1e-3}, shifts up to ${SHIFT:-0} px"
for seed in ${SEEDS:-0}; do
  for n in ${SUBSETS:-1000 5000 60000}; do
    line="| $n | seed $seed"
    if [ "${SCRATCH:-1}" != 0 ]; then
      line="$line | scratch $(acc --train-subset "$n" --alpha 0 --temperature 1 --seed "$seed")"
    fi
    for cell in $cells; do
      a=${cell%:*} t=${cell#*:}
      line="$line | T=$t a=$a $(acc --train-subset "$n" --alpha "$a" --temperature "$t" --seed "$seed")"
    done
    echo "$line |"
  done
done
