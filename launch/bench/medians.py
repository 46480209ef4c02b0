"""Medians of alternating benchmark runs, and the ratio of two variants.

Reads lines "VARIANT WORKLOAD THREADS MS" and prints, per workload and thread count, the
median ms of NUMERATOR and DENOMINATOR, the ratio of the medians, and the median of the
ratios of runs taken side by side (paired: robust to a machine whose speed drifts).
Usage: medians.py FILE NUMERATOR DENOMINATOR
"""
import statistics
import sys

path, num, den = sys.argv[1:4]
runs = {}
for line in open(path):
    variant, workload, threads, ms = line.split()
    runs.setdefault((workload, threads), {}).setdefault(variant, []).append(float(ms))
print(f"workload threads {num}_ms {den}_ms {num}/{den} paired")
for (workload, threads), r in runs.items():
    a, b = statistics.median(r[num]), statistics.median(r[den])
    paired = statistics.median(x / y for x, y in zip(r[num], r[den]))
    print(f"{workload} {threads} {a:.3f} {b:.3f} {a / b:.3f} {paired:.3f}")
