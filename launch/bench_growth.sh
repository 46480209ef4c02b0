#!/usr/bin/env bash
# Usage: [THREADS=1] bash launch/bench_growth.sh [WORKLOAD...]
# Cost growth: tandem-bench step against batch size, sequence length and model
# width, one size changed at a time from the workload's own. Prints one markdown table per
# sweep: ms per step, the GEMMs' GFLOP per step and GFLOP/s, and the time and FLOP growth
# relative to the workload's own size (time growing faster than FLOPs is super-linear).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tandem-bench >/dev/null
B=.build/release/tandem-bench
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64 lenet5_fmnist_b64 chargpt_shakespeare_b32_t64 charlstm_shakespeare_b32_t64)
declare -A steps=([mlp_fmnist_b64]=100 [lenet5_fmnist_b64]=20 [chargpt_shakespeare_b32_t64]=5 [charlstm_shakespeare_b32_t64]=10)
# option, its values, the workload's own value
sweeps() {
  case $1 in
    mlp_fmnist_b64) echo "batch 16,32,64,128,256 64"; echo "width 128,256,512,1024 256" ;;
    lenet5_fmnist_b64) echo "batch 16,32,64,128,256 64" ;;
    chargpt_shakespeare_b32_t64) echo "batch 8,16,32,64 32"; echo "context 16,32,64,128,256 64"; echo "width 64,128,256 128" ;;
    charlstm_shakespeare_b32_t64) echo "batch 8,16,32,64 32"; echo "context 16,32,64,128,256 64"; echo "width 128,256,512 256" ;;
  esac
}
for w in "${workloads[@]}"; do
  while read -r option values own; do
    out=$(mktemp)
    for v in ${values//,/ }; do
      "$B" step --workload "$w" --threads "${THREADS:-1}" --steps "${steps[$w]}" --"$option" "$v" --json >> "$out"
    done
    python3 - "$out" "$w" "$option" "$own" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
w, option, own = sys.argv[2], sys.argv[3], int(sys.argv[4])
base = next(r for r in rows if r[option] == own)
print(f"\n{w}, {option} (threads {rows[0]['threads']}):\n")
print(f"| {option} | ms/step | GEMM GFLOP/step | GEMM GFLOP/s | time x | GEMM FLOP x | peak tensors MB |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    t, f = r["ms_per_step"] / base["ms_per_step"], r["gemm_gflop_per_step"] / base["gemm_gflop_per_step"]
    print(f"| {r[option]} | {r['ms_per_step']:.2f} | {r['gemm_gflop_per_step']:.3f} | {r['gemm_gflops']:.1f} | {t:.2f} | {f:.2f} | {r['peak_tensor_mb']:.1f} |")
PY
    rm -f "$out"
  done < <(sweeps "$w")
done
