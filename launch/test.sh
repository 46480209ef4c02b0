#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test.
#
#   bash launch/test.sh            # all tests (debug build; kernels are optimised even there)
#   TANDEM_TEST_RELEASE=1 bash launch/test.sh   # the same tests against a release build
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh

echo "== build (all targets and tests)"
mode=(); [[ "${TANDEM_TEST_RELEASE:-0}" == 1 ]] && mode=(-c release -Xswiftc -enable-testing)
swift build --build-tests "${mode[@]}"

echo "== unit tests"
swift test --skip-build "${mode[@]}"

echo "== command-line smoke checks"
bin=$(swift build "${mode[@]}" --show-bin-path)
"$bin/tandem" info
# The benchmark verifies its product against a naive reference before timing; odd sizes on purpose.
"$bin/tandem-bench" gemm --m 67 --n 131 --k 45 --threads 2 --runs 3 --json
"$bin/tandem-bench" gemm --m 33 --n 17 --k 300 --trans-a --trans-b --runs 3 --json
echo "launch/test.sh: all checks passed"
