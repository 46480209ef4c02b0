"""Checks that a headless browser's screenshot of `tandem report` shows the plots: counts the
pixels drawn in the training-loss colour (#1f77b4) and the lr colour (#2ca02c).
Usage: python3 launch/check_report_screenshot.py SCREENSHOT.png"""
import struct
import sys
import zlib


def pixels(path):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into rows of tuples."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    channels = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return rows


def near(pixel, colour, tolerance=40):
    return sum(abs(a - b) for a, b in zip(pixel, colour)) <= tolerance


rows = pixels(sys.argv[1])
counts = {name: sum(near(p, colour) for row in rows for p in row)
          for name, colour in {"training loss (#1f77b4)": (31, 119, 180), "lr (#2ca02c)": (44, 160, 44)}.items()}
for name, count in counts.items():
    assert count >= 200, f"the screenshot shows only {count} pixels of the {name} line: the plots did not render"
print(f"{sys.argv[1]}: {len(rows[0])}x{len(rows)}, plot pixels {counts}")
