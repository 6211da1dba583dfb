#!/usr/bin/env bash
# Issue-5 benchmark: seconds per training epoch (steady state = median of epochs 3..E), GFLOP/s, test accuracy
# and peak RSS of (a) this job in Spark local[2] with the default settings, (b) one JVM running DL4J's own
# MultiLayerNetwork.fit over minibatches of the same global batch, (b') one JVM running our lean step,
# (c) Spark MLlib's MultilayerPerceptronClassifier (784-256-256-10, L-BFGS). Each in its own JVM, one after another.
#
#   bench/speed.sh [EPOCHS] [RUNS]        (defaults 6 and 3; SKIP_MLLIB=1 skips (c))
#
# OpenBLAS kernels: the environment's OPENBLAS_CORETYPE is used as is (say which in the results).
# JIT: (a), (b), (b') run with the JIT that submit.sh gives local mode (C1 only on <= 4 cores; SPARKDROPOUT_JIT=full
# or c1 to choose), so the job is measured as users run it and the single-JVM baselines on equal terms;
# (c) MLlib always gets the full JIT (its L-BFGS is JVM code: its best case).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-6}
runs=${2:-3}
[ -f target/.stamp-compile ] || [ -d target/test-classes ] || mvn -q -B -DskipTests test-compile
mvn -q -B -o -DskipTests test-compile >/dev/null
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh
. conf/local-jvm.sh
mapfile -t opens < <(java17_opens)
cp="target/test-classes:target/classes:$(cat target/classpath.txt)"
read -r -a jit <<< "$(local_jit_options)"
run() { java "${opens[@]}" ${jit[@]+"${jit[@]}"} -Xmx6g -Dlog4j2.configurationFile=file:conf/log4j2.properties -cp "$cp" \
        io.github.sparkdropout.bench.SpeedBench "$@" 2>/dev/null | grep '^RESULT'; }
echo "# $(date -u +%F) OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} epochs=$epochs runs=$runs jit=${jit[*]:-full}"
results=$(mktemp)
for r in $(seq "$runs"); do
  run job "$epochs" | tee -a "$results"
  run single-dl4j "$epochs" | tee -a "$results"
  run single-lean "$epochs" | tee -a "$results"
done
# Medians over the runs, and the ratios the issue asks for.
median() { grep "mode=$1 " "$results" | sed 's/.*epoch_s=\([0-9.]*\).*/\1/' | sort -n \
  | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
a=$(median job); b=$(median single-dl4j); b2=$(median single-lean)
awk -v a="$a" -v b="$b" -v c="$b2" 'BEGIN {
  printf "SUMMARY median s/epoch: (a) job %.3f (%.1f GFLOP/s), (b) single DL4J fit %.3f (%.1f GFLOP/s),", a, 97/a, b, 97/b
  printf " (b2) single lean %.3f (%.1f GFLOP/s); (a)/(b) = %.2f, (a)/(b2) = %.2f\n", c, 97/c, a/b, a/c }'
rm -f "$results"
jit=()
[ -n "${SKIP_MLLIB:-}" ] || run mllib 20
