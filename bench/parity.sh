#!/usr/bin/env bash
# Issue-3 parity: both variants x 3 seeds, the defaults (10 epochs, lr 0.5, batch 256, dropout 0.2/0.5) on
# 2 workers in local[2]; then per-epoch means over seeds and each run's mean test accuracy over epochs 8-10,
# to compare with ../shared/reference (the book's PyTorch code on this machine).
#   bench/parity.sh [METRICS_DIR] [extra train options...]
set -euo pipefail
cd "$(dirname "$0")/.."
metrics=${1:-bench/out/parity-metrics}
shift || true
tag=parity-$(date -u +%Y%m%d%H%M%S)
for v in scratch concise; do
  for s in 0 1 2; do
    ./submit.sh --master "local[2]" train --workers 2 --variant "$v" --seed "$s" --metrics "$metrics" \
      --run-id "$tag-$v-s$s" "$@" | grep -E '^done'
  done
done
./submit.sh sql "SELECT run_id, round(avg(CASE WHEN epoch >= 8 THEN test_acc END), 4) AS test_acc_ep8_10,
    round(max(CASE WHEN epoch = 10 THEN test_acc END), 4) AS test_acc_ep10,
    round(max(CASE WHEN epoch = 10 THEN train_loss END), 4) AS train_loss_ep10,
    round(max(CASE WHEN epoch = 10 THEN train_acc END), 4) AS train_acc_ep10
  FROM metrics WHERE run_id LIKE '$tag%' GROUP BY run_id ORDER BY run_id" --metrics "$metrics"
./submit.sh sql "SELECT variant, round(avg(CASE WHEN epoch >= 8 THEN test_acc END), 4) AS mean_test_acc_ep8_10
  FROM metrics WHERE run_id LIKE '$tag%' GROUP BY variant ORDER BY variant" --metrics "$metrics"
./submit.sh sql "SELECT variant, epoch, round(avg(train_loss), 4) AS train_loss, round(avg(train_acc), 4) AS train_acc,
    round(avg(test_acc), 4) AS test_acc, round(min(test_acc), 4) AS test_min, round(max(test_acc), 4) AS test_max,
    round(avg(train_seconds), 2) AS train_s
  FROM metrics WHERE run_id LIKE '$tag%' GROUP BY variant, epoch ORDER BY variant, epoch" --metrics "$metrics"
echo "runs: $tag-*  (plot: ./submit.sh plot --metrics $metrics --run-id $tag-scratch-s0 --run-id $tag-concise-s0)"
