#!/usr/bin/env bash
# The Estimator against Spark MLlib's MLP, side by side in one run (issue 21, item 5): in one JVM and one Spark session
# (local[2]), MLlib's MultilayerPerceptronClassifier with its defaults (solver l-bfgs, maxIter 100, tol 1e-6,
# blockSize 128; seed 42) and our DropoutMlpClassifier, with the same layers (features-256-256-classes), each fitted
# on the same cached and counted training frame of each data set and scored on the same test frame. Prints, per data
# set and side, the fit's wall time, the test accuracy, rows / features / classes, and a summary with the targets.
#
#   bench/vs-mllib.sh [SET...] [VsMllib options]
#     SET: fashion-mnist spambase letter breast-cancer (default: all four, in that order)
#     options (src/test/java/io/github/sparkdropout/bench/VsMllib.java): --validate (choose our settings on a
#       validation split of the training rows), and for reduced trial runs --mllib-max-iter N, --epochs N,
#       --train-limit N, --sides mllib|ours, --no-fixed-cost
#
# Data: Fashion-MNIST (data/fetch.sh) and tabular sets from Debian packages, which this script downloads
# (apt-get download) and unpacks under bench/out/vs-mllib-data/ without installing them: UCI Spambase from
# r-cran-kernlab (data/spam.rda), UCI Letter Recognition from r-cran-mlbench (data/LetterRecognition.rda), Wisconsin
# Diagnostic Breast Cancer from python3-sklearn (breast_cancer.csv). The R data files are read by our own reader
# (src/test/java/io/github/sparkdropout/bench/RData.java), no R needed. Tabular features are standardised by a
# StandardScaler fitted on the training rows; both sides get the very same frames.
# BLAS, like with like: MLlib on Debian's OpenBLAS 0.3.21 (libopenblas0-pthread, installed if missing, loaded by path
# through dev.ludovic.netlib.blas.nativeLibPath), one thread a call as Spark's guide advises (OPENBLAS_NUM_THREADS=1:
# two tasks on two cores); ours on ND4J's bundled OpenBLAS 0.3.19, one thread per worker task. Both get the kernel
# family submit.sh picks (conf/local-jvm.sh: OPENBLAS_CORETYPE). What each side actually loaded is printed.
# JIT: the JVM's default (full tiered) unless SPARKDROPOUT_JIT=c1: MLlib's best case, a Spark application's default.
# Raw logs and the summary: bench/results/vs-mllib/<UTC time>/ (or $VS_MLLIB_OUT).
# Targets: Fashion-MNIST test accuracy >= MLlib's at <= 1/20 of its fit time; every other set test accuracy >= and
# fit time <= MLlib's.
set -euo pipefail
cd "$(dirname "$0")/.."
sets=()
opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mllib-max-iter|--epochs|--train-limit|--sides) opts+=("$1" "$2"); shift 2 ;;
    --*) opts+=("$1"); shift ;;
    *) sets+=("$1"); shift ;;
  esac
done
[ ${#sets[@]} -gt 0 ] || sets=(fashion-mnist spambase letter breast-cancer)

# MLlib's BLAS: Debian's pthread OpenBLAS, by path (whatever libblas.so.3's alternative points to)
mllib_blas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [ ! -f "$mllib_blas" ]; then
  echo "# installing libopenblas0-pthread (apt)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread; } >/dev/null \
    || { echo "error: needs libopenblas0-pthread (apt-get install libopenblas0-pthread)" >&2; exit 2; }
fi

# the tabular data sets: each Debian package downloaded and unpacked once (not installed)
data_dir=bench/out/vs-mllib-data
mkdir -p "$data_dir"
fetch_package() {
  local pkg=$1 dest=$data_dir/$1
  [ -f "$dest/.version" ] && return 0
  local tmp; tmp=$(mktemp -d)
  chmod 755 "$tmp"
  if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) \
      || { echo "error: cannot download Debian's $pkg (apt-get download $pkg)" >&2; rm -rf "$tmp"; exit 2; }
  fi
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  dpkg-deb -x "$tmp"/"$pkg"_*.deb "$dest.tmp"
  dpkg-deb -f "$tmp"/"$pkg"_*.deb Version > "$dest.tmp/.version"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -rf "$tmp"
}
declare -A package=([spambase]=r-cran-kernlab [letter]=r-cran-mlbench [breast-cancer]=python3-sklearn)
declare -A file=([spambase]=usr/lib/R/site-library/kernlab/data/spam.rda
  [letter]=usr/lib/R/site-library/mlbench/data/LetterRecognition.rda
  [breast-cancer]=usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv)
for s in "${sets[@]}"; do
  case "$s" in
    fashion-mnist) [ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh >&2 ;;
    spambase|letter|breast-cancer) fetch_package "${package[$s]}" ;;
    *) echo "error: unknown data set '$s' (fashion-mnist, spambase, letter, breast-cancer)" >&2; exit 2 ;;
  esac
