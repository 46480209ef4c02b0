#!/usr/bin/env bash
# The main job: installs what is missing, builds in release mode, and trains under mpirun.
#
# usage: launch/train.sh [CONFIG] [-np N] [tandem train options...]
#   launch/train.sh                                   # LeNet-5 on Fashion-MNIST, one rank per core
#   launch/train.sh configs/mlp_fmnist.yaml -np 4     # more ranks than cores is allowed
#   launch/train.sh configs/lenet5_fmnist.yaml --set optimizer.lr=0.02 --run-dir runs/lr002
#
# Rank 0 prints progress, then the test accuracy and the run directory (config.yaml,
# metrics.jsonl, train.log, model.safetensors). Threads per rank: cores / ranks.
# A failed build stops with its error and status 1. SIGTERM, SIGINT (Ctrl-C) or SIGUSR1 to this
# script or to mpirun stops every rank at a step boundary with a checkpoint, and the script exits
# 75; the ranks get TANDEM_STOP_GRACE_SECONDS (default 60) to write it (see docs/CHECKPOINTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
source launch/mpijob.sh

config=configs/lenet5_fmnist.yaml
if [[ $# -gt 0 && $1 != -* ]]; then config=$1; shift; fi
nprocs=$(nproc)
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        -np|--np) nprocs=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) extra+=("$1"); shift ;;
    esac
done
if ! [[ $nprocs =~ ^[1-9][0-9]*$ ]]; then echo "error: -np takes a positive number of processes, got '$nprocs'" >&2; exit 2; fi
if [[ ! -f $config ]]; then echo "error: config $config not found; the shipped ones are: $(ls configs/*.yaml | tr '\n' ' ')" >&2; exit 2; fi

echo "== build (release)"
# A failed build must stop here: an older binary may still be in place and would train as if nothing broke.
build_status=0
build_log=$(swift build -c release --product tandem 2>&1) || build_status=$?
if ((build_status != 0)); then
    grep -E "error:" <<<"$build_log" >&2 || tail -n 20 <<<"$build_log" >&2
    echo "error: the release build failed (status $build_status), so nothing was trained; fix the error above," \
        "or run 'swift build -c release --product tandem' to see the whole output" >&2
    exit 1
fi
grep -E "Compiling tandem|[Cc]omplete" <<<"$build_log" || true
bin=$(swift build -c release --show-bin-path)/tandem
if [[ ! -x $bin ]]; then
    echo "error: the release build reported success but left no $bin; run 'swift build -c release' to see why" >&2
    exit 1
fi

# mpirun gives every rank a pseudo-terminal, so tell rank 0 whether ours is one.
progress=plain; [[ -t 1 ]] && progress=auto
echo "== training $config on $nprocs processes"
tandem_mpijob -np "$nprocs" --oversubscribe --bind-to none --map-by slot \
    "$bin" train "$config" --set logging.progress=$progress "${extra[@]}"
