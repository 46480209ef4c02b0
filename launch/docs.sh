#!/usr/bin/env bash
# Builds the API documentation with DocC (the swift-docc-plugin) and fails on any DocC warning:
# a parameter documented under a wrong name, a parameter left undocumented, a broken ``link``.
#
# usage: launch/docs.sh [OUTPUT]     (default: .build/docs/Tandem.doccarchive)
#
# One archive per module, combined into one with a page per module; the TandemKit module's
# catalog (Sources/TandemKit/TandemKit.docc) holds the landing page and the articles, and links
# into the other modules (``/NN/Conv2d``: a link into another module starts with a slash).
# DocC leaves out what a module only re-exports, so every module that `import TandemKit` brings
# is named here. The archive is a static site:
#   python3 -m http.server --directory .build/docs/Tandem.doccarchive 8000
#   then open http://localhost:8000/documentation/tandemkit
# Every ```swift listing of the articles and of the example's README must be a passage of
# Examples/CustomModel, which launch/test.sh builds and trains (launch/check_doc_listings.py).
set -euo pipefail
cd "$(dirname "$0")/.."

output=${1:-.build/docs/Tandem.doccarchive}
modules=(TandemKit Training Models NN ONNX Autograd TensorCore Optim Datasets Collective Checkpoint)
targets=()
for module in "${modules[@]}"; do targets+=(--target "$module"); done
mkdir -p "$(dirname "$output")"
log=$(mktemp "${TMPDIR:-/tmp}/tandem-docs.XXXXXX")
trap 'rm -f "$log"' EXIT

python3 launch/check_doc_listings.py Examples/CustomModel Sources/TandemKit/TandemKit.docc Examples/CustomModel/README.md
echo "docs: DocC for ${modules[*]}"
start_time=$SECONDS
status=0
swift package --allow-writing-to-directory "$(dirname "$output")" generate-documentation \
    --enable-experimental-combined-documentation "${targets[@]}" \
    --output-path "$output" > "$log" 2>&1 || status=$?
# DocC's own diagnostics start their line ("warning: ...", then "  --> file:line"); a compiler
# warning starts with its file's path and is the build's business, not the documentation's.
problems=$(grep -cE '^(warning|error): ' "$log" || true)
if (( status != 0 || problems > 0 )); then
    grep -E -A 12 '^(warning|error): ' "$log" >&2 || tail -30 "$log" >&2
    echo "error: the documentation has $problems DocC warnings or errors (above; exit status $status):" \
         "fix the doc comment or article at each --> line" >&2
    exit 1
fi
grep -E '^Finished building documentation' "$log" | sed 's/^/docs: /'
echo "docs: $output, no warnings ($((SECONDS - start_time)) s)"
