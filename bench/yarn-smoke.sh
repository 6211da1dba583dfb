#!/usr/bin/env bash
# The job on YARN, measured: a YARN + HDFS minicluster in one JVM on 127.0.0.1 (Hadoop's MiniYARNCluster and
# MiniDFSCluster, as the cluster tests use them; containers are real JVMs), the data put into HDFS, the application
# jar submitted through target/spark-home's spark-submit in client deploy mode: 2 executors of 1 core and 1 GB.
# Prints the driver's per-epoch breakdown of the averaging rounds (the "rounds" log) and the metrics rows.
#   bench/yarn-smoke.sh [EPOCHS] [more train options]     (default: 10 epochs, all 60,000 examples)
# The output is kept in bench/results/yarn-smoke/<UTC time>/stdout.log (or $YARN_SMOKE_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || { echo "error: EPOCHS must be a positive integer, got '$epochs'" >&2; exit 2; }
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh >&2
mvn -q -B -DskipTests package >&2
bench/spark-home.sh
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
. conf/local-jvm.sh
mapfile -t opens < <(java17_opens)
export SPARK_LOCAL_IP=127.0.0.1
out=${YARN_SMOKE_OUT:-bench/results/yarn-smoke/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), git" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')" \
  | tee "$out/stdout.log"
# the minicluster's own warnings go to stderr, the job's lines and the rounds log to stdout (and the log file)
java "${opens[@]}" -Xmx2g -Dlog4j2.configurationFile=file:conf/log4j2.properties \
  -cp "target/test-classes:target/classes:$(cat "$cp_file")" io.github.sparkdropout.cluster.YarnSmoke "$epochs" "${@:2}" \
  2> "$out/stderr.log" | tee -a "$out/stdout.log"
echo "# output kept in $out" >&2
