#!/usr/bin/env python3
"""Writes the image fixtures of Tests/DatasetsTests into DIR, with what they must decode to.

    python3 launch/make_image_fixtures.py DIR

DIR/manifest.json describes every file: its size, channels as decoded, bit depth, and the
pixel values it holds (the array written, channel-major; for a JPEG also Pillow's decode).
Damaged files (truncated, mislabelled, unsupported) are listed with the error they must give.
Resize references (Pillow's BILINEAR) and luma references (Pillow's convert("L")) go beside them.
Pillow and numpy are installed with pip when missing.
"""
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import warnings
import zlib


def need(module, package):
    try:
        __import__(module)
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", package])


need("numpy", "numpy")
need("PIL", "Pillow")
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

H, W = 5, 7  # every format fixture: 5 rows, 7 columns (odd, and not square)


def pattern(channels, levels, seed):
    """Distinct values in every channel: (H, W, C) integers below `levels`."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, levels, size=(H, W, channels), dtype=np.int64)


def image(mode, array):
    """`array` (H, W[, C]) as a Pillow image of `mode` (Pillow's fromarray no longer takes a mode)."""
    dtype = {"I;16": "<u2", "F": "<f4"}.get(mode, "u1")
    a = np.asarray(array)
    return Image.frombytes(mode, (a.shape[1], a.shape[0]), a.astype(dtype).tobytes())


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def raw_png(array, color_type, bit_depth, interlaced=False):
    """A PNG of `array` (H, W, C) written chunk by chunk, for what Pillow cannot write
    (16-bit RGB, RGBA and grey+alpha, Adam7 interlacing). Rows use filter 0."""
    h, w, c = array.shape
    dtype = ">u2" if bit_depth == 16 else "u1"

    def rows(sub):
        return b"".join(b"\x00" + sub[y].astype(dtype).tobytes() for y in range(sub.shape[0]))

    if interlaced:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        data = b"".join(rows(array[y0::dy, x0::dx]) for x0, y0, dx, dy in passes if array[y0::dy, x0::dx].size)
    else:
        data = rows(array)
    header = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlaced else 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")


def chw(array):
    return np.asarray(array).reshape(H, W, -1).transpose(2, 0, 1).reshape(-1).tolist()


def main(out):
    os.makedirs(out, exist_ok=True)
    files = {}

    def record(name, values, channels, bit_depth, samples, fmt="PNG", pillow=None):
        entry = {"height": H, "width": W, "channels": channels, "bitDepth": bit_depth,
                 "samplesPerPixel": samples, "format": fmt, "values": chw(values)}
        if pillow is not None:
            entry["pillow"] = chw(pillow)
        files[name] = entry

    def save(name, image, **options):
        image.save(os.path.join(out, name), **options)

    # PNG, written by Pillow where it can.
    grey = pattern(1, 256, 1)
    save("grey8.png", image("L", grey[:, :, 0]))
    record("grey8.png", grey, 1, 8, 1)
    bits = pattern(1, 2, 2)
    save("grey1.png", Image.fromarray(bits[:, :, 0].astype(bool)))
    record("grey1.png", bits * 255, 1, 8, 1)
    grey16 = pattern(1, 65536, 3)
    save("grey16.png", image("I;16", grey16[:, :, 0]))
    record("grey16.png", grey16, 1, 16, 1)
    la = pattern(2, 256, 4)
    save("greyalpha8.png", image("LA", la))
    record("greyalpha8.png", la[:, :, :1], 1, 8, 2)
    save("greytrns8.png", image("L", grey[:, :, 0]), transparency=int(grey[0, 0, 0]))
    record("greytrns8.png", grey, 1, 8, 2)
    rgb = pattern(3, 256, 5)
    save("rgb8.png", image("RGB", rgb))
    record("rgb8.png", rgb, 3, 8, 3)
    rgba = pattern(4, 256, 6)
    save("rgba8.png", image("RGBA", rgba))
    record("rgba8.png", rgba[:, :, :3], 3, 8, 4)
    colours = pattern(3, 256, 8).reshape(-1, 3)[:16]
    index = pattern(1, 16, 9)[:, :, 0]
    p = image("P", index)
    p.putpalette(colours.astype(np.uint8).reshape(-1).tolist())
    save("palette8.png", p)
    record("palette8.png", colours[index], 3, 8, 3)
    save("palette4.png", p, bits=4)
    record("palette4.png", colours[index], 3, 8, 3)
    alphas = [255 - 16 * i for i in range(16)]
    save("palettetrns.png", p, transparency=bytes(alphas))
    record("palettetrns.png", colours[index], 3, 8, 4)
    # PNG that Pillow cannot write: 16-bit colour and grey+alpha, and Adam7 interlacing.
    rgb16, rgba16, la16 = pattern(3, 65536, 10), pattern(4, 65536, 11), pattern(2, 65536, 12)
    for name, array, color_type, keep in [("rgb16.png", rgb16, 2, 3), ("rgba16.png", rgba16, 6, 3),
                                          ("greyalpha16.png", la16, 4, 1)]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(raw_png(array, color_type, 16))
        record(name, array[:, :, :keep], keep, 16, array.shape[2])
    with open(os.path.join(out, "rgb8interlaced.png"), "wb") as f:
        f.write(raw_png(rgb, 2, 8, interlaced=True))
    record("rgb8interlaced.png", rgb, 3, 8, 3)
    # Every PNG reads back in Pillow as written (the chunk writer included), 8-bit ones compared.
    for name, entry in files.items():
        if entry["bitDepth"] == 8:
            with warnings.catch_warnings():  # Pillow suggests RGBA for a palette with alpha
                warnings.simplefilter("ignore")
                back = np.asarray(Image.open(os.path.join(out, name)).convert("RGB" if entry["channels"] == 3 else "L"))
            assert chw(back) == entry["values"], name

    # JPEG: smooth images, so the loss stays small; Pillow's decode is recorded beside the source.
    y, x = np.mgrid[0:H, 0:W]
    smooth = np.stack([40 + 20 * x + 5 * y, 200 - 15 * y - 4 * x, 90 + 10 * x + 12 * y], axis=2)
    for name, mode, progressive in [("grey.jpg", "L", False), ("rgb.jpg", "RGB", False),
                                    ("greyprogressive.jpg", "L", True), ("rgbprogressive.jpeg", "RGB", True)]:
        source = smooth[:, :, :1] if mode == "L" else smooth
        pixels = source.squeeze(axis=2) if mode == "L" else source
        save(name, image(mode, pixels), quality=95, progressive=progressive, subsampling=0)
        decoded = np.asarray(Image.open(os.path.join(out, name)))
        record(name, source, source.shape[2], 8, source.shape[2], "JPEG", pillow=decoded)

    # Damaged and unsupported files, with the words their error must contain.
    damaged = {}
    png_bytes = open(os.path.join(out, "rgb8.png"), "rb").read()
    open(os.path.join(out, "truncated.png"), "wb").write(png_bytes[: len(png_bytes) // 2])
    damaged["truncated.png"] = "truncated"
    open(os.path.join(out, "truncatedheader.png"), "wb").write(png_bytes[:20])
    damaged["truncatedheader.png"] = "truncated"
    big = image("RGB", np.tile(smooth, (20, 20, 1)))
    jpeg = io.BytesIO()
    big.save(jpeg, "JPEG", quality=90)
    open(os.path.join(out, "truncated.jpg"), "wb").write(jpeg.getvalue()[: len(jpeg.getvalue()) * 2 // 3])
    damaged["truncated.jpg"] = "truncated"
    jpeg = io.BytesIO()
    big.save(jpeg, "JPEG", quality=90, progressive=True)
    open(os.path.join(out, "truncatedprogressive.jpg"), "wb").write(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    damaged["truncatedprogressive.jpg"] = "truncated"
    open(os.path.join(out, "text.png"), "w").write("this is a text file, not an image\n")
    damaged["text.png"] = "not a PNG or JPEG file"
    open(os.path.join(out, "empty.png"), "wb").close()
    damaged["empty.png"] = "the file is empty"
    image("RGB", rgb).save(os.path.join(out, "gif.png"), "GIF")
    damaged["gif.png"] = "a GIF image, not a PNG or JPEG file"
    crc = bytearray(png_bytes)
    crc[png_bytes.index(b"IDAT") + 6] ^= 0xFF  # the compressed data, so its CRC no longer matches
    open(os.path.join(out, "badcrc.png"), "wb").write(bytes(crc))
    damaged["badcrc.png"] = "corrupt PNG data"
    bomb = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)  # 4e8 pixels claimed, a few bytes of data
    with open(os.path.join(out, "bomb.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", bomb) + chunk(b"IDAT", zlib.compress(b"\x00" * 10))
                + chunk(b"IEND", b""))
    damaged["bomb.png"] = "the image is 20000x20000, more than 178956970 pixels"
    image("CMYK", pattern(4, 256, 13)).save(os.path.join(out, "cmyk.jpg"), quality=95)
    damaged["cmyk.jpg"] = "unsupported colour space (CMYK)"

    # Luma: Pillow's convert("L") of the RGB fixture (rounded to 8 bits).
    luma = np.asarray(Image.open(os.path.join(out, "rgb8.png")).convert("L"))

    # Resizing: Pillow's BILINEAR on a float image (mode "F") and on 8-bit images, to several sizes.
    rng = np.random.default_rng(14)
    source = rng.integers(0, 256, size=(17, 23), dtype=np.int64)  # 17 rows, 23 columns
    image("L", source).save(os.path.join(out, "resize.png"))
    colour = rng.integers(0, 256, size=(17, 23, 3), dtype=np.int64)
    image("RGB", colour).save(os.path.join(out, "resizergb.png"))
    resized = []
    for h, w in [(8, 11), (5, 4), (40, 31), (30, 10), (17, 9), (1, 1)]:
        f = image("F", (source / 255)).resize((w, h), Image.Resampling.BILINEAR)
        l8 = image("L", source).resize((w, h), Image.Resampling.BILINEAR)
        c8 = image("RGB", colour).resize((w, h), Image.Resampling.BILINEAR)
        resized.append({"height": h, "width": w, "float": np.asarray(f).reshape(-1).tolist(),
                        "grey8": np.asarray(l8).reshape(-1).tolist(),
                        "rgb8": np.asarray(c8).transpose(2, 0, 1).reshape(-1).tolist()})

    # scikit-learn's two sample photos, with Pillow's decode as raw bytes (rows, columns, RGB).
    samples = {}
    try:
        import sklearn.datasets
        folder = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
        for name in ["china.jpg", "flower.jpg"]:
            shutil.copy(os.path.join(folder, name), os.path.join(out, name))
            decoded = np.asarray(Image.open(os.path.join(out, name)).convert("RGB"))
            decoded.transpose(2, 0, 1).tofile(os.path.join(out, name + ".chw.u8"))
            samples[name] = {"height": decoded.shape[0], "width": decoded.shape[1]}
    except ImportError:
        print("make_image_fixtures: scikit-learn is missing, so its sample photos are left out "
              "(pip install scikit-learn)", file=sys.stderr)

    manifest = {"files": files, "damaged": damaged, "luma": {"source": "rgb8.png", "values": chw(luma[:, :, None])},
                "resize": {"grey": "resize.png", "rgb": "resizergb.png", "sizes": resized}, "samples": samples}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_image_fixtures.py DIR")
    main(sys.argv[1])
