#!/usr/bin/env bash
# Usage: [ROUNDS=3] [SETTLE=3] bash launch/bench_pytorch.sh [WORKLOAD:STEPS...]
# tandem-bench step against PyTorch's CPU step (Tests/PyTorchReference/step.py) on the
# reference workloads, 1 and 2 threads, run alternately ROUNDS times on this machine.
# Installs PyTorch from PyPI when it is missing (a benchmark dependency only; training never
# imports it). Prints one line per run (impl workload threads ms_per_step), then per workload
# and thread count the medians and Tandem's time as a fraction of PyTorch's (target <= 0.8),
# and the median of each round's own ratio: a Tandem run and the PyTorch run right after it
# see the same machine, where the VM's slow periods come and go between rounds.
# Each run starts SETTLE seconds after the last one ended: on this VM a run that follows
# another straight away was up to 15% slower (GPT, 2 threads: 105 ms right after PyTorch,
# 90 ms ten seconds later), whichever of the two came first.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import torch" 2>/dev/null || python3 -m pip install --quiet "torch==2.15.0"
swift build -c release --product tandem-bench >/dev/null
B=.build/release/tandem-bench
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64:300 lenet5_fmnist_b64:60 chargpt_shakespeare_b32_t64:10 charlstm_shakespeare_b32_t64:20)
ms() { sed -n 's/.*"ms_per_step": *\([0-9.]*\).*/\1/p'; }
out=$(mktemp)
for _ in $(seq "${ROUNDS:-3}"); do
  for entry in "${workloads[@]}"; do
    w=${entry%%:*} steps=${entry##*:}
    for t in 1 2; do
      sleep "${SETTLE:-3}"
      echo "tandem $w $t $("$B" step --workload "$w" --steps "$steps" --threads "$t" --json | ms)" | tee -a "$out"
      sleep "${SETTLE:-3}"
      echo "pytorch $w $t $(python3 Tests/PyTorchReference/step.py --workload "$w" --steps "$steps" --threads "$t" | ms)" | tee -a "$out"
    done
  done
done
python3 launch/bench/medians.py "$out" tandem pytorch
rm -f "$out"
