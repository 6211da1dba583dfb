#!/usr/bin/env bash
# The lean SGD step against a plain GEMM of the same shapes, on this machine (issue 12, item 3): W threads at once
# (local mode's workers), 1 native thread each, minibatch B; per thread the step's GEMMs alone, then the whole
# lean step; milliseconds a step and GFLOP/s (the GEMMs' operations in both), and their ratio.
#
#   bench/step-vs-gemm.sh [B [W [VARIANT]]]      (default: 128 2 scratch, what the README's job runs per worker)
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-128}; w=${2:-2}; v=${3:-scratch}
[[ "$b" =~ ^[1-9][0-9]*$ && "$w" =~ ^[1-9][0-9]*$ && "$v" =~ ^(scratch|concise)$ ]] \
  || { echo "error: usage: bench/step-vs-gemm.sh [BATCH>0 [THREADS>0 [scratch|concise]]], got '$*'" >&2; exit 2; }
mvn -q -B -o -DskipTests test-compile >/dev/null 2>&1 || mvn -q -B -DskipTests test-compile
. conf/local-jvm.sh
read -r -a jit <<< "$(local_jit_options)"
pick_openblas_coretype # the kernels submit.sh picks
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, jit=${jit[*]:-full}"
java ${jit[@]+"${jit[@]}"} -cp "target/test-classes:target/classes:$(cat target/classpath.txt)" \
  io.github.sparkdropout.bench.StepBench "$b" "$w" "$v" 2>/dev/null | grep '^RESULT'
