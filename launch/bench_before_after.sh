#!/usr/bin/env bash
# Usage: [ROUNDS=3] [SETTLE=3] [THREADS="1 2"] bash launch/bench_before_after.sh REV [WORKLOAD:STEPS...]
# tandem-bench step at commit REV ("before") against the working tree ("after") on the reference
# workloads, alternating ROUNDS times, for a refactor that must not change speed. REV is built
# in release mode in a scratch worktree outside the repository. Prints one line per run
# (version workload threads ms_per_step), then per workload and thread count the medians and
# after / before, and the median of each round's own ratio (the two runs of a round see the
# same machine; the VM's slow periods come and go between rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bash launch/bench_before_after.sh REV [WORKLOAD:STEPS...]}
shift
scratch=${TMPDIR:-/tmp}/tandem-before-$(git rev-parse --short "$rev")
[ -d "$scratch" ] || git worktree add --detach "$scratch" "$rev" >/dev/null
(cd "$scratch" && swift build -c release --product tandem-bench >/dev/null)
swift build -c release --product tandem-bench >/dev/null
before=$scratch/.build/release/tandem-bench after=.build/release/tandem-bench
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(mlp_fmnist_b64:300 lenet5_fmnist_b64:60 chargpt_shakespeare_b32_t64:10 charlstm_shakespeare_b32_t64:20)
ms() { sed -n 's/.*"ms_per_step": *\([0-9.]*\).*/\1/p'; }
out=$(mktemp)
for round in $(seq "${ROUNDS:-3}"); do
  for entry in "${workloads[@]}"; do
    w=${entry%%:*} steps=${entry##*:}
    for t in ${THREADS:-1 2}; do
      # Alternate which version goes first, so neither always follows the other.
      order=(before after); ((round % 2)) || order=(after before)
      for v in "${order[@]}"; do
        sleep "${SETTLE:-3}"
        bin=$before; [ "$v" = after ] && bin=$after
        echo "$v $w $t $("$bin" step --workload "$w" --steps "$steps" --threads "$t" --json | ms)" | tee -a "$out"
      done
    done
  done
done
python3 launch/bench/medians.py "$out" after before
rm -f "$out"
