#!/usr/bin/env bash
# The "what each choice costs" table of the README: test accuracy of quantized lenet-300-100 and
# lenet5 on Fashion-MNIST per calibration method and weight granularity (INT8), and per group size
# and rounding method (INT4). Trains the two models first unless MODELS_DIR already holds them.
#   bench/scripts/quantize_table.sh [MODELS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-out/quantize-table}
mkdir -p "$dir"
for arch in lenet-300-100 lenet5; do
  [ -f "$dir/$arch.safetensors" ] || ./whittle train --arch "$arch" --data fashion-mnist --out "$dir/$arch.safetensors" >/dev/null
done
row() {  # arch, label, options...
  local arch=$1 label=$2; shift 2
  ./whittle quantize --model "$dir/$arch.safetensors" --data fashion-mnist --out "$dir/q.safetensors" --runs 0 \
      --report "$dir/r.json" "$@" >/dev/null
  python3 - "$dir/r.json" "$arch" "$label" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b, f = r["baseline"], r["final"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {100*b['accuracy']:.2f} | {100*f['accuracy']:.2f} | {100*(b['accuracy']-f['accuracy']):+.2f} | {f['file_bytes']/b['file_bytes']:.3f} |")
PY
}
echo "| model | scheme | fp32 % | quantized % | drop (points) | file vs fp32 |"
echo "|---|---|---:|---:|---:|---:|"
for arch in lenet-300-100 lenet5; do
  for g in tensor channel; do
    for c in minmax ema percentile:99.99 mse entropy; do
      row "$arch" "W8A8 $g, $c" --bits 8 --weights "$g" --calibration "$c"
    done
  done
  for g in 32 64 128; do
    row "$arch" "INT4 group $g, rtn" --bits 4 --weights "group:$g"
  done
  row "$arch" "INT4 group 64, rtn, W4A8" --bits 4 --weights group:64 --activations 8
  row "$arch" "INT4 group 64, gptq" --bits 4 --weights group:64 --method gptq
  row "$arch" "INT4 group 64, qat 2 epochs" --bits 4 --weights group:64 --qat-epochs 2
done
