#!/usr/bin/env bash
# Fine-tuning on real data: LeNet-5 trained on Fashion-MNIST, then fine-tuned on a few of
# scikit-learn's handwritten digits with a new 5-class head and frozen convolutions, against the
# same network trained from scratch on the same images (docs/MODELS.md, "Fine-tuning").
#
# usage: bash launch/finetune.sh [--sweep] [-np N]
#   1. writes the digits image folder (launch/prepare_data.sh) when missing, and from it
#      $TANDEM_DATA_CACHE/digits-0to4-K: the first K training images (by file name) of each of
#      the digits 0-4 and every test image of those digits (K = 10; with --sweep 5, 10 and 20);
#   2. pretrains configs/lenet5_fmnist.yaml into runs/lenet5_fmnist_pretrained (skipped when
#      that run's model.safetensors exists);
#   3. trains configs/lenet5_digits_finetune.yaml into runs/lenet5_digits_finetune, and the same
#      config from scratch (no init_from, nothing frozen, one learning rate) into
#      runs/lenet5_digits_scratch; with --sweep, both for K = 5, 10, 20 and seeds 0 and 1 into
#      runs/finetune_sweep/K-SEED-{finetune,scratch}.
# Each run prints its test accuracy (180 test images) and its run directory.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${TANDEM_DATA_CACHE:-$HOME/.cache/tandem}
sweep=false
np=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --sweep) sweep=true; shift ;;
        -np) [[ $# -ge 2 ]] || { echo "error: -np needs a number" >&2; exit 2; }; np=(-np "$2"); shift 2 ;;
        *) echo "usage: bash launch/finetune.sh [--sweep] [-np N]" >&2; exit 2 ;;
    esac
done

[[ -d $cache/digits-png/train ]] || bash launch/prepare_data.sh
# The first K images of each digit 0-4, and all their test images.
subset() {
    local k=$1 dir=$cache/digits-0to4-$1
    if [[ ! -d $dir ]]; then
        local tmp
        tmp=$(mktemp -d "$cache/.digits-subset-XXXXXX")
        for d in 0 1 2 3 4; do
            mkdir -p "$tmp/train/$d" "$tmp/test/$d"
            ls "$cache/digits-png/train/$d" | sort | head -n "$k" | while read -r f; do
                cp "$cache/digits-png/train/$d/$f" "$tmp/train/$d/"
            done
            cp "$cache/digits-png/test/$d/"* "$tmp/test/$d/"
        done
        mv "$tmp" "$dir"  # whole or not at all: a half-written subset would be reused as it is
    fi
    echo "$dir"
}

mkdir -p runs
if [[ ! -f runs/lenet5_fmnist_pretrained/model.safetensors ]]; then
    rm -rf runs/lenet5_fmnist_pretrained
    launch/train.sh configs/lenet5_fmnist.yaml "${np[@]}" --run-dir runs/lenet5_fmnist_pretrained
fi
scratch=(--set model.init_from=null --set 'training.freeze=[]' --set 'optimizer.groups=[]')
# finetune RUN_DIR K SEED [extra settings]: the config fine-tuned, on K images per digit.
finetune() {
    local dir=$1 k=$2 seed=$3
    shift 3
    rm -rf "$dir"
    launch/train.sh configs/lenet5_digits_finetune.yaml "${np[@]}" --run-dir "$dir" \
        --set data.directory="$(subset "$k")" --set seed="$seed" "$@"
}
if $sweep; then
    for k in 5 10 20; do
        for seed in 0 1; do
            finetune "runs/finetune_sweep/$k-$seed-finetune" "$k" "$seed"
            finetune "runs/finetune_sweep/$k-$seed-scratch" "$k" "$seed" "${scratch[@]}"
        done
    done
else
    finetune runs/lenet5_digits_finetune 10 0
    finetune runs/lenet5_digits_scratch 10 0 "${scratch[@]}"
fi
