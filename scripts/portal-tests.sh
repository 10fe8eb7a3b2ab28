#!/usr/bin/env bash
# The web portal's browser suite (Tests/Portal): pytest drives Debian's headless Chromium through
# chromium-driver with Selenium against real keyfleet-server processes the suite starts itself, and checks
# what the pages did through the registry's API and the real ssh-keygen, puttygen and cloud-init.
# Screenshots of every page are kept in $KEYFLEET_ARTIFACTS (default .build/test-artifacts/portal).
#
# Usage: scripts/portal-tests.sh [path to a built keyfleet-server binary] [pytest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-.build/debug/keyfleet-server}
shift || true
export KEYFLEET_SERVER
KEYFLEET_SERVER=$(realpath "$binary")
export KEYFLEET_ARTIFACTS=${KEYFLEET_ARTIFACTS:-$PWD/.build/test-artifacts/portal}
rm -rf "$KEYFLEET_ARTIFACTS"
mkdir -p "$KEYFLEET_ARTIFACTS"
python3 -m pytest -q -p no:cacheprovider Tests/Portal "$@"
echo "portal: screenshots in ${KEYFLEET_ARTIFACTS#"$PWD"/}"
