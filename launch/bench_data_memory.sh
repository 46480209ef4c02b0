#!/usr/bin/env bash
# Usage: [SIZES_MB="100 1000 3000"] bash launch/bench_data_memory.sh
# Peak resident memory of `tandem train` on a GPT over token files of growing size (uint16 ids,
# memory-mapped, data.name tokens) and over NumPy inputs of growing size (data.name numpy): with
# every rank reading only its windows or rows, the peak stays flat while the file grows past the
# memory a rank would need to hold it. Prints one line per run: kind, file MiB, peak RSS MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tandem >/dev/null
tandem=.build/release/tandem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "kind file_mib peak_rss_mib"
for mb in ${SIZES_MB:-100 1000 3000}; do
    python3 - "$work" "$mb" <<'PY'
import sys, numpy as np
work, mb = sys.argv[1], int(sys.argv[2])
n = mb * 1024 * 1024 // 2
rng = np.random.default_rng(0)
ids = np.empty(n, dtype=np.uint16)
for start in range(0, n, 1 << 24):  # in pieces, so the writer itself stays small
    stop = min(n, start + (1 << 24))
    ids[start:stop] = rng.integers(0, 64, stop - start, dtype=np.uint16)
ids.tofile(f"{work}/train.bin")
ids[: 1 << 16].tofile(f"{work}/val.bin")
rows = mb * 1024 * 1024 // (4 * 64)
x = np.lib.format.open_memmap(f"{work}/x.npy", mode="w+", dtype=np.float32, shape=(rows, 64))
for start in range(0, rows, 1 << 18):
    stop = min(rows, start + (1 << 18))
    x[start:stop] = rng.standard_normal((stop - start, 64), dtype=np.float32)
x.flush()
np.save(f"{work}/y.npy", (np.arange(rows) % 4).astype(np.int64))
PY
    rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
    kib=$(rss "$tandem" train configs/gpt_tokens.yaml --run-dir "$work/run-tokens-$mb" \
        --set data.train="$work/train.bin" --set data.validation="$work/val.bin" --set data.vocab_size=64 \
        --set data.windows_per_epoch=4096 --set training.max_steps=40 --set training.max_eval_samples=256 \
        --set logging.progress=none --set checkpointing.enabled=false)
    echo "tokens $mb $((kib / 1024))"
    kib=$(rss "$tandem" train configs/mlp_digits_numpy.yaml --run-dir "$work/run-numpy-$mb" \
        --set data.inputs="$work/x.npy" --set data.labels="$work/y.npy" --set data.test_inputs=null \
        --set data.test_labels=null --set data.normalize=true --set training.max_steps=200 \
        --set training.max_eval_samples=256 --set logging.progress=none --set checkpointing.enabled=false)
    echo "numpy $mb $((kib / 1024))"
    rm -rf "$work"/*
done
