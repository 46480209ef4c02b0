#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test.
#
#   bash launch/test.sh            # all tests (debug build; kernels are optimised even there)
#   TANDEM_TEST_RELEASE=1 bash launch/test.sh   # the same tests against a release build
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
# Real tables, arrays and token files for RealDataTests (scikit-learn's data, Shakespeare).
python3 launch/make_table_data.py > /dev/null

echo "== formatting (swift format lint --strict, the project's .swift-format)"
# Every Swift file but the generated protocol buffer code.
git ls-files -z 'Sources/*.swift' 'Tests/*.swift' ':!:*.pb.swift' \
    | xargs -0 swift format lint --strict --configuration .swift-format

echo "== image test fixtures: written by Pillow at test time (launch/make_image_fixtures.py)"
python3 -c "import PIL, numpy, sklearn" 2>/dev/null || python3 -m pip install --quiet Pillow numpy scikit-learn
# ONNXTests run launch/check_onnx.py: onnx's checker and onnxruntime on every zoo model's export.
python3 -c "import onnx, onnxruntime" 2>/dev/null || python3 -m pip install --quiet onnx onnxruntime numpy
# Without this the image tests skip when python3 or Pillow is missing; here they must run.
export TANDEM_REQUIRE_IMAGE_FIXTURES=1

echo "== build (all targets and tests)"
mode=(); [[ "${TANDEM_TEST_RELEASE:-0}" == 1 ]] && mode=(-c release -Xswiftc -enable-testing)
swift build --build-tests "${mode[@]}"

echo "== unit tests"
swift test --skip-build "${mode[@]}"

echo "== command-line smoke checks"
bin=$(swift build "${mode[@]}" --show-bin-path)
"$bin/tandem" info
# The benchmark verifies its product against a naive reference before timing; odd sizes on purpose.
"$bin/tandem-bench" gemm --m 67 --n 131 --k 45 --threads 2 --runs 3 --json
"$bin/tandem-bench" gemm --m 33 --n 17 --k 300 --trans-a --trans-b --runs 3 --json
# An attention head's products, causal masks included (each checked the same way).
"$bin/tandem-bench" gemm --m 41 --n 37 --k 23 --trans-b --head lower-columns --runs 3 --json
"$bin/tandem-bench" gemm --m 41 --n 19 --k 41 --trans-a --head upper-depth --runs 3 --json
# A step's GEMM FLOPs, counted in the kernel, equal the MLP's by hand at batch 2, width 8:
# forward and weight gradients for all three layers, input gradients for the last two only.
"$bin/tandem-bench" step --workload mlp_fmnist_b64 --batch 2 --width 8 --steps 1 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
layers = [2 * 2 * 784 * 8, 2 * 2 * 8 * 4, 2 * 2 * 4 * 10]
expected = 2 * sum(layers) + sum(layers[1:])
assert (r["batch"], r["width"]) == (2, 8), r
assert round(r["gemm_gflop_per_step"] * 1e9) == expected, (r["gemm_gflop_per_step"], expected)
assert 1 <= r["memory_ratio"] < 1.3 and r["peak_rss_mb"] >= r["baseline_rss_mb"] > 0, r
assert r["forward_backward_ms"] > 0 and r["update_ms"] > 0 and r["tail_ms"] == 0, r
print("step: GEMM FLOPs", expected, "as counted by hand; memory ratio", round(r["memory_ratio"], 3))'
# The sharded optimizer's communication on two ranks, checked before it is timed (every
# element the sum), and a sharded step with a bf16 wire (every rank holding the same
# parameters after a step; the benchmark aborts otherwise).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun -np 2 --oversubscribe --bind-to none "$bin/tandem-bench" allreduce --bytes 100004 --runs 3 --shard-optimizer --json
mpirun -np 2 --oversubscribe --bind-to none "$bin/tandem-bench" step --workload mlp_fmnist_b64 --batch 4 --width 16 --steps 2 \
    --shard-optimizer --wire bf16 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["sharded"] and r["world"] == 2 and r["wire"] == "bf16", r
