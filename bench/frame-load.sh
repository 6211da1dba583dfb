#!/usr/bin/env bash
# How long the Estimator takes to load a DataFrame into its workers' shards (FrameShards.of: check every row,
# checksum, feature ranges, cache the shards): Fashion-MNIST's 60,000 training rows in 2 cached partitions, loaded N
# times in one local[2] JVM; prints each load and the median of the second half (warm).
#
#   bench/frame-load.sh [N]      (default 12)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-12}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "error: usage: bench/frame-load.sh [N>0], got '$*'" >&2; exit 2; }
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh >&2
mvn -q -B -o -DskipTests test-compile >/dev/null 2>&1 || mvn -q -B -DskipTests test-compile
. conf/local-jvm.sh
mapfile -t opens < <(java17_opens)
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
java "${opens[@]}" -Xmx6g -Dlog4j2.configurationFile=file:conf/log4j2.properties \
  -cp "target/test-classes:target/classes:$(cat target/classpath.txt)" io.github.sparkdropout.bench.FrameLoadBench "$n" \
  2>/dev/null | grep -E '^(load|RESULT)'
