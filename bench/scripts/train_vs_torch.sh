#!/usr/bin/env bash
# Seconds per training epoch (training steps only) of whittle next to PyTorch on CPU, same
# protocol (Adam 1e-3, batch 128, Fashion-MNIST), same thread count, measured in one sitting:
# the runs of each configuration are interleaved so machine noise hits both alike.
#
#   [ARCHS="lenet5"] bench/scripts/train_vs_torch.sh [EPOCHS] [JAR...]
#
# EPOCHS (default 3) epochs per run; the median over epochs 2.. is reported (epoch 1 includes
# JIT warm-up). Extra JARs (e.g. an older build) are measured beside ./whittle's current jar.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EPOCHS="${1:-3}"; shift || true
JDK="$("$ROOT/whittle" --print-jdk-home)"
"$ROOT/whittle" --version >/dev/null 2>&1 || true   # builds the jar if needed
JARS=("$ROOT/cli/target/whittle.jar" "$@")
OUT="$(mktemp -d)"

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

printf "%-14s %7s %-28s %10s\n" arch threads runner "s/epoch"
for arch in ${ARCHS:-lenet-300-100 lenet5}; do
  for threads in 1 2; do
    for jar in "${JARS[@]}"; do
      r="$OUT/w.json"
      "$JDK/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -jar "$jar" train --arch "$arch" \
        --data fashion-mnist --epochs "$EPOCHS" --threads "$threads" --report "$r" >/dev/null 2>&1
      s=$(python3 -c "import json;e=json.load(open('$r'))['epoch_seconds'];print('\n'.join(map(str,e[1:] or e)))" | median)
      printf "%-14s %7s %-28s %10.2f\n" "$arch" "$threads" "whittle $(basename "$jar")" "$s"
    done
    s=$(/usr/bin/python3 "$ROOT/bench/scripts/torch_epoch.py" --arch "$arch" --threads "$threads" --epochs "$EPOCHS" \
        | python3 -c "import sys,json;e=[json.loads(l)['seconds'] for l in sys.stdin];print('\n'.join(map(str,e[1:] or e)))" | median)
    printf "%-14s %7s %-28s %10.2f\n" "$arch" "$threads" "pytorch $(/usr/bin/python3 -c 'import torch;print(torch.__version__)')" "$s"
  done
done
rm -rf "$OUT"
