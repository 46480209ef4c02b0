#!/usr/bin/env python3
"""Checks that every ```swift listing of some Markdown files is a passage of the example package.

usage: launch/check_doc_listings.py EXAMPLE MARKDOWN...   (a folder stands for its *.md files)

The DocC articles and the example's README show the code of Examples/CustomModel, which
launch/test.sh builds and trains; a listing that is a run of consecutive lines of one of its
files (compared without indentation) therefore compiles. A listing that is not meant to be
one is fenced ```text.
"""
import pathlib
import re
import sys

example = pathlib.Path(sys.argv[1])
documents = []
for arg in map(pathlib.Path, sys.argv[2:]):
    documents += sorted(arg.glob("*.md")) if arg.is_dir() else [arg]
files = {p: [l.strip() for l in p.read_text().splitlines()] for p in sorted(example.rglob("*.swift"))
         if ".build" not in p.parts}
problems, count = [], 0
for article in documents:
    lines = article.read_text().splitlines()
    for start, line in enumerate(lines):
        if not re.fullmatch(r"```swift\s*", line):
            continue
        end = next((i for i in range(start + 1, len(lines)) if re.fullmatch(r"```\s*", lines[i])), None)
        if end is None:
            problems.append(f"{article}:{start + 1}: a ```swift listing that is never closed")
            continue
        block = [l.strip() for l in lines[start + 1:end]]
        count += 1
        n = len(block)
        if not any(body[i:i + n] == block for body in files.values() for i in range(len(body) - n + 1)):
            problems.append(f"{article}:{start + 1}: this listing is not a passage of any file of {example}; "
                            "copy it from the example (or fence it ```text)")
for p in problems:
    print("error:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"docs: {count} Swift listings in {len(documents)} files are passages of {example}")
