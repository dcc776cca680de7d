#!/usr/bin/env bash
# The dataset-distillation table of the README: test accuracy of convnet3 trained for 500 Adam steps
# on 1, 10 and 50 Fashion-MNIST images per class chosen or synthesised by each `whittle coreset`
# method, mean ± std over 5 runs, next to random subsets of the same budget and the full data.
#   bench/scripts/coreset_table.sh [DIR]          (DIR keeps the embedding model, outputs and reports)
# BUDGETS (default "1 10 50") and METHODS ("herding kcenter forgetting el2n dm") choose the grid;
# THREADS (default 1) the kernel threads. The dm run of each budget also trains the random subsets
# (the random row), the first budget's also the full-data model; the other runs skip both
# (--no-compare-random, --full-epochs 0). Forgetting and EL2N scores are computed at the first
# budget and reused at the others (--scores): they do not depend on the budget.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-out/coreset-table}
budgets=(${BUDGETS:-1 10 50})
methods=(${METHODS:-herding kcenter forgetting el2n dm})
threads=${THREADS:-1}
mkdir -p "$dir"
embed="$dir/lenet5.safetensors"
[ -f "$embed" ] || ./whittle train --arch lenet5 --data fashion-mnist --threads "$threads" --out "$embed" >/dev/null

first=${budgets[0]}
for n in "${budgets[@]}"; do
  for m in "${methods[@]}"; do
    out="$dir/$m-$n"
    [ -f "$dir/$m-$n.json" ] && continue   # finished earlier: a rerun keeps it
    rm -rf "$out"
    args=(--method "$m" --per-class "$n")
    case $m in
      herding|kcenter) args+=(--embed-model "$embed") ;;
      forgetting|el2n) [ "$n" = "$first" ] || args+=(--scores "$dir/$m-$first/scores.txt") ;;
    esac
    if [ "$m" = dm ]; then
      [ "$n" = "$first" ] || args+=(--full-epochs 0)
    else
      args+=(--no-compare-random --full-epochs 0)
    fi
    ./whittle coreset --data fashion-mnist --threads "$threads" "${args[@]}" --out "$out" \
        --report "$dir/$m-$n.json.tmp" > "$dir/$m-$n.log"
    mv "$dir/$m-$n.json.tmp" "$dir/$m-$n.json"
  done
done

python3 - "$dir" "${budgets[@]}" -- "${methods[@]}" <<'EOF'
import json, os, sys
d = sys.argv[1]
sep = sys.argv.index("--")
budgets, methods = sys.argv[2:sep], sys.argv[sep + 1:]
def report(m, n):
    p = os.path.join(d, "%s-%s.json" % (m, n))
    return json.load(open(p)) if os.path.exists(p) else None
def cell(mean, std):
    return "—" if mean is None else "%.2f ± %.2f" % (100 * mean, 100 * std)
print("| method | " + " | ".join("%s per class" % n for n in budgets) + " |")
print("|---|" + "---:|" * len(budgets))
rows = [("random", lambda r: (r["random_accuracy_mean"], r["random_accuracy_std"]), "dm")]
rows += [(m, lambda r: (r["accuracy_mean"], r["accuracy_std"]), m) for m in methods]
for name, fig, source in rows:
    cells = []
    for n in budgets:
        r = report(source, n)
        cells.append(cell(*fig(r)) if r else "—")
    print("| %s | %s |" % (name, " | ".join(cells)))
full = report("dm", budgets[0])
if full and full["full_accuracy"] is not None:
    print("| full data (60,000 images, 1 run, %d epochs) | %.2f |" % (full["settings"]["full_epochs"], 100 * full["full_accuracy"])
          + " |" * (len(budgets) - 1))
print()
print("seconds per command (dm: with the random subsets" + (", and the full-data model at %s per class" % budgets[0]) + ")")
for m in methods:
    print("%-11s" % m + "".join("%10s" % ("%.0f" % report(m, n)["seconds"] if report(m, n) else "—") for n in budgets))
EOF
