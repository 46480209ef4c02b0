#!/usr/bin/env bash
# Builds every ```swift block of README.md and docs/*.md against this package, so the docs
# cannot drift from the code.
#
# usage: launch/check_snippets.sh
#
# Each block becomes the main.swift of its own executable target in a scratch package that
# depends on this one by path and imports only its library products (NN). A block that is not
# meant to compile alone must be fenced as ```text (or another language), not ```swift.
# The scratch package's build products stay in .build/snippets, so a second run only compiles
# what changed (the first builds NN and its dependencies again: about two minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tandem-snippets.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# One directory per block, named after its file and line so a failure points at the docs.
count=0
for doc in README.md docs/*.md; do
    [[ -f $doc ]] || continue
    starts=$(awk '/^```swift[[:space:]]*$/ { print NR }' "$doc")
    for start in $starts; do
        count=$((count + 1))
        name=$(echo "${doc%.md}_line$start" | tr -c 'A-Za-z0-9_\n' '_')
        target=Snippet_$name
        mkdir -p "$scratch/Sources/$target"
        # Everything after the opening fence up to the first closing one.
        awk -v s="$start" 'NR > s && /^```[[:space:]]*$/ { done = 1 } NR > s && !done { print }' "$doc" \
            > "$scratch/Sources/$target/main.swift"
        if ! awk -v s="$start" 'NR > s && /^```[[:space:]]*$/ { found = 1 } END { exit !found }' "$doc"; then
            echo "error: $doc:$start opens a \`\`\`swift block that is never closed; add a line \`\`\`" >&2
            exit 1
        fi
        echo "$target $doc $start" >> "$scratch/targets"
    done
done
if (( count == 0 )); then
    echo "check_snippets: no \`\`\`swift blocks in README.md or docs/*.md"
    exit 0
fi

{
    echo '// swift-tools-version:6.0'
    echo 'import PackageDescription'
    echo 'let package = Package('
    echo '    name: "TandemSnippets",'
    echo "    dependencies: [.package(name: \"Tandem\", path: \"$root\")],"
    echo '    targets: ['
    nn='.product(name: "NN", package: "Tandem")'
    while read -r target _ _; do
        echo "        .executableTarget(name: \"$target\", dependencies: [$nn]),"
    done < "$scratch/targets"
    echo '    ],'
    echo '    swiftLanguageModes: [.v5]'
    echo ')'
} > "$scratch/Package.swift"

echo "check_snippets: building $count Swift blocks from README.md and docs/*.md"
start_time=$SECONDS
# The build's status is read from its log: the filter below would hide it.
(cd "$scratch" && swift build --scratch-path "$root/.build/snippets" 2>&1 | tee "$scratch/build.log" \
    | grep -E "Compiling Snippet|Build complete") || true
if ! grep -q "Build complete" "$scratch/build.log"; then
    echo "error: a Swift block in the docs does not compile; fix it at the line below, or fence it as" \
         "\`\`\`text if it is not meant to compile alone against the NN product" >&2
    # Each error at the line of the docs it comes from: the block's fence line plus its own line.
    awk -v dir="$scratch/Sources/" '
        FNR == NR { doc[$1] = $2; start[$1] = $3; next }
        /error:/ && index($0, dir) == 1 && !seen[$0]++ {
            rest = substr($0, length(dir) + 1)
            split(rest, part, ":")
            target = substr(part[1], 1, index(part[1], "/") - 1)
            sub(/^[^:]*:[0-9]+:[0-9]+: /, "", rest)
            print doc[target] ":" start[target] + part[2] ": " rest
        }' "$scratch/targets" "$scratch/build.log" > "$scratch/errors"
    if [[ -s $scratch/errors ]]; then cat "$scratch/errors" >&2; else tail -20 "$scratch/build.log" >&2; fi
    exit 1
fi
echo "check_snippets: $count blocks compile ($((SECONDS - start_time)) s)"
