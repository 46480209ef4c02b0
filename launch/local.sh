#!/usr/bin/env bash
# N processes on this node.
#
# usage: launch/local.sh NPROCS PROGRAM [ARGS...]
#   e.g. launch/local.sh 2 .build/release/tandem-bench step --workload lenet5_fmnist_b64 --json
#
# Threads per rank default to the cores on the node divided by NPROCS (Tandem reads Open MPI's
# OMPI_COMM_WORLD_LOCAL_SIZE); set TANDEM_NUM_THREADS to override. More ranks than cores are
# allowed (--oversubscribe), which is how the tests run 3 and 4 ranks on 2 cores.
# SIGTERM or SIGINT to this script or to mpirun stops `tandem train` at a step boundary with a
# checkpoint and exit status 75, within TANDEM_STOP_GRACE_SECONDS (default 60; docs/CHECKPOINTS.md).
set -euo pipefail
if [[ $# -lt 2 ]]; then sed -n '2,11p' "$0" >&2; exit 2; fi
cd "$(dirname "$0")/.."
source launch/setup.sh
source launch/mpijob.sh
nprocs=$1; shift
tandem_mpijob -np "$nprocs" --oversubscribe --bind-to none --map-by slot "$@"
