#!/usr/bin/env bash
# The full test suite: installs the real tools it drives when missing, builds, runs every Swift test
# (unit tests and the suites that run ssh-keygen, puttygen and the keyfleet binary), then fuzzes the
# parsers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

# The registry's API contract (Sources/KeyfleetAPI/openapi.yaml) is a valid OpenAPI 3.1 document.
python3 -m openapi_spec_validator Sources/KeyfleetAPI/openapi.yaml

swift build --build-tests
swift test --skip-build --parallel --num-workers 2

FUZZ_SECONDS="${FUZZ_SECONDS:-60}" scripts/fuzz.sh
