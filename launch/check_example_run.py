#!/usr/bin/env python3
"""Checks the run directory of Examples/CustomModel trained under mpirun.

usage: launch/check_example_run.py RUN_DIR RANKS

The run must have trained on RANKS ranks (its last checkpoint says so), its loss must have
fallen (the mean of the last three logged training losses below half the first three's), its
test accuracy must be far above the 0.25 of chance on four balanced classes, its own metric
must be logged, and its
model.safetensors must hold the example's own layers under their property names.
"""
import json
import pathlib
import struct
import sys

run, ranks = pathlib.Path(sys.argv[1]), int(sys.argv[2])


def header(path):
    """The tensors of a safetensors file: name to (dtype, shape)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        entries = json.loads(f.read(length))
    return {k: (v["dtype"], v["shape"]) for k, v in entries.items() if k != "__metadata__"}


tensors = header(run / "model.safetensors")
# ShapeNet(width: 8): the stem, three ResidualBlocks (the last two with a strided 1x1
# shortcut) and the head; BatchNorm's running statistics are saved as buffers.
expected = {
    "stem.weight": [8, 1, 3, 3],
    "blocks.0.conv1.weight": [8, 8, 3, 3],
    "blocks.1.conv1.weight": [16, 8, 3, 3],
    "blocks.1.shortcut.weight": [16, 8, 1, 1],
    "blocks.2.norm2.running_mean": [32],
    "blocks.2.norm2.num_batches_tracked": [],
    "head.weight": [4, 32],
}
for name, shape in expected.items():
    assert name in tensors, f"{name} missing from model.safetensors (it has {sorted(tensors)[:8]}...)"
    assert tensors[name][1] == shape, f"{name}: shape {tensors[name][1]}, expected {shape}"
assert "blocks.0.shortcut.weight" not in tensors, "the first block keeps its width: no shortcut convolution"

lines = [json.loads(line) for line in open(run / "metrics.jsonl")]
losses = [line["loss"] for line in lines if "split" not in line]
assert len(losses) >= 6, f"only {len(losses)} training losses logged"
first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
assert last < first / 2, f"the loss did not fall: first {losses[:3]}, last {losses[-3:]}"
tests = [line for line in lines if line.get("split") == "test"]
assert tests, "no test evaluation in metrics.jsonl"
accuracy = tests[-1]["accuracy"]
assert accuracy > 0.8, f"test accuracy {accuracy}: barely above chance (0.25)"
# The example's own metric, measured beside the built-in ones at every evaluation.
confidence = tests[-1].get("true_class_probability")
assert confidence is not None, "the example's metric true_class_probability is missing from the test line"
assert 0.6 < confidence <= 1, f"true_class_probability {confidence}: the model is unsure of classes it gets right"

latest = (run / "checkpoints" / "latest").read_text().strip()
manifest = json.loads((run / "checkpoints" / latest / "manifest.json").read_text())
assert manifest["world_size"] == ranks, f"trained on {manifest['world_size']} ranks, expected {ranks}"
print(
    f"{run}: {ranks} ranks, training loss {first:.3f} -> {last:.3f} over {len(losses)} logged steps, "
    f"test accuracy {accuracy:.3f} (true class probability {confidence:.3f}), {len(tensors)} tensors in model.safetensors"
)
