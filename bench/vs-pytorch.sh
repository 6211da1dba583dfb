#!/usr/bin/env bash
# The job against the book's own PyTorch code, side by side on this machine, like with like: for each variant and
# run, the book's whole script (../shared/reference/ref.py, Debian's python3-torch, 2 threads) and the whole
# `./submit.sh train` (build and data already in place, as a user's second run), one after the other, seed 0,
# 10 epochs, full data.
#
#   bench/vs-pytorch.sh [RUNS]       (default 3)
#
# Like with like:
#   - one OpenBLAS kernel family on both sides: the one submit.sh picks for the job (conf/local-jvm.sh:
#     OPENBLAS_CORETYPE, SkylakeX with AVX-512, Haswell with AVX2, unless the environment set it) is set for
#     PyTorch's OpenBLAS too;
#   - PyTorch on Debian's OpenMP build of OpenBLAS whatever the alternatives say (preloaded by path: the pthread
#     build, which python3-scipy and others pull in, fights PyTorch's own OpenMP threads);
#   - each side's BLAS library and the kernels it loaded are printed (PyTorch's read from its own process).
# Reports per side the best and the median of the runs (steady epoch: the median of epochs 3-10; whole command:
# wall time; peak resident memory of the whole command: /usr/bin/time's maximum RSS), and the ratios job / PyTorch
# of the bests and of the medians. Raw logs of every run, and the
# summary, stay in bench/results/vs-pytorch/<UTC time>/ (or $VS_PYTORCH_OUT).
# Targets: steady epoch <= 0.8x, whole command <= 0.9x and peak memory <= 1.5x PyTorch's (best of the runs each
# side), both variants.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "error: RUNS must be a positive integer, got '$runs'" >&2; exit 2; }
ref=../shared/reference/ref.py
py=/usr/bin/python3
omp_blas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
[ -f "$ref" ] || { echo "error: $ref not found (the book's reference code)" >&2; exit 2; }
if ! "$py" -c "import torch" 2>/dev/null || [ ! -f "$omp_blas" ] || [ ! -x /usr/bin/time ]; then
  echo "# installing python3-torch, libopenblas0-openmp and time (apt)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp \
      time; } >/dev/null || { echo "error: needs python3-torch, libopenblas0-openmp and time (apt-get install ...)" >&2
    exit 2; }
fi
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh >&2

# the kernel family submit.sh gives the job, for both sides
. conf/local-jvm.sh
pick_openblas_coretype
kernels=${OPENBLAS_CORETYPE:-auto}

out=${VS_PYTORCH_OUT:-bench/results/vs-pytorch/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a user's second run: the build is in place (submit.sh builds when stale; not timed)
./submit.sh train --epochs 1 --train-limit 512 --test-limit 256 --metrics "$tmp/warm" >/dev/null

# PyTorch's side, in one process: which BLAS it loaded and which kernels that BLAS runs, then the book's script
cat > "$tmp/ref-with-blas.py" <<'EOF'
import ctypes, runpy, sys
import torch  # loads the BLAS PyTorch computes with
blas = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.split()[-1]})
lib = next((p for p in blas if 'libopenblas' in p), None)  # the OpenBLAS behind libblas.so.3
core = ctypes.CDLL(lib).openblas_get_corename if lib else None
if core is not None:
    core.restype = ctypes.c_char_p
print('# pytorch %s, BLAS %s, kernels %s' % (torch.__version__, ' '.join(blas) or 'none',
      core().decode() if core is not None else 'unknown'), flush=True)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
EOF

now() { date +%s.%N; }
# median / minimum of the numbers on stdin
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
best() { sort -n | head -1; }
# "first steady mean-eval" from per-epoch "train eval" pairs on stdin (steady: median of epochs 3..)
epochs() {
  local pairs; pairs=$(cat)
  local steady; steady=$(echo "$pairs" | awk 'NR >= 3 {print $1}' | median)
  echo "$pairs" | awk -v s="$steady" '{e += $2} NR == 1 {f = $1} END {printf "%.3f %.3f %.3f\n", f, s, e / NR}'
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
# runs a command under /usr/bin/time, which writes its peak resident memory (KB) to $tmp/rss
measured() { /usr/bin/time -f %M -o "$tmp/rss" "$@"; }
rss_mb() { awk '{printf "%.0f", $1 / 1024}' "$tmp/rss"; }

summary="$out/summary.txt"
{
  echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
       "git $(git rev-parse --short HEAD 2>/dev/null || echo unknown), OpenBLAS kernels asked for both sides: $kernels"
} | tee "$summary"
results="$tmp/results"
for r in $(seq "$runs"); do
  for v in scratch concise; do
    log="$out/pytorch-$v-$r.log"
    t0=$(now)
    OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE LD_PRELOAD=$omp_blas \
      measured "$py" "$tmp/ref-with-blas.py" "$ref" --variant "$v" --seed 0 --threads 2 --data "$PWD/data/fashion-mnist" \
      > "$log"
    t1=$(now)
    read -r first steady eval < <(awk '/^ *[0-9]+  / {print $5, $6}' "$log" | epochs)
    acc=$(awk '/^ *[0-9]+  / {a=$4} END {print a}' "$log")
    [ "$r" = 1 ] && [ "$v" = scratch ] && sed -n 's/^# pytorch/# pytorch side:/p' "$log" | tee -a "$summary"
    echo "pytorch $v $r first=$first steady=$steady eval=$eval wall=$(elapsed "$t0" "$t1") rss=$(rss_mb) test_acc=$acc" \
      | tee -a "$results"
    log="$out/job-$v-$r.log"
    t0=$(now)
    measured ./submit.sh train --variant "$v" --seed 0 --metrics "$tmp/metrics" --run-id "$v-$r" > "$log"
    t1=$(now)
    read -r first steady eval < <(sed -n 's/^epoch [0-9]*: .*(train \([0-9.]*\) s.* eval \([0-9.]*\) s)$/\1 \2/p' \
      "$log" | epochs)
    acc=$(sed -n 's/^done: .*final test acc \([0-9.]*\),.*/\1/p' "$log")
    [ "$r" = 1 ] && [ "$v" = scratch ] && sed -n 's/.*\(workers on .*\)/# job side: \1/p' "$log" | tee -a "$summary"
    echo "job     $v $r first=$first steady=$steady eval=$eval wall=$(elapsed "$t0" "$t1") rss=$(rss_mb) test_acc=$acc" \
      | tee -a "$results"
  done
done
cp "$results" "$out/runs.txt"

values() { grep "^$1 *$2 " "$results" | sed "s/.* $3=\([0-9.]*\).*/\1/"; }
{
  echo "# job / PyTorch over $runs run(s) each: best (median); targets: steady <= 0.80x, wall <= 0.90x," \
    "peak memory (MB) <= 1.50x (best)"
  printf '%-8s %-34s %-34s %-34s\n' variant steady_epoch whole_command_wall peak_memory_mb
  for v in scratch concise; do
    line=$(printf '%-8s' "$v")
    for k in steady wall rss; do
      pb=$(values pytorch "$v" "$k" | best); jb=$(values job "$v" "$k" | best)
      pm=$(values pytorch "$v" "$k" | median); jm=$(values job "$v" "$k" | median)
      line+=$(awk -v pb="$pb" -v jb="$jb" -v pm="$pm" -v jm="$jm" \
        'BEGIN {printf " %5.2f/%-5.2f=%4.2fx (%4.2fx)       ", jb, pb, jb / pb, jm / pm}')
    done
    echo "$line"
  done
} | tee -a "$summary"
echo "# raw logs: $out" >&2
