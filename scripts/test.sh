#!/usr/bin/env bash
# The full test suite: installs the real tools it drives when missing, builds, runs every Swift test
# (unit tests and the suites that run ssh-keygen, puttygen and the keyfleet binary), then fuzzes the
# parsers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

swift build --build-tests
swift test --skip-build --parallel --num-workers 2

FUZZ_SECONDS="${FUZZ_SECONDS:-60}" scripts/fuzz.sh
