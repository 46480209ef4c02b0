"""Reads a run's TensorBoard event file with TensorBoard's own reader and checks every scalar
against metrics.jsonl, and that each NAME:COUNT given has weight and gradient histograms of
COUNT values. Usage: python3 launch/check_tensorboard.py RUN_DIR [NAME:COUNT ...]"""
import json
import math
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1]
events = EventAccumulator(run, size_guidance={"scalars": 0})
events.Reload()
tags = set(events.Tags()["scalars"])
checked = 0
for line in open(f"{run}/metrics.jsonl"):
    record = json.loads(line)
    prefix = record.get("split", "train")
    for key, value in record.items():
        if key in ("step", "epoch", "samples", "split") or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if not math.isfinite(value):
            continue
        tag = f"{prefix}/{key}"
        assert tag in tags, f"{tag} missing from the event file (it has {sorted(tags)})"
        found = [e.value for e in events.Scalars(tag) if e.step == record["step"]]
        assert found, f"{tag} has no value at step {record['step']}"
        assert any(math.isclose(v, value, rel_tol=1e-6, abs_tol=1e-6) for v in found), f"{tag} at step {record['step']}: {found} != {value}"
        checked += 1
assert checked > 0, "no scalars checked"
for spec in sys.argv[2:]:
    name, count = spec.rsplit(":", 1)
    for kind in ("weights", "gradients"):
        histograms = events.Histograms(f"{kind}/{name}")
        assert histograms, f"no {kind}/{name} histograms"
        assert all(h.histogram_value.num == int(count) for h in histograms), f"{kind}/{name}: not {count} values"
        assert all(sum(h.histogram_value.bucket) == int(count) for h in histograms), f"{kind}/{name}: buckets do not add up"
    checked += 1
print(f"{run}: {checked} scalars over {len(tags)} tags match metrics.jsonl (read by tensorboard {__import__('tensorboard').__version__})")
