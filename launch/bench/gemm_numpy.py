"""numpy/OpenBLAS GEMM timing, the peer figure for `tandem-bench gemm`.

Run with OPENBLAS_NUM_THREADS equal to --threads (launch/bench_gemm.sh does this). Prints one
JSON object per line with the same keys as tandem-bench: ms (median) and gflops.
"""
import argparse, json, os, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--m", type=int, default=1024)
p.add_argument("--n", type=int, default=1024)
p.add_argument("--k", type=int, default=1024)
p.add_argument("--threads", type=int, default=1)
args = p.parse_args()
assert os.environ.get("OPENBLAS_NUM_THREADS") == str(args.threads), "set OPENBLAS_NUM_THREADS=--threads"
rng = np.random.default_rng(42)
a = rng.uniform(-1, 1, (args.m, args.k)).astype(np.float32)
b = rng.uniform(-1, 1, (args.k, args.n)).astype(np.float32)
c = np.empty((args.m, args.n), np.float32)
flops = 2.0 * args.m * args.n * args.k
runs = max(10, min(2000, int(1.0 / max(flops / 50e9, 1e-6))))
for _ in range(3):
    np.matmul(a, b, out=c)
samples = []
for _ in range(runs):
    t = time.perf_counter(); np.matmul(a, b, out=c); samples.append(time.perf_counter() - t)
ms = sorted(samples)[len(samples) // 2] * 1e3
print(json.dumps({"bench": "gemm", "impl": "numpy-openblas", "m": args.m, "n": args.n, "k": args.k,
                  "threads": args.threads, "ms": ms, "gflops": flops / (ms * 1e6), "runs": runs}))
