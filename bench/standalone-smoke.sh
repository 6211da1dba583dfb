#!/usr/bin/env bash
# Smoke test of the fast path on a real cluster manager: a Spark standalone master and two worker JVMs on
# 127.0.0.1 (their classes come with spark-core; no Spark installation), one executor of 1 core per worker, and
# the job submitted to spark://127.0.0.1:PORT. Trains 2 epochs on a subset and checks the metrics rows.
#   bench/standalone-smoke.sh [TRAIN_LIMIT] [EPOCHS] [AVERAGING_SYNC]     (sync: barrier (default), jobs or auto)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-20480}
epochs=${2:-2}
sync=${3:-barrier}
port=${SMOKE_PORT:-17077}
[ -f target/.stamp-package ] && [ -z "$(find pom.xml src conf -newer target/.stamp-package -print -quit)" ] \
  || { mvn -q -B -DskipTests package && touch target/.stamp-package; }
[ -f data/fashion-mnist/train-images-idx3-ubyte.gz ] || data/fetch.sh
tmp=$(mktemp -d /tmp/standalone-smoke.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The standalone Worker launches executors from $SPARK_HOME/jars: give it one made of the build's jars.
mkdir -p "$tmp/spark-home/jars"
tr ':' '\n' < target/classpath.txt | while read -r jar; do ln -sf "$jar" "$tmp/spark-home/jars/"; done
export SPARK_HOME=$tmp/spark-home SPARK_SCALA_VERSION=2.12
read -r -a opens < conf/java17-opens.txt
cp=$(cat target/classpath.txt)
log4j=-Dlog4j2.configurationFile=file:$PWD/conf/log4j2.properties
java "${opens[@]}" "$log4j" -cp "$cp" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" \
  --webui-port 0 > "$tmp/master.log" 2>&1 &
pids+=($!)
for w in 1 2; do
  java "${opens[@]}" "$log4j" -cp "$cp" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
    --memory 3g --work-dir "$tmp/worker$w" --webui-port 0 "spark://127.0.0.1:$port" > "$tmp/worker$w.log" 2>&1 &
  pids+=($!)
done
sleep 8
unset SPARK_HOME  # the driver runs embedded (submit.sh without a Spark installation)
./submit.sh --master "spark://127.0.0.1:$port" --executor-memory 2g --total-executor-cores 2 \
  train --workers 2 --epochs "$epochs" --train-limit "$limit" --test-limit 2000 \
  --averaging-sync "$sync" --metrics "$tmp/metrics" --run-id standalone-smoke
./submit.sh sql "SELECT epoch, round(train_loss, 4) AS train_loss, round(test_acc, 4) AS test_acc, master,
    executor_count, averaging_sync, round(train_seconds, 2) AS train_s, round(worker_busy_seconds, 2) AS busy_s
  FROM metrics ORDER BY epoch" --metrics "$tmp/metrics"
rows=$(./submit.sh sql "SELECT count(*) AS n FROM metrics WHERE executor_count = 2" --metrics "$tmp/metrics" \
  --format csv | tail -1)
[ "$rows" = "$epochs" ] || { echo "FAIL: expected $epochs rows trained on 2 executors, got $rows" >&2; exit 1; }
echo "standalone smoke test passed: $epochs epochs on 2 executors (logs in $tmp)"
