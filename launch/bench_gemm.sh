#!/usr/bin/env bash
# tandem-bench gemm against numpy/OpenBLAS, side by side in one run, on the shapes of
# docs/BENCHMARKS.md ("GEMM against OpenBLAS") and the small GEMMs of the four reference workloads. Prints a Markdown table.
#
#   bash launch/bench_gemm.sh [threads...]     (default: 1 2)
#   REPS=5 bash launch/bench_gemm.sh           (runs per pair, alternating; default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
python3 -c "import numpy" 2>/dev/null || pip install --quiet numpy
swift build -c release --product tandem-bench >/dev/null
bench=.build/release/tandem-bench

# m n k  label
shapes=(
  "1024 1024 1024 square 1024"
  "2048 2048 2048 square 2048"
  "256 512 784 M256 K784 N512"
  "64 256 784 mlp fc1 forward"
  "64 784 256 mlp fc1 input grad"
  "256 784 64 mlp fc1 weight grad"
  "2048 384 128 chargpt qkv"
  "2048 128 512 chargpt mlp proj"
  "32 1024 256 charlstm step"
  "2048 1024 128 charlstm input proj"
  "6 25088 25 lenet conv1 (32-image chunk)"
  "16 3200 150 lenet conv2 (32-image chunk)"
  "64 120 400 lenet fc1"
)
threads=("${@:-1 2}")
[[ $# -eq 0 ]] && threads=(1 2)
echo "| shape | m | n | k | threads | tandem GFLOP/s | numpy GFLOP/s | ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
median() { python3 -c "import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
gflops() { python3 -c "import json,sys; print(json.load(sys.stdin)['gflops'])"; }
# Each pair runs REPS times, alternating, and reports medians: the machine is shared and noisy.
for t in "${threads[@]}"; do
  for s in "${shapes[@]}"; do
    read -r m n k label <<<"$s"
    ours=(); peer=()
    for ((rep = 0; rep < ${REPS:-3}; rep++)); do
      ours+=("$("$bench" gemm --m "$m" --n "$n" --k "$k" --threads "$t" --json | gflops)")
      peer+=("$(OPENBLAS_NUM_THREADS=$t python3 launch/bench/gemm_numpy.py --m "$m" --n "$n" --k "$k" --threads "$t" | gflops)")
    done
    o=$(median "${ours[@]}"); p=$(median "${peer[@]}")
    python3 -c "print(f'| $label | $m | $n | $k | $t | {$o:.1f} | {$p:.1f} | {$o/$p:.2f} |')"
  done
done