print("sharded step on 2 ranks:", r["ms_per_step"], "ms")'
# Precisions side by side: one step of each in turn, each with its own time and memory; the
# GPT's activations are stored in 16 bits under autocast, so they must come out smaller.
"$bin/tandem-bench" step --workload chargpt_shakespeare_b32_t64 --batch 2 --context 8 --width 8 --steps 2 \
    --precision fp32,fp16,bf16 --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r["side_by_side"]
assert [e["precision"] for e in s] == ["fp32", "fp16", "bf16"] and s[0]["ms_per_step"] == r["ms_per_step"], r
assert s[0]["ratio_to_first"] == 1 and all(e["ms_per_step"] > 0 for e in s), s
assert s[1]["activation_mb"] == s[2]["activation_mb"] < s[0]["activation_mb"] == r["activation_mb"], s
print("side by side:", ", ".join("%s x%.2f" % (e["precision"], e["ratio_to_first"]) for e in s))'
if "$bin/tandem-bench" step --precision fp32,fp32 2>/dev/null; then
    echo "error: tandem-bench step accepted a precision twice" >&2; exit 1
fi
if "$bin/tandem-bench" step --workload chargpt_shakespeare_b32_t64 --width 10 2>/dev/null; then
    echo "error: tandem-bench step accepted a GPT width that 4 heads do not divide" >&2; exit 1
fi
echo "== a short training run; its model.safetensors read by Python's safetensors"
python3 -c "import safetensors" 2>/dev/null || python3 -m pip install --quiet safetensors numpy
run=$(mktemp -d)/run
"$bin/tandem" train configs/synthetic_smoke.yaml --run-dir "$run" --set logging.progress=none --set logging.histograms_every_steps=10
python3 launch/check_safetensors.py "$run/model.safetensors" hidden.0.weight:32,20 hidden.0.bias:32 output.weight:4,32 output.bias:4
"$bin/tandem" eval "$run" --split test
echo "== its last checkpoint: verified by tandem inspect, read back by Python's safetensors"
checkpoint=$(cat "$run/checkpoints/latest")
"$bin/tandem" inspect "$run/checkpoints/$checkpoint" --values 5 | tee "$run/inspect.txt"
python3 launch/check_checkpoint.py "$run/checkpoints/$checkpoint" < "$run/inspect.txt"
"$bin/tandem" export "$run" --to "$run/exported.safetensors"
python3 launch/check_safetensors.py "$run/exported.safetensors" hidden.0.weight:32,20 output.bias:4
echo "== its ONNX export, checked by onnx's full checker and run by onnxruntime"
# ONNXTests (in the unit tests above) compare every zoo model's export with Tandem's outputs.
"$bin/tandem" export "$run" --format onnx
python3 - "$run/model.onnx" <<'PY'
import sys, numpy as np, onnx, onnxruntime as ort
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
logits, = ort.InferenceSession(sys.argv[1]).run(["logits"], {"input": np.zeros((5, 20), np.float32)})
assert logits.shape == (5, 4), logits.shape
print("model.onnx: opset", model.opset_import[0].version, "logits", logits.shape)
PY
echo "== its int8 form: tandem quantize, tandem eval --int8 and the QDQ ONNX export"
"$bin/tandem" quantize "$run" --form layers
"$bin/tandem" eval "$run" --int8 --split test
"$bin/tandem" export "$run" --format onnx --int8
python3 - "$run/model.int8.onnx" <<'PY'
import sys, numpy as np, onnx, onnxruntime as ort
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
ops = {n.op_type for n in model.graph.node}
assert {"QuantizeLinear", "DequantizeLinear"} <= ops, ops
logits, = ort.InferenceSession(sys.argv[1]).run(["logits"], {"input": np.zeros((3, 20), np.float32)})
assert logits.shape == (3, 4), logits.shape
print("model.int8.onnx:", sum(n.op_type == "QuantizeLinear" for n in model.graph.node), "QuantizeLinear nodes")
PY
echo "== its TensorBoard event file, read by TensorBoard's own event reader"
python3 -c "import tensorboard" 2>/dev/null || python3 -m pip install --quiet tensorboard
python3 launch/check_tensorboard.py "$run" hidden.0.weight:640 output.bias:4
echo "== tandem report, loaded and screenshotted by headless Chromium"
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
"$bin/tandem" report "$run"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1400 \
    --screenshot="$run/report.png" "file://$run/report.html" 2>/dev/null
