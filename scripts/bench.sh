#!/usr/bin/env bash
# Benchmarks against the peers in the same run (release build, static stdlib). Prints a table of ratios;
# BENCHMARKS.md records the results. Needs hyperfine, ssh-keygen, argon2 (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
scripts/install-test-deps.sh

swift build -c release --static-swift-stdlib --scratch-path .build-release --product keyfleet >/dev/null
swift build -c release --static-swift-stdlib --scratch-path .build-release --product keyfleet-bench >/dev/null
bin="$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)"
keyfleet="$bin/keyfleet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
runs="${BENCH_RUNS:-10}"

# ratio NAME OURS THEIRS: times both with hyperfine and prints ours/theirs of the medians.
ratio() {
  local name="$1" ours="$2" theirs="$3" prepare="${4:-true}"
  hyperfine -N --warmup 2 --runs "$runs" --prepare "$prepare" --export-json "$work/r.json" \
    -n keyfleet "$ours" -n peer "$theirs" >/dev/null 2>&1 || hyperfine --warmup 2 --runs "$runs" --prepare "$prepare" \
    --export-json "$work/r.json" -n keyfleet "$ours" -n peer "$theirs" >/dev/null
  python3 - "$name" "$work/r.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
results = {r["command"]: r for r in json.load(open(path))["results"]}
ours, peer = results["keyfleet"]["median"], results["peer"]["median"]
print(f"| {name} | {ours*1000:.2f} ms | {peer*1000:.2f} ms | {ours/peer:.3f} |")
PY
}

echo "| benchmark | keyfleet (median) | peer (median) | ratio |"
echo "|---|---|---|---|"

# 1. Fingerprint a 100,000-line authorized_keys: 70% ed25519, 20% ecdsa, 10% rsa, some with options.
mkdir -p "$work/pool"
for i in $(seq 1 70); do "$keyfleet" keygen -t ed25519 -N '' -C "e$i" -f "$work/pool/e$i" >/dev/null; done
for i in $(seq 1 20); do "$keyfleet" keygen -t ecdsa -b $((i % 3 == 0 ? 384 : 256)) -N '' -C "c$i" -f "$work/pool/c$i" >/dev/null; done
for i in $(seq 1 10); do "$keyfleet" keygen -t rsa -b $((i % 2 == 0 ? 2048 : 3072)) -N '' -C "r$i" -f "$work/pool/r$i" >/dev/null; done
python3 - "$work" <<'PY'
import glob, random, sys
work = sys.argv[1]
pool = {p: [open(f).read().strip() for f in glob.glob(f"{work}/pool/{p}*.pub")] for p in "ecr"}
options = ['no-pty', 'command="/usr/bin/rrsync -ro /srv/backup",no-agent-forwarding', 'from="10.0.0.0/8,192.168.1.*"', 'restrict,pty']
random.seed(1)
with open(f"{work}/authorized_keys", "w") as out:
    for i in range(100_000):
        r = random.random()
        key = random.choice(pool["e"] if r < 0.7 else pool["c"] if r < 0.9 else pool["r"])
        prefix = random.choice(options) + " " if random.random() < 0.2 else ""
        out.write(f"{prefix}{key} user{i}@host\n")
PY
ratio "fingerprint 100k-line authorized_keys (full validation)" \
  "$keyfleet fingerprint $work/authorized_keys" "ssh-keygen -l -f $work/authorized_keys"

# 2. Read a key encrypted with 64 bcrypt rounds (pubkey vs ssh-keygen -y).
ssh-keygen -q -t ed25519 -a 64 -N 'correct horse' -f "$work/k64"
ratio "read key with 64 bcrypt rounds" \
  "$keyfleet pubkey -P 'correct horse' $work/k64" "ssh-keygen -y -P 'correct horse' -f $work/k64"

# 3. keygen -t ed25519 as a whole process.
ratio "keygen -t ed25519 (whole process)" \
  "$keyfleet keygen -t ed25519 -N '' -f $work/g" "ssh-keygen -q -t ed25519 -N '' -f $work/g" "rm -f $work/g $work/g.pub"

# 4. keygen -t rsa -b 3072 as a whole process (prime search varies: more runs).
runs=$(( runs * 3 )) ratio "keygen -t rsa -b 3072 (whole process)" \
  "$keyfleet keygen -t rsa -b 3072 -N '' -f $work/g" "ssh-keygen -q -t rsa -b 3072 -N '' -f $work/g" "rm -f $work/g $work/g.pub"

# 5. Argon2id with puttygen's defaults (8 MiB, 1 lane, ~100 ms of passes) against libargon2 (the argon2 CLI).
passes="${ARGON2_PASSES:-34}"  # what puttygen 0.78 chose here for its ~100 ms target
ratio "Argon2id 8192 KiB, $passes passes, 1 lane (vs libargon2)" \
  "$bin/keyfleet-bench argon2 --variant id --passes $passes --memory 8192 --parallelism 1 --tag 80 --iterations 1" \
  "sh -c 'echo -n pass | argon2 somesalt -id -t $passes -k 8192 -p 1 -l 80 -r'"