done
# the warm-up and the fixed-cost fits use a few Fashion-MNIST rows whatever the sets
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh >&2

mvn -q -B -o -DskipTests test-compile >/dev/null
. conf/local-jvm.sh
pick_openblas_coretype
mapfile -t opens < <(java17_opens)
jit=()
[ "${SPARKDROPOUT_JIT:-full}" = c1 ] && jit=(-XX:TieredStopAtLevel=1)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
cp="target/test-classes:target/classes:$(cat target/classpath.txt)"

out=${VS_MLLIB_OUT:-bench/results/vs-mllib/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
summary=$out/summary.txt
{
  echo "# $(date -u +%FT%TZ) bench/vs-mllib.sh ${sets[*]} ${opts[*]:-}"
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
       "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -sr);"\
       "$(java -version 2>&1 | head -1); git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(
       git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "# OpenBLAS kernels asked for both sides: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset (auto-detected)};"\
       "OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS; JIT ${jit[*]:-full (tiered)}"
  for s in "${sets[@]}"; do
    [ -n "${package[$s]:-}" ] || continue
    f=$data_dir/${package[$s]}/${file[$s]}
    echo "# data $s: Debian ${package[$s]} $(cat "$data_dir/${package[$s]}/.version"), /${file[$s]}," \
         "sha256 $(sha256sum "$f" | cut -c1-16)..."
  done
} | tee "$summary"

status=0
java "${opens[@]}" ${jit[@]+"${jit[@]}"} -Xmx6g -Dlog4j2.configurationFile=file:conf/log4j2.properties \
  -Ddev.ludovic.netlib.blas.nativeLibPath="$mllib_blas" -cp "$cp" \
  io.github.sparkdropout.bench.VsMllib --data-dir "$data_dir" ${opts[@]+"${opts[@]}"} "${sets[@]}" \
  2> "$out/stderr.log" | tee "$out/stdout.log" || status=$?
grep -E '^(RESULT|VALIDATE|FIXED|ERROR) ' "$out/stdout.log" > "$out/results.txt" || true
grep -E '^# (mllib|ours) BLAS|^# BLAS libraries|^# warm-up|^# TRIAL|^# (fashion-mnist|spambase|letter|breast-cancer): ' \
  "$out/stdout.log" >> "$summary" || true

# the summary: per data set, each side's fit time and accuracy, ours / MLlib, and the targets
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
{
  if grep -q '^RESULT side=mllib ' "$out/results.txt" && grep -q '^RESULT side=ours ' "$out/results.txt"; then
    printf '%-14s %7s %8s %10s %8s %10s %8s %8s %s\n' set train features mllib_fit mllib_acc ours_fit ours_acc \
      time_x target
    for s in "${sets[@]}"; do
      m=$(grep "^RESULT side=mllib set=$s " "$out/results.txt" || true)
      o=$(grep "^RESULT side=ours set=$s " "$out/results.txt" || true)
      [ -n "$m" ] && [ -n "$o" ] || continue
      mf=$(echo "$m" | field fit_s); ma=$(echo "$m" | field test_acc)
      of=$(echo "$o" | field fit_s); oa=$(echo "$o" | field test_acc)
      awk -v s="$s" -v n="$(echo "$o" | field train)" -v d="$(echo "$o" | field features)" -v mf="$mf" -v ma="$ma" \
          -v of="$of" -v oa="$oa" 'BEGIN {
        limit = (s == "fashion-mnist") ? 1 / 20 : 1
        met = (oa >= ma && of <= mf * limit) ? "met" : "MISSED"
        printf "%-14s %7d %8d %9.2fs %8.4f %9.2fs %8.4f %7.3fx %s (acc >= mllib, time <= %s)\n", s, n, d, mf, ma,
          of, oa, of / mf, met, (limit < 1 ? "1/20" : "1x") }'
    done
  fi
  grep -E '^(FIXED|ERROR) ' "$out/results.txt" | sed 's/^/# /' || true
} | tee -a "$summary"
echo "# raw logs: $out" >&2
exit "$status"
