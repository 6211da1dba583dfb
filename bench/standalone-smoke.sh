#!/usr/bin/env bash
# The job on a real cluster manager, with its memory measured: a Spark standalone master and two worker JVMs on
# 127.0.0.1 started from a Spark installation (target/spark-home, bench/spark-home.sh), the application jar
# submitted through that installation's spark-submit (client deploy mode), one 1-core executor per worker.
# Prints the metrics rows and the peak resident memory (VmHWM) of the driver and of each executor JVM, which is
# what a YARN container's memory (executor memory + memory overhead) must hold.
#   bench/standalone-smoke.sh [TRAIN_LIMIT] [EPOCHS] [AVERAGING_SYNC] [EXECUTOR_MEMORY]
#   (defaults: 0 = all 60,000 examples, 10 epochs, barrier, 1g; SMOKE_DRIVER_OPTS: more driver JVM options,
#   SMOKE_TRAIN_OPTS: more train options)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-0}
epochs=${2:-10}
sync=${3:-barrier}
executor_memory=${4:-1g}
port=${SMOKE_PORT:-17077}
bench/spark-home.sh
export SPARK_HOME=$PWD/target/spark-home SPARK_LOCAL_IP=127.0.0.1
tmp=$(mktemp -d /tmp/standalone-smoke.XXXXXX)
pids=()
sampler=""
cleanup() {
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  for p in "${pids[@]}"; do pkill -KILL -P "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" \
  --webui-port 0 > "$tmp/master.log" 2>&1 &
pids+=($!)
for w in 1 2; do
  "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 4g \
    --work-dir "$tmp/worker$w" --webui-port 0 "spark://127.0.0.1:$port" > "$tmp/worker$w.log" 2>&1 &
  pids+=($!)
done
sleep 8

# Peak RSS of every JVM of the job, sampled each second: the kernel keeps each process's high-water mark (VmHWM).
sample() {
  while true; do
    for pid in $(pgrep -f 'CoarseGrainedExecutorBackend|io.github.sparkdropout.cli.Main' || true); do
      role=executor
      tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q CoarseGrainedExecutorBackend || role=driver
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -z "$hwm" ] || echo "$role $pid $hwm"
    done
    sleep 1
  done > "$tmp/rss.txt"
}
sample &
sampler=$!

# -Dsparkdropout.rounds=info: one line per epoch on where the averaging rounds' time goes (BarrierTransport)
./submit.sh --master "spark://127.0.0.1:$port" --executor-memory "$executor_memory" --executor-cores 1 \
  --total-executor-cores 2 --driver-java-options "-Dsparkdropout.rounds=info ${SMOKE_DRIVER_OPTS:-}" ${SMOKE_SPARK_OPTS:-} \
  train --workers 2 --epochs "$epochs" --train-limit "$limit" --averaging-sync "$sync" \
  --metrics "$tmp/metrics" --run-id standalone-smoke ${SMOKE_TRAIN_OPTS:-}
./submit.sh sql "SELECT epoch, round(train_loss, 4) AS train_loss, round(test_acc, 4) AS test_acc, master,
    executor_count, averaging_sync, round(train_seconds, 2) AS train_s, round(worker_busy_seconds, 2) AS busy_s
  FROM metrics ORDER BY epoch" --metrics "$tmp/metrics"
kill "$sampler"; sampler=""
echo "peak resident memory (VmHWM), executor memory $executor_memory:"
awk '{ if ($3 > peak[$1" "$2]) peak[$1" "$2] = $3 } END { for (k in peak) printf "  %-8s pid %-8s %6.0f MB\n", substr(k, 1, index(k, " ") - 1), substr(k, index(k, " ") + 1), peak[k] / 1024 }' "$tmp/rss.txt" | sort
rows=$(./submit.sh sql "SELECT count(*) AS n FROM metrics WHERE executor_count = 2" --metrics "$tmp/metrics" \
  --format csv | tail -1)
[ "$rows" = "$epochs" ] || { echo "FAIL: expected $epochs rows trained on 2 executors, got $rows" >&2; exit 1; }
echo "standalone smoke test passed: $epochs epochs on 2 executors (logs in $tmp)"
