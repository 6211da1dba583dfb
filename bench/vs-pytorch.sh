#!/usr/bin/env bash
# The job against the book's own PyTorch code, side by side on this machine (issue 12): for each variant, the
# book's whole script (../shared/reference/ref.py: Debian's python3-torch on the system OpenBLAS, 2 threads) and
# the whole `./submit.sh train` (build and data already in place, as a user's second run), one after the other,
# seed 0, 10 epochs, full data. Prints each run's steady epoch (median training seconds of epochs 3-10), first
# epoch, evaluation and whole-command wall time, then the medians over the runs and the ratios job / PyTorch.
#
#   bench/vs-pytorch.sh [RUNS]       (default 3)
#
# Targets (issue 12): whole command <= 1.0x and steady epoch <= 0.8x PyTorch's, for both variants.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "error: RUNS must be a positive integer, got '$runs'" >&2; exit 2; }
ref=../shared/reference/ref.py
py=/usr/bin/python3
[ -f "$ref" ] || { echo "error: $ref not found (the book's reference code)" >&2; exit 2; }
if ! "$py" -c "import torch" 2>/dev/null; then
  echo "# installing python3-torch and libopenblas0-openmp (apt)" >&2
  apt-get install -y -qq python3-torch libopenblas0-openmp >/dev/null \
    || { echo "error: python3-torch is needed: apt-get install python3-torch libopenblas0-openmp" >&2; exit 2; }
fi
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a user's second run: the build is in place (submit.sh builds when stale; not timed)
./submit.sh train --epochs 1 --train-limit 512 --test-limit 256 --metrics "$tmp/warm" >/dev/null

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
# "first steady mean-eval" from per-epoch "train eval" pairs on stdin (steady: median of epochs 3..)
epochs() {
  local pairs; pairs=$(cat)
  local steady; steady=$(echo "$pairs" | awk 'NR >= 3 {print $1}' | median)
  echo "$pairs" | awk -v s="$steady" '{e += $2} NR == 1 {f = $1} END {printf "%.3f %.3f %.3f\n", f, s, e / NR}'
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
results="$tmp/results"
for r in $(seq "$runs"); do
  for v in scratch concise; do
    t0=$(now)
    "$py" "$ref" --variant "$v" --seed 0 --threads 2 --data "$PWD/data/fashion-mnist" > "$tmp/py.txt"
    t1=$(now)
    read -r first steady eval < <(awk '/^ *[0-9]+  / {print $5, $6}' "$tmp/py.txt" | epochs)
    acc=$(awk '/^ *[0-9]+  / {a=$4} END {print a}' "$tmp/py.txt")
    echo "pytorch $v $r first=$first steady=$steady eval=$eval wall=$(elapsed "$t0" "$t1") test_acc=$acc" \
      | tee -a "$results"
    t0=$(now)
    ./submit.sh train --variant "$v" --seed 0 --metrics "$tmp/metrics" --run-id "$v-$r" > "$tmp/job.txt"
    t1=$(now)
    read -r first steady eval < <(sed -n 's/^epoch [0-9]*: .*(train \([0-9.]*\) s.* eval \([0-9.]*\) s)$/\1 \2/p' \
      "$tmp/job.txt" | epochs)
    acc=$(sed -n 's/^done: .*final test acc \([0-9.]*\),.*/\1/p' "$tmp/job.txt")
    echo "job     $v $r first=$first steady=$steady eval=$eval wall=$(elapsed "$t0" "$t1") test_acc=$acc" \
      | tee -a "$results"
  done
done

med() { grep "^$1 *$2 " "$results" | sed "s/.* $3=\([0-9.]*\).*/\1/" | median; }
echo "# medians over $runs run(s); ratio = job / PyTorch (targets: steady <= 0.80, wall <= 1.00)"
printf '%-8s %-13s %-13s %-13s %-13s\n' variant steady_epoch first_epoch eval whole_wall
for v in scratch concise; do
  line="$v"
  for k in steady first eval wall; do
    p=$(med pytorch "$v" "$k"); j=$(med job "$v" "$k")
    line+=$(awk -v p="$p" -v j="$j" 'BEGIN {printf " %5.2f/%-5.2f=%4.2fx", j, p, (p > 0 ? j / p : 0)}')
  done
  echo "$line"
done
