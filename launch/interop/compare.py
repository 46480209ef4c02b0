#!/usr/bin/env python3
"""Loads a Tandem model file into its torch.nn definition with strict=True and compares the
outputs of the two on the same inputs.

    python3 launch/interop/compare.py RUN_OR_FILE [--tandem PATH] [--count N] [--tolerance T]

RUN_OR_FILE is a run directory (its model.safetensors) or a .safetensors file (a `tandem export`
of a checkpoint, say) with the run's config.yaml beside it. `tandem interop-outputs` writes the
run's inputs and Tandem's outputs as .npy files; the torch model (launch/interop/models.py) is
built from config.yaml, the sizes in outputs.json and the file's shapes, loads the file with
load_state_dict(strict=True), and runs on the same inputs. Prints the largest absolute and
relative difference of each output; exits 1 when a relative difference exceeds --tolerance.
Needs torch, numpy and PyYAML (opt-in: not part of CI; see docs/INTEROP.md).
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import numpy as np
    import torch
    import yaml
except ImportError as missing:
    sys.exit(f"compare.py needs torch, numpy and PyYAML ({missing}): pip install torch numpy pyyaml")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zoo import build  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "I64": np.int64, "I8": np.int8, "U8": np.uint8}


def read_safetensors(path):
    """The tensors (name -> numpy array) and metadata of a safetensors file."""
    data = Path(path).read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        raw = data[8 + length + start:8 + length + end]
        tensors[name] = np.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"]).copy()
    return tensors, metadata


def find_tandem(given):
    if given:
        return given
    if os.environ.get("TANDEM"):
        return os.environ["TANDEM"]
    root = Path(__file__).resolve().parents[2]
    for build_kind in ("release", "debug"):
        candidate = root / ".build" / build_kind / "tandem"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("tandem")
    if found:
        return found
    sys.exit("compare.py: no tandem binary; build it (swift build -c release) or pass --tandem PATH")


def sizes_from(tensors, described, model):
    """The data's sizes (classes, vocabulary, regression outputs) from the file's shapes."""
    sizes = dict(described)
    for head in ("head.weight", "output.weight"):
        if head in tensors:
            sizes["classes"] = sizes["outputs"] = tensors[head].shape[0]
    for table in ("embedding.weight", "tokenEmbedding.weight"):
        if table in tensors:
            sizes["vocabulary"] = tensors[table].shape[0]
    # A declared model's embedding (its first layer) has as many rows as the data has tokens.
    if isinstance(model.get("layers"), list) and model["layers"]:
        first = model["layers"][0]
        if isinstance(first, dict) and "embedding" in first:
            name = first.get("name") or (first["embedding"] or {}).get("name") or "0"
            sizes["vocabulary"] = tensors[f"{name}.weight"].shape[0]
    return sizes


def compare(path, tandem, count, tolerance, keep=None):
    path = Path(path)
    run = path.parent if path.suffix == ".safetensors" else path
    weights = path if path.suffix == ".safetensors" else path / "model.safetensors"
    config = yaml.safe_load((run / "config.yaml").read_text())
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tandem-interop-"))
    made = subprocess.run([tandem, "interop-outputs", str(weights), "--out", str(folder), "--count", str(count)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if made.returncode != 0:
        sys.exit(f"compare.py: tandem interop-outputs failed: {made.stderr.strip()}")
    described = json.loads((folder / "outputs.json").read_text())
    tensors, metadata = read_safetensors(weights)
    if metadata.get("format") != "pt":
        print(f"warning: {weights} has no {{'format': 'pt'}} metadata ({metadata})")
    sizes = sizes_from(tensors, described, config["model"])
    model = build(described["type"], config["model"], sizes)
    state = {name: torch.from_numpy(array) for name, array in tensors.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as mismatch:
        sys.exit(f"compare.py: {weights} does not load into {described['type']} with strict=True: {mismatch}")
    model.eval()
    inputs = np.load(folder / "inputs.npy")
    x = torch.from_numpy(inputs.astype(np.int64) if inputs.dtype == np.int32 else inputs)
    with torch.no_grad():
        got = model(x)
    if not isinstance(got, dict):
        got = {described["outputs"][0]: got}
    worst, lines = 0.0, []
    for name in described["outputs"]:
        expected = np.load(folder / f"{name}.npy")
        actual = got[name].numpy()
        if actual.shape != expected.shape:
            sys.exit(f"compare.py: {name}: torch gives {actual.shape}, Tandem {expected.shape}")
        difference = np.abs(actual.astype(np.float64) - expected)
        relative = float(difference.max() / max(np.abs(expected).max(), 1e-12))
        worst = max(worst, relative)
        lines.append(
            f"{name} {tuple(expected.shape)}: max abs diff {difference.max():.3g}, max rel diff {relative:.3g}")
    print(f"{described['model']} ({described['type']}): load_state_dict(strict=True) of {len(tensors)} tensors OK; "
          + "; ".join(lines))
    if not keep:
        shutil.rmtree(folder)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="a run directory, or a .safetensors file with the run's config.yaml beside it")
    parser.add_argument("--tandem", help="the tandem binary (default: $TANDEM, .build/release/tandem, PATH)")
    parser.add_argument("--count", type=int, default=8, help="samples to compare on")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative difference allowed")
    parser.add_argument("--keep", help="write the .npy files to this folder and keep them")
    args = parser.parse_args()
    worst = compare(args.path, find_tandem(args.tandem), args.count, args.tolerance, args.keep)
    if worst > args.tolerance:
        print(f"relative difference {worst:.3g} exceeds {args.tolerance:g}")
        sys.exit(1)


if __name__ == "__main__":
    main()
