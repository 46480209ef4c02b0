#!/usr/bin/env bash
# Usage: [PAIRS=5] [STEPS=300] bash launch/bench_scaling.sh [WORKLOAD...]
# 1 rank x 1 thread against 2 ranks x 1 thread, alternating, and the medians per workload.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PAIRS=${PAIRS:-5}; STEPS=${STEPS:-300}
workloads=("$@"); [ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64 lenet5_fmnist_b64)
swift build -c release --product tandem-bench >/dev/null
bench=.build/release/tandem-bench
ms() { sed -n 's/.*"ms_per_step":\([0-9.e-]*\).*/\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| workload | 1 x 1 ms/step | 2 x 1 ms/step | efficiency |"
echo "| --- | ---: | ---: | ---: |"
for w in "${workloads[@]}"; do
  one=(); two=()
  for _ in $(seq "$PAIRS"); do
    one+=("$($bench step --workload "$w" --threads 1 --steps "$STEPS" --json | ms)")
    two+=("$(mpirun -np 2 $bench step --workload "$w" --threads 1 --steps "$STEPS" --json | ms)")
  done
  a=$(printf '%s\n' "${one[@]}" | median); b=$(printf '%s\n' "${two[@]}" | median)
  echo "| $w | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}') |"
done
