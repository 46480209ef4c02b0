#!/usr/bin/env bash
# Usage: [ROUNDS=3] [OLD=path/to/another/tandem-bench] bash launch/bench_sequence.sh
# The chargpt and charlstm step benchmarks: fp32, fp16 and bf16 on 1 thread, fp32 on 2 threads
# and on 2 ranks x 1 thread, ROUNDS rounds run alternately; with OLD, that build's fp32 step too.
# Prints one line per run: build workload setting ms_per_step peak_rss_mb.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build -c release --product tandem-bench >/dev/null
B=.build/release/tandem-bench
ms() { sed -n 's/.*"ms_per_step":\([0-9.]*\).*"peak_rss_mb":\([0-9.]*\).*/\1 \2/p'; }
for _ in $(seq "${ROUNDS:-3}"); do
  for w in chargpt_shakespeare_b32_t64 charlstm_shakespeare_b32_t64; do
    if [ -n "${OLD:-}" ]; then echo "old $w 1t $("$OLD" step --workload $w --threads 1 --steps 10 --json | ms)"; fi
    echo "new $w 1t $($B step --workload $w --threads 1 --steps 10 --json | ms)"
    for p in fp16 bf16; do echo "new $w 1t-$p $($B step --workload $w --threads 1 --steps 10 --precision $p --json | ms)"; done
    echo "new $w 2t $($B step --workload $w --threads 2 --steps 10 --json | ms)"
    echo "new $w 2x1 $(mpirun -np 2 $B step --workload $w --threads 1 --steps 10 --json | ms)"
  done
done
