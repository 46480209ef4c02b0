#!/usr/bin/env bash
# Usage: [ROUNDS=2] [OLD=path/to/another/tandem-bench] bash launch/bench_precision.sh [WORKLOAD:STEPS...]
# tandem-bench step on the four reference workloads: fp32, fp16 and bf16 on 1 thread, fp32 on
# 2 threads and fp32 on 2 ranks x 1 thread (mpirun), ROUNDS rounds run alternately; with OLD,
# that build runs each setting right after. Then fp32, fp16 and bf16 side by side in one
# process (`--precision fp32,fp16,bf16`: one step of each in turn), which the VM's slow
# minutes cannot favour one of.
# Prints one line per run: build workload precision threads ms_per_step peak_rss_mb, where
# threads is 1t, 2t or 2x1 (rank 0's step on 2 ranks); and per side-by-side run, one line per
# precision: build workload precision side-by-side ms_per_step ratio_to_fp32 peak_tensor_mb.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build -c release --product tandem-bench >/dev/null
B=.build/release/tandem-bench
ms() { sed -n 's/.*"ms_per_step":\([0-9.]*\).*"peak_rss_mb":\([0-9.]*\).*/\1 \2/p'; }
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64:300 lenet5_fmnist_b64:60 chargpt_shakespeare_b32_t64:10 charlstm_shakespeare_b32_t64:10)
run() {  # build-label binary workload steps precision threads [ranks]
  local ranks=${7:-1} label="$6t" launch=()
  if [ "$ranks" -gt 1 ]; then label="${ranks}x$6"; launch=(mpirun -np "$ranks"); fi
  echo "$1 $3 $5 $label $("${launch[@]}" "$2" step --workload "$3" --steps "$4" --precision "$5" --threads "$6" --json | ms)"
}
side_by_side() {  # build-label binary workload steps
  "$2" step --workload "$3" --steps "$4" --precision fp32,fp16,bf16 --threads 1 --json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["side_by_side"]:
    print(sys.argv[1], sys.argv[2], e["precision"], "side-by-side", e["ms_per_step"], round(e["ratio_to_first"], 3), round(e["peak_tensor_mb"], 2))' "$1" "$3"
}
for _ in $(seq "${ROUNDS:-2}"); do
  for entry in "${workloads[@]}"; do
    w=${entry%%:*} steps=${entry##*:}
    for setting in "fp32 1" "fp16 1" "bf16 1" "fp32 2" "fp32 1 2"; do
      set -- $setting
      run new "$B" "$w" "$steps" "$@"
      if [ -n "${OLD:-}" ]; then run old "$OLD" "$w" "$steps" "$@"; fi
    done
    side_by_side new "$B" "$w" "$steps"
  done
done
