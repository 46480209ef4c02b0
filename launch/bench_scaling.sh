#!/usr/bin/env bash
# Usage: [PAIRS=5] [STEPS=300] [SETTLE=3] [SHARDED=1] [MPI=1] bash launch/bench_scaling.sh [WORKLOAD...]
# 1 rank x 1 thread against 2 ranks x 1 thread, alternating, and the medians per workload:
# the scaling efficiency, the communication the 2-rank step waited for (exposed), and memory
# per rank (peak tensor storage against parameters + gradients + optimizer state +
# activations, and the peak resident set with the runtime's own share before any tensor).
# STEPS applies to every workload; without it each gets enough steps for a few seconds.
# Each run starts SETTLE seconds after the last (see bench_pytorch.sh). SHARDED=1 adds a third
# run to each round, 2 ranks with the optimizer sharded (--shard-optimizer, ZeRO stage 1).
# MPI=1 adds one with gradients summed by MPI_Allreduce rather than through shared memory
# (--shared-memory false; the plain 2-rank run uses shared memory, the default on one node).
# Around each 2-rank run, launch/bench/fma_pair.c measures the machine's own two-core
# efficiency (a register-only FMA loop on both vCPUs at once against one alone): this VM's
# vCPUs are at times two hardware threads of one core, when no program scales. Each round also
# runs the 1-rank step in two unrelated processes at once (no MPI, nothing shared): the slower
# of the two is the ceiling a 2-rank step of this workload could reach on this machine right
# then, with communication free. The gap between it and the 2-rank step is Tandem's own.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PAIRS=${PAIRS:-5}
workloads=("$@"); [ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64 lenet5_fmnist_b64)
declare -A own=([mlp_fmnist_b64]=300 [lenet5_fmnist_b64]=100 [chargpt_shakespeare_b32_t64]=10 [charlstm_shakespeare_b32_t64]=30)
swift build -c release --product tandem-bench >/dev/null
bench=.build/release/tandem-bench
out=$(mktemp) pair=$(mktemp -u)
command -v gcc >/dev/null || { apt-get update && apt-get install -y gcc; } >/dev/null
gcc -O2 -mavx2 -mfma -pthread launch/bench/fma_pair.c -o "$pair"
machine() { "$pair" 1 | awk -v w="$1" 'NR == 2 { print "{\"fma_pair\": " $5 ", \"workload\": \"" w "\"}" }' >> "$out"; }
for w in "${workloads[@]}"; do
  steps=${STEPS:-${own[$w]:-100}}
  for _ in $(seq "$PAIRS"); do
    sleep "${SETTLE:-3}"
    $bench step --workload "$w" --threads 1 --steps "$steps" --json >> "$out"
    sleep "${SETTLE:-3}"
    machine "$w"
    mpirun -np 2 --bind-to none $bench step --workload "$w" --threads 1 --steps "$steps" --json >> "$out"
    machine "$w"
    sleep "${SETTLE:-3}"
    { $bench step --workload "$w" --threads 1 --steps "$steps" --json &
      $bench step --workload "$w" --threads 1 --steps "$steps" --json; wait; } | sed 's/^{/{"unrelated": true, /' >> "$out"
    if [ "${SHARDED:-0}" = 1 ]; then
      sleep "${SETTLE:-3}"
      mpirun -np 2 --bind-to none $bench step --workload "$w" --threads 1 --steps "$steps" --shard-optimizer --json >> "$out"
    fi
    if [ "${MPI:-0}" = 1 ]; then
      sleep "${SETTLE:-3}"
      mpirun -np 2 --bind-to none $bench step --workload "$w" --threads 1 --steps "$steps" --shared-memory false --json >> "$out"
    fi
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs, pairs, unrelated = {}, {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "fma_pair" in r:
        pairs.setdefault(r["workload"], []).append(r["fma_pair"])
        continue
    if r.get("unrelated"):
        unrelated.setdefault(r["workload"], []).append(r["ms_per_step"])
        continue
    world = "2 sharded" if r["sharded"] else "2 MPI" if r["world"] == 2 and not r["shared_memory"] else r["world"]
    runs.setdefault(r["workload"], {}).setdefault(world, []).append(r)
med = lambda rs, key: statistics.median(r[key] for r in rs)
print("| workload | 1 x 1 ms/step | 2 x 1 ms/step | efficiency | exposed communication (2 x 1) | two unrelated 1 x 1 at once: slower ms/step, efficiency | the machine's two-core efficiency around the 2 x 1 runs |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for w, by in runs.items():
    a = med(by[1], "ms_per_step")
    both = unrelated.get(w, [])
    slower = statistics.median(max(both[i:i + 2]) for i in range(0, len(both) - 1, 2)) if len(both) > 1 else None
    ceiling = f"{slower:.3f}, {a / slower:.3f}" if slower else ""
    for world in [2, "2 MPI", "2 sharded"]:
        if world not in by: continue
        b, e = med(by[world], "ms_per_step"), med(by[world], "exposed_comm_ms")
        name = {2: w, "2 MPI": f"{w}, through MPI_Allreduce", "2 sharded": f"{w}, optimizer sharded"}[world]
        machine = ", ".join(f"{p:.2f}" for p in pairs.get(w, [])) if world == 2 else ""
        print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.3f} | {1000 * e:.1f} µs ({100 * e / b:.3f}%) | {ceiling if world == 2 else ''} | {machine} |")
print()
print("| workload | parameters + gradients + optimizer state + batch MB | activations MB | sum MB | peak tensors MB | ratio | peak RSS MB (before tensors) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for w, by in runs.items():
    for world, rs in sorted(by.items(), key=lambda kv: str(kv[0])):
        s, act, peak = med(rs, "state_mb"), med(rs, "activation_mb"), med(rs, "peak_tensor_mb")
        rss, base = med(rs, "peak_rss_mb"), med(rs, "baseline_rss_mb")
        print(f"| {w} ({world} x 1) | {s:.1f} | {act:.1f} | {s + act:.1f} | {peak:.1f} | {peak / (s + act):.2f} | {rss:.0f} ({base:.0f}) |")
PY
rm -f "$out" "$pair"
