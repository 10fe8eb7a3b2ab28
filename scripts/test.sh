#!/usr/bin/env bash
# The full test suite: installs the real tools it drives when missing, builds, runs every Swift test
# (unit tests, the in-process API tests and the suites that run ssh-keygen, puttygen, sshd, cloud-init,
# PostgreSQL and the keyfleet binary with a real server), runs the store and in-process API suites a second
# time on PostgreSQL, drives the web portal in a headless Chromium, checks the running server against its OpenAPI contract
# with schemathesis, then fuzzes the parsers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

# The registry's API contract (Sources/KeyfleetAPI/openapi.yaml) is a valid OpenAPI 3.1 document.
python3 -m openapi_spec_validator Sources/KeyfleetAPI/openapi.yaml
# The committed generated code is what that document gives.
scripts/generate-api.sh --check
# The code's layout: swift format lint with .swift-format, and no line over 150 columns.
scripts/lint.sh

swift build --build-tests
# Suites that time a real system from inside the test process (agent deadlines, connect timeouts, long-poll wake-ups, propagation
# between servers) run on their own afterwards: beside the suites that block the process's few threads on
# ssh-keygen, sshd and argon2 for seconds at a time, they would measure the test process, not the system.
timed='FailStaticTests|StorePostgreSQLTests|MultiServerE2ETests|SyncTests|RescueTests'
swift test --skip-build --parallel --num-workers 2 --skip "$timed"
swift test --skip-build --filter "$timed"
# The same store and API suites on PostgreSQL (a server the tests start themselves), the long-poll timing
# suites again on their own.
pg_timed='SyncTests|RescueTests'
KEYFLEET_TEST_STORE=postgresql swift test --skip-build --parallel --num-workers 2 --filter 'KeyfleetStoreTests|KeyfleetServerTests' \
  --skip "StorePostgreSQLTests|StoreSQLiteTests|$pg_timed"
KEYFLEET_TEST_STORE=postgresql swift test --skip-build --filter "$pg_timed"

# The web portal in a real headless Chromium against the real server (screenshots in .build/test-artifacts/portal).
scripts/portal-tests.sh "$(swift build --show-bin-path)/keyfleet-server"

# The real server keeps its contract under generated requests: no 5xx, every answer as documented.
scripts/api-conformance.sh "$(swift build --show-bin-path)/keyfleet-server"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}" scripts/fuzz.sh
