#!/usr/bin/env python3
"""Writes a real dataset as an image folder of PNG files, for `data.name: image_folder`.

    python3 launch/make_image_folder.py fashion-mnist DIR [--source FOLDER] [--limit N]
    python3 launch/make_image_folder.py digits DIR

fashion-mnist: the four IDX .gz files (Debian package dataset-fashion-mnist, in
/usr/share/datasets/fashion-mnist) as 28x28 grey PNGs, DIR/train/<class>/<index>.png
(60000) and DIR/test/<class>/<index>.png (10000); <index> is the sample's position in its
IDX file, zero-padded, so files sorted by name keep the IDX order within a class.

digits: scikit-learn's bundled 8x8 digits (1797 images, 17 grey levels scaled to 0-255),
split as sklearn.model_selection.train_test_split(test_size=0.2, random_state=0,
stratify=labels): DIR/train/<digit>/<index>.png (1437) and DIR/test/<digit>/<index>.png (360).

Class folders are named after the classes; Tandem numbers them in sorted name order (for
Fashion-MNIST that differs from the IDX label numbers). Pillow, numpy and scikit-learn are
installed with pip when missing. A DIR that is already complete is left as it is.
"""
import argparse
import gzip
import os
import subprocess
import sys

FASHION_CLASSES = ["t-shirt_top", "trouser", "pullover", "dress", "coat",
                   "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def need(module, package):
    try:
        __import__(module)
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", package])


def read_idx(path, rank):
    """The array in an IDX .gz file (unsigned bytes, `rank` dimensions)."""
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 + 4 * rank or data[2] != 0x08 or data[3] != rank:
        sys.exit(f"make_image_folder: {path} is not an IDX file of unsigned bytes with {rank} dimensions")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def write(out, split, images, labels, names, indices):
    from PIL import Image
    width = len(str(max(indices)))
    for name in names:
        os.makedirs(os.path.join(out, split, name), exist_ok=True)
    for image, label, index in zip(images, labels, indices):
        Image.fromarray(image).save(os.path.join(out, split, names[label], f"{index:0{width}d}.png"))
    print(f"{split}: {len(indices)} images in {len(names)} class folders under {os.path.join(out, split)}")


def fashion_mnist(out, source, limit):
    for split, stem in [("train", "train"), ("test", "t10k")]:
        images_path = os.path.join(source, f"{stem}-images-idx3-ubyte.gz")
        labels_path = os.path.join(source, f"{stem}-labels-idx1-ubyte.gz")
        for path in [images_path, labels_path]:
            if not os.path.exists(path):
                sys.exit(f"make_image_folder: {path} is missing; install it with `apt-get install "
                         f"dataset-fashion-mnist` (launch/setup.sh does) or pass --source FOLDER")
        images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
        n = min(len(labels), limit or len(labels))
        write(out, split, images[:n], labels[:n], FASHION_CLASSES, list(range(n)))


def digits(out):
    need("sklearn", "scikit-learn")
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    data = load_digits()
    images = np.rint(data.images * 255 / 16).astype(np.uint8)
    index = np.arange(len(data.target))
    train, test = train_test_split(index, test_size=0.2, random_state=0, stratify=data.target)
    names = [str(d) for d in range(10)]
    for split, part in [("train", np.sort(train)), ("test", np.sort(test))]:
        write(out, split, images[part], data.target[part], names, part.tolist())


def main():
    parser = argparse.ArgumentParser(description="Write a dataset as an image folder of PNG files.")
    parser.add_argument("dataset", choices=["fashion-mnist", "digits"])
    parser.add_argument("directory", help="the image folder to write (train/ and test/ go inside)")
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="fashion-mnist: the folder holding the four IDX .gz files")
    parser.add_argument("--limit", type=int, default=None,
                        help="fashion-mnist: write only the first N images of each split")
    args = parser.parse_args()
    done = os.path.join(args.directory, ".complete")
    if os.path.exists(done):
        print(f"{args.directory} is already complete ({open(done).read().strip()}); remove it to write it again")
        return
    if os.path.isdir(args.directory) and os.listdir(args.directory):
        sys.exit(f"make_image_folder: {args.directory} exists and is not empty; remove it or choose another folder")
    need("numpy", "numpy")
    need("PIL", "Pillow")
    if args.dataset == "fashion-mnist":
        fashion_mnist(args.directory, args.source, args.limit)
    else:
        digits(args.directory)
    with open(done, "w") as f:  # hidden, so the image folder reader ignores it
        f.write(f"{args.dataset}" + (f" --limit {args.limit}" if args.limit else "") + "\n")


if __name__ == "__main__":
    main()
