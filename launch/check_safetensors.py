"""Reads a Tandem model.safetensors with Python's safetensors and checks names and shapes.

usage: python3 launch/check_safetensors.py FILE NAME:D1,D2 [NAME:D1 ...]
"""
import sys

import numpy as np
from safetensors.numpy import load_file

tensors = load_file(sys.argv[1])
for spec in sys.argv[2:]:
    name, dims = spec.split(":")
    shape = tuple(int(d) for d in dims.split(","))
    if name not in tensors:
        sys.exit(f"{sys.argv[1]}: no tensor {name}; it has {sorted(tensors)}")
    if tensors[name].shape != shape or tensors[name].dtype != np.float32:
        sys.exit(f"{name}: {tensors[name].dtype} {tensors[name].shape}, expected float32 {shape}")
    if not np.isfinite(tensors[name]).all():
        sys.exit(f"{name}: non-finite values")
print(f"{sys.argv[1]}: {len(tensors)} tensors, read by safetensors {__import__('safetensors').__version__}")
