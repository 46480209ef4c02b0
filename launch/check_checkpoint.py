"""Loads a Tandem checkpoint's safetensors files with Python's `safetensors` and compares them
with the values `tandem inspect --values N` printed (read from standard input).

usage: tandem inspect CHECKPOINT --values 5 | python3 launch/check_checkpoint.py CHECKPOINT_FOLDER
"""
import sys

import numpy as np
from safetensors.numpy import load_file

folder = sys.argv[1]
loaded, checked = {}, 0
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 4 or not parts[0].endswith(".safetensors"):
        continue
    file, name = parts[0], parts[1]
    values = [float(v) for v in line.split("]", 1)[1].split()]
    if not values:
        continue
    tensors = loaded.setdefault(file, load_file(f"{folder}/{file}"))
    if name not in tensors:
        sys.exit(f"{folder}/{file}: safetensors finds no tensor {name}")
    got = tensors[name].reshape(-1)[: len(values)].astype(np.float32)
    if not np.array_equal(got, np.array(values, dtype=np.float32)):
        sys.exit(f"{name}: safetensors reads {got.tolist()}, tandem printed {values}")
    checked += 1
if checked == 0:
    sys.exit("no tensor values to compare (run tandem inspect with --values)")
print(f"{folder}: {checked} tensors read by safetensors match what tandem printed")
