#!/usr/bin/env bash
# Usage: [PAIRS=3] [STEPS=40] [SHARDS_PER_RANK="1 2 4"] [BENCH=path] bash launch/bench_determinism.sh [WORKLOAD...]
# Deterministic mode's cost: 2 ranks x 1 thread, the normal step against micro-shards per
# rank (each rank's batch split into that many shards, summed in 64-bit fixed point),
# alternating, with the medians per workload.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PAIRS=${PAIRS:-3}; STEPS=${STEPS:-40}; SHARDS_PER_RANK=${SHARDS_PER_RANK:-"1 2 4"}
workloads=("$@"); [ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64 lenet5_fmnist_b64 chargpt_shakespeare_b32_t64 charlstm_shakespeare_b32_t64)
swift build -c release --product tandem-bench >/dev/null
bench=${BENCH:-.build/release/tandem-bench}
ms() { sed -n 's/.*"ms_per_step":\([0-9.e-]*\).*/\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| workload | shards per rank | normal ms/step | deterministic ms/step | overhead |"
echo "| --- | ---: | ---: | ---: | ---: |"
for w in "${workloads[@]}"; do
  for k in $SHARDS_PER_RANK; do
    normal=(); det=()
    for _ in $(seq "$PAIRS"); do
      normal+=("$(mpirun -np 2 $bench step --workload "$w" --threads 1 --steps "$STEPS" --json | ms)")
      det+=("$(mpirun -np 2 $bench step --workload "$w" --threads 1 --steps "$STEPS" --micro-shards $((2 * k)) --json | ms)")
    done
    a=$(printf '%s\n' "${normal[@]}" | median); b=$(printf '%s\n' "${det[@]}" | median)
    echo "| $w | $k | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%+.1f%%", (b / a - 1) * 100}') |"
  done
done
