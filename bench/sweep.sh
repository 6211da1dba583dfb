#!/usr/bin/env bash
# Issue-3 sweep: workers x averaging frequency -> final test accuracy (mean of epochs 8-10) and steady-state
# seconds per epoch (median of epochs 3-10), 10 epochs on the full data, one seed, the default variant.
# Each worker is one Spark task slot (local[W]); global batch 256, so per-worker batch = 256 / W.
#   bench/sweep.sh [SEED] [METRICS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-42}
metrics=${2:-bench/out/sweep-metrics}
tag=sweep-$(date -u +%Y%m%d%H%M%S)
for w in 1 2 4; do
  for f in 1 5 20; do
    ./submit.sh --master "local[$w]" train --workers "$w" --averaging-frequency "$f" --seed "$seed" \
      --metrics "$metrics" --run-id "$tag-w$w-f$f" | grep -E '^done'
  done
done
./submit.sh sql "SELECT workers, averaging_frequency AS avg_freq,
    round(avg(CASE WHEN epoch >= 8 THEN test_acc END), 4) AS test_acc_ep8_10,
    round(percentile(CASE WHEN epoch >= 3 THEN train_seconds END, 0.5), 2) AS s_per_epoch,
    round(percentile(CASE WHEN epoch >= 3 THEN worker_busy_seconds END, 0.5), 2) AS busy_s
  FROM metrics WHERE run_id LIKE '$tag%' GROUP BY workers, averaging_frequency ORDER BY workers, avg_freq" \
  --metrics "$metrics"
