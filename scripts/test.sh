#!/usr/bin/env bash
# The full test suite: installs the real tools it drives when missing, builds, runs every Swift test
# (unit tests, the in-process API tests and the suites that run ssh-keygen, puttygen, sshd, cloud-init
# and the keyfleet binary with a real server), checks the running server against its OpenAPI contract
# with schemathesis, then fuzzes the parsers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

# The registry's API contract (Sources/KeyfleetAPI/openapi.yaml) is a valid OpenAPI 3.1 document.
python3 -m openapi_spec_validator Sources/KeyfleetAPI/openapi.yaml
# The committed generated code is what that document gives.
scripts/generate-api.sh --check

swift build --build-tests
swift test --skip-build --parallel --num-workers 2

# The real server keeps its contract under generated requests: no 5xx, every answer as documented.
scripts/api-conformance.sh "$(swift build --show-bin-path)/keyfleet-server"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}" scripts/fuzz.sh
