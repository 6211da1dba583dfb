#!/usr/bin/env bash
# Spark's GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs of this node as
# {"name": "gpu", "addresses": ["0", "1", ...]}, from nvidia-smi. With no GPU, or no nvidia-smi, it fails, and so
# does an executor that asked for GPUs: better than training on the CPU unawares.
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null) || { echo "no nvidia-smi or no GPU" >&2; exit 1; }
[ -n "$ids" ] || { echo "no GPU" >&2; exit 1; }
printf '{"name": "gpu", "addresses": [%s]}\n' "$(echo "$ids" | sed 's/.*/"&"/' | paste -sd, -)"