python3 launch/check_report_screenshot.py "$run/report.png"
if [[ $(uname -m) == x86_64 ]]; then
    echo "== the GEMM inner loop is FMA on 256-bit registers"
    # Without the AVX2/FMA build flags Swift lowers addingProduct to calls to fmaf (~100x slower).
    objdump -d --no-show-raw-insn "$bin/tandem-bench" > "$bin/tandem-bench.dis"
    fma=$(grep -c 'vfmadd231ps.*ymm' "$bin/tandem-bench.dis" || true)
    calls=$(grep -c 'call.*<fmaf' "$bin/tandem-bench.dis" || true)
    echo "vfmadd231ps ymm instructions: $fma; calls to fmaf: $calls"
    if (( fma < 12 || calls > 0 )); then echo "error: kernels were built without AVX2/FMA; check the flags in Package.swift" >&2; exit 1; fi
fi
echo "== Examples/CustomModel: its own model and dataset, trained through the Tandem product on 2 ranks"
example_start=$SECONDS
swift format lint --strict --configuration .swift-format Examples/CustomModel/Package.swift \
    Examples/CustomModel/Sources/CustomModel/*.swift
# Its own .build inside the example (ignored by git): the first build compiles Tandem again.
example_log=$(mktemp)
if ! swift build --package-path Examples/CustomModel > "$example_log" 2>&1 \
    || grep -q "Examples/CustomModel/Sources/.*warning:" "$example_log"; then
    grep -E "error|Examples/CustomModel/Sources/.*warning:" "$example_log" >&2 || tail -30 "$example_log" >&2
    echo "error: Examples/CustomModel does not build cleanly (above)" >&2
    exit 1
fi
grep -E "Build complete" "$example_log"
example_bin=$(swift build --package-path Examples/CustomModel --show-bin-path)/CustomModel
example_run=$(mktemp -d)/shapes
mpirun -np 2 --oversubscribe --bind-to none "$example_bin" "$example_run" logging.progress=none
python3 launch/check_example_run.py "$example_run" 2
# The same command again on a run that ended after its first epoch continues it (resume: .auto).
example_resumed=$(mktemp -d)/shapes
mpirun -np 2 --oversubscribe --bind-to none "$example_bin" "$example_resumed" logging.progress=none \
    training.epochs=1 > /dev/null
mpirun -np 2 --oversubscribe --bind-to none "$example_bin" "$example_resumed" logging.progress=none \
    | tee "$example_resumed.out"
grep -q "resumed from $example_resumed/checkpoints/step-00000032 at step 32" "$example_resumed/train.log"
grep -q "after 96 steps" "$example_resumed.out"
python3 launch/check_example_run.py "$example_resumed" 2
# A wrong override is named with the keys there are, and nothing trains.
if "$example_bin" "$example_resumed-bad" optimizer.momentun=0.9 2> "$example_resumed.err"; then
    echo "error: CustomModel accepted the unknown key optimizer.momentun" >&2; exit 1
fi
grep -q "unknown key optimizer.momentun (did you mean momentum?)" "$example_resumed.err"
echo "example: built and trained in $((SECONDS - example_start)) s"
echo "== the API documentation (DocC), without a warning"
bash launch/docs.sh
echo "== every Swift block in README.md and docs/*.md, built against the package"
bash launch/check_snippets.sh
echo "launch/test.sh: all checks passed"
