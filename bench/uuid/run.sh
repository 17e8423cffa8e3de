#!/usr/bin/env bash
# bench/uuid/run.sh BUILD_DIR — UUIDv7 generation against libuuid.
# Called by scripts/bench, already pinned to CPU 0; the two-thread figure
# needs two CPUs, so that run is re-pinned to CPUs 0,1.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
bin=$build/bench/uuid/bench-uuid

echo "# uuid: one thread, CPU placement inherited from scripts/bench"
"$bin" --rounds 5 --seconds 1
echo "# uuid: two threads, re-pinned: taskset -c 0,1"
taskset -c 0,1 "$bin" --threads 2 --rounds 3 --seconds 1
