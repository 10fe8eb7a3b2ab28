#!/usr/bin/env bash
# Each executable's size (as built, and stripped) and start-up time (`--version`, median of hyperfine -N),
# release builds with the static Swift standard library, as the other benchmarks build them. Extra
# binaries to compare in the same run (say, an older keyfleet-registry) can be given as arguments.
#
# BENCH_RUNS (default 200) runs each; SCRATCH (default .build-release) is the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=${SCRATCH:-.build-release}
runs=${BENCH_RUNS:-200}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
products=(keyfleet keyfleet-client keyfleet-server keyfleet-agent keyfleet-authorized-keys)
for product in "${products[@]}"; do
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product" >/dev/null
done
bin=$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
binaries=()
for product in "${products[@]}"; do binaries+=("$bin/$product"); done
binaries+=("$@")
commands=()
for binary in "${binaries[@]}"; do commands+=("$binary --version"); done
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/startup.json" "${commands[@]}" >/dev/null
printf '| executable | size | stripped | `--version`, median |\n|---|---|---|---|\n'
python3 - "$work/startup.json" "${binaries[@]}" <<'PY'
import json, os, subprocess, sys, tempfile
results = json.load(open(sys.argv[1]))["results"]
for binary, result in zip(sys.argv[2:], results):
    with tempfile.NamedTemporaryFile() as stripped:
        subprocess.run(["strip", "-o", stripped.name, binary], check=True)
        size = os.path.getsize(stripped.name)
    mb = lambda n: f"{n / 1e6:.1f} MB"
    print(f"| `{os.path.basename(binary)}` | {mb(os.path.getsize(binary))} | {mb(size)} | {result['median'] * 1000:.2f} ms |")
PY
