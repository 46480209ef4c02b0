#!/usr/bin/env bash
# Trains every zoo model for a few steps at small widths and runs compare.py on each run: the
# figures of docs/INTEROP.md's PyTorch column. Opt-in (needs torch, numpy, pyyaml and the data
# of launch/prepare_data.sh); not part of CI.
#
#   bash launch/interop/compare_zoo.sh [OUT_DIR]     (default /tmp/tandem-interop)
#
# TANDEM names the binary (default .build/release/tandem, else .build/debug/tandem).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-/tmp/tandem-interop}"
tandem="${TANDEM:-$root/.build/release/tandem}"
[ -x "$tandem" ] || tandem="$root/.build/debug/tandem"
export TANDEM="$tandem" TANDEM_NUM_THREADS="${TANDEM_NUM_THREADS:-1}"
mkdir -p "$out"
short=(--set training.max_steps=6 --set training.test_at_end=false --set logging.progress=none
       --set checkpointing.at_epoch_end=false --set training.max_eval_samples=64)

# name, config, overrides...
run() {
  local name="$1" config="$2"; shift 2
  rm -rf "${out:?}/$name"
  "$tandem" train "$root/configs/$config" --run-dir "$out/$name" "${short[@]}" "$@" > "$out/$name.log" 2>&1 \
    || { echo "$name: training failed, see $out/$name.log"; return 1; }
  python3 "$root/launch/interop/compare.py" "$out/$name" --tandem "$tandem"
}

fm=(--set data.directory=/usr/share/datasets/fashion-mnist)
run mlp mlp_fmnist.yaml "${fm[@]}" --set 'model.hidden_sizes=[32,16]' --set model.dropout=0.1
run mlp_regressor diabetes_csv.yaml --set 'model.hidden_sizes=[16]'
run lenet5 lenet5_fmnist.yaml "${fm[@]}"
run resnet resnet_fmnist.yaml "${fm[@]}" --set 'model.channels=[4,8]' --set model.blocks=2
run mobilenet mobilenet_fmnist.yaml "${fm[@]}" --set 'model.channels=[4,8,8,16]'
run inception inception_fmnist.yaml "${fm[@]}" --set 'model.channels=[4,4,4]'
run char_mlp char_mlp_shakespeare.yaml --set model.hidden_size=32 --set model.embedding_size=8
for kind in rnn lstm gru; do
  run "${kind}_lm" lstm_shakespeare.yaml --set model.name=$kind --set model.hidden_size=16 \
    --set model.embedding_size=8 --set model.layers=2
  run "${kind}_classifier" ${kind}_memory.yaml --set model.hidden_size=16 --set model.layers=2
done
run gpt gpt_shakespeare.yaml --set model.embedding_size=16 --set model.layers=2 --set model.heads=2
run gpt_sinusoidal gpt_shakespeare.yaml --set model.embedding_size=16 --set model.layers=1 --set model.heads=2 \
  --set model.position_encoding=sinusoidal
run vit vit_fmnist.yaml "${fm[@]}" --set model.embedding_size=16 --set model.layers=2 --set model.heads=2
run transformer transformer_reverse.yaml --set model.embedding_size=16 --set model.layers=2 --set model.heads=2
run autoencoder autoencoder_fmnist.yaml "${fm[@]}" --set model.hidden_size=32 --set model.latent_size=4
run vae vae_fmnist.yaml "${fm[@]}" --set model.hidden_size=32 --set model.latent_size=4
run dcgan dcgan_fmnist.yaml "${fm[@]}" --set model.hidden_size=4 --set model.latent_size=8
run sequential_cnn cnn_sequential_fmnist.yaml
recurrent='[{embedding: {dim: 8}}, {lstm: {hidden: 12, layers: 2, keep: sequence}}, {layer_norm: {}},
  {gru: {hidden: 10, keep: sequence}}, {linear: {out: 89, name: head}}]'
run sequential_recurrent lstm_shakespeare.yaml --set model.name=sequential --set "model.layers=$recurrent"
regressor='[{linear: {out: 16}}, {prelu: {}}, {batch_norm: {}}, {linear: {out: 1}}]'
run sequential_regressor diabetes_csv.yaml --set model.name=sequential --set "model.layers=$regressor"
