#!/usr/bin/env python3
"""Checks Tandem's ONNX exports against Tandem's own outputs with onnxruntime.

    python3 launch/check_onnx.py DIR [DIR ...] [--tolerance 1e-4]

Each DIR holds model.onnx, its inputs as input.<name>.npy and Tandem's outputs on them as
expected.<name>.npy. For each: onnx.checker.check_model(full_check=True) (shape inference
included), then onnxruntime on the inputs, every output compared with Tandem's: shape equal
and max |onnx - tandem| / max |tandem| under the tolerance. The graph's batch axis is symbolic,
so the first sample alone is run too and must give the first row of each output.
Prints one line per DIR ("DIR: max relative error E") and exits 1 if any check fails,
2 when onnx or onnxruntime is missing.
"""
import argparse
import glob
import os
import sys

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
except ImportError as error:
    print(
        f"check_onnx.py needs numpy, onnx and onnxruntime ({error.name} is missing); "
        "install them with: python3 -m pip install numpy onnx onnxruntime",
        file=sys.stderr,
    )
    sys.exit(2)


def relative_error(got, want):
    scale = max(float(np.max(np.abs(want))), 1e-6)
    return float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))) / scale


def check(folder, tolerance):
    """Returns (max relative error, problems)."""
    path = os.path.join(folder, "model.onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    runtime = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in runtime.get_inputs():
        file = os.path.join(folder, f"input.{i.name}.npy")
        if not os.path.exists(file):
            return None, [f"the graph's input {i.name} has no {file}"]
        feeds[i.name] = np.load(file)
    names = [o.name for o in runtime.get_outputs()]
    expected = {n: np.load(os.path.join(folder, f"expected.{n}.npy")) for n in names
                if os.path.exists(os.path.join(folder, f"expected.{n}.npy"))}
    problems = [f"output {n} has no expected.{n}.npy" for n in names if n not in expected]
    wanted = sorted(os.path.basename(f)[len("expected."):-len(".npy")]
                    for f in glob.glob(os.path.join(folder, "expected.*.npy")))
    problems += [f"Tandem gave {n}, which the graph does not output" for n in wanted if n not in names]
    worst = 0.0
    for first_only in (False, True):
        run = {k: v[:1] for k, v in feeds.items()} if first_only else feeds
        for name, got in zip(names, runtime.run(names, run)):
            if name not in expected:
                continue
            want = expected[name][:1] if first_only else expected[name]
            if got.shape != want.shape:
                problems.append(f"{name}: onnxruntime gave shape {got.shape}, Tandem {want.shape}")
                continue
            error = relative_error(got, want)
            worst = max(worst, error)
            if not error < tolerance:
                batch = " (first sample alone)" if first_only else ""
                problems.append(f"{name}{batch}: max relative error {error:.3g} is over {tolerance:g}")
    return worst, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    failed = False
    for folder in args.folders:
        try:
            worst, problems = check(folder, args.tolerance)
        except Exception as error:  # the checker's and onnxruntime's own messages name the problem
            worst, problems = None, [f"{type(error).__name__}: {error}"]
        label = os.path.basename(os.path.normpath(folder))
        if worst is not None:
            print(f"{label}: max relative error {worst:.3g}")
        for p in problems:
            print(f"{label}: {p}", file=sys.stderr)
        failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
