#!/usr/bin/env bash
# Fuzzes the SSHKeys parsers (public key formats, private key files, authorized_keys, known_hosts) with
# libFuzzer for a bounded time, and fails when libFuzzer finds a crash, a round-trip break, a memory error,
# a leak or a timeout.
#
#   FUZZ_SECONDS   total time, split evenly across the targets (default 60)
#   FUZZ_TARGETS   which targets, space-separated (default: public private authorized_keys known_hosts)
#
# The harness is the separate package Fuzz/ (its executable has no main: libFuzzer's is linked in), built
# once in release with `-sanitize=fuzzer,address` into .build-fuzz. Seeds are made afresh each run with
# ssh-keygen (and puttygen when installed) in a temporary directory; nothing generated is kept in the tree.
# What libFuzzer learns stays in .build-fuzz/corpus, crashing inputs in .build-fuzz/artifacts, logs in
# .build-fuzz/logs. Reproduce a crash with:
#   FUZZ_TARGET=<target> .build-fuzz/release/keyfleet-fuzz .build-fuzz/artifacts/<target>-crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds="${FUZZ_SECONDS:-60}"
read -r -a targets <<<"${FUZZ_TARGETS:-public private authorized_keys known_hosts}"
scratch="$root/.build-fuzz"
artifacts="$scratch/artifacts"
logs="$scratch/logs"

command -v ssh-keygen >/dev/null || { echo "fuzz: ssh-keygen is needed for the seed corpus (scripts/install-test-deps.sh)" >&2; exit 1; }

# ---- build (one build: SSHKeys and its Swift dependencies instrumented, C code of swift-crypto not) ----
# The harness resolves the same dependency versions as the main package when it has resolved them.
if [ -f Package.resolved ] && [ ! -f Fuzz/Package.resolved ]; then cp Package.resolved Fuzz/Package.resolved; fi
echo "fuzz: building the harness (release, -sanitize=fuzzer,address) into .build-fuzz"
build_start=$(date +%s)
swift build --package-path Fuzz --scratch-path "$scratch" -c release \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -g -Xswiftc -use-ld=lld --product keyfleet-fuzz
echo "fuzz: built in $(( $(date +%s) - build_start )) s"
symbolizer="$(dirname "$(readlink -f "$(command -v swift)")")/llvm-symbolizer"
fuzzer="$(swift build --package-path Fuzz --scratch-path "$scratch" -c release --show-bin-path)/keyfleet-fuzz"

# ---- seed corpus, generated ----
seeds="$(mktemp -d "${TMPDIR:-/tmp}/keyfleet-fuzz-seeds.XXXXXX")"
trap 'rm -rf "$seeds"' EXIT
keys="$seeds/keys"
mkdir -p "$keys" "$seeds/public" "$seeds/private" "$seeds/authorized_keys" "$seeds/known_hosts"

keygen() { ssh-keygen -q "$@" </dev/null >/dev/null 2>&1; }

# One key of each type and size, unencrypted, as the source of the public seeds.
for spec in ed25519 ecdsa:256 ecdsa:384 ecdsa:521 rsa:1024 rsa:2048 dsa:1024; do
  type=${spec%%:*}; bits=${spec#*:}; name=${spec/:/-}
  args=(-t "$type"); [ "$type" = "$spec" ] || args+=(-b "$bits")
  keygen "${args[@]}" -N '' -C "fuzz $name key" -f "$keys/$name" || continue
  pub="$keys/$name.pub"
  cp "$pub" "$seeds/public/$name.pub"
  awk '{print $2}' "$pub" | base64 -d >"$seeds/public/$name.wire"
  ssh-keygen -e -f "$pub" >"$seeds/public/$name.rfc4716" 2>/dev/null || true
  ssh-keygen -e -m PKCS8 -f "$pub" >"$seeds/public/$name.pkcs8.pem" 2>/dev/null || true
  ssh-keygen -e -m PEM -f "$pub" >"$seeds/public/$name.pkcs1.pem" 2>/dev/null || true
done
find "$seeds/public" -type f -empty -delete

# Certificates: a user certificate with options and a host certificate, signed by two kinds of CA.
keygen -t ed25519 -N '' -C 'fuzz CA' -f "$keys/ca" || true
keygen -t ecdsa -b 256 -N '' -C 'fuzz CA 2' -f "$keys/ca2" || true
if [ -f "$keys/ca" ] && [ -f "$keys/ed25519.pub" ]; then
  keygen -s "$keys/ca" -I fuzz-user -n alice,bob -V -1d:+52w -O force-command=/bin/true -O source-address=192.0.2.0/24 \
    "$keys/ed25519.pub" && cp "$keys/ed25519-cert.pub" "$seeds/public/user-cert.pub"
fi
if [ -f "$keys/ca2" ] && [ -f "$keys/rsa-1024.pub" ]; then
  keygen -s "$keys/ca2" -h -I fuzz-host -n host.example.com "$keys/rsa-1024.pub" && cp "$keys/rsa-1024-cert.pub" "$seeds/public/host-cert.pub"
fi
for cert in "$seeds"/public/*-cert.pub; do
  [ -f "$cert" ] && awk '{print $2}' "$cert" | base64 -d >"${cert%.pub}.wire"
done

# Private keys: every format ssh-keygen writes, clear and encrypted (bcrypt with one round).
for spec in ed25519 ecdsa:256 ecdsa:384 rsa:1024 dsa:1024; do
  type=${spec%%:*}; bits=${spec#*:}; name=${spec/:/-}
  args=(-t "$type"); [ "$type" = "$spec" ] || args+=(-b "$bits")
  for format in RFC4716 PEM PKCS8; do
    keygen "${args[@]}" -m "$format" -N '' -C "fuzz $name" -f "$seeds/private/$name.$format" || true
    keygen "${args[@]}" -m "$format" -N fuzzing -a 1 -C "fuzz $name" -f "$seeds/private/$name.$format.enc" || true
  done
done
# PuTTY files, when puttygen is there: version 2, and version 3 with a cheap Argon2id.
if command -v puttygen >/dev/null; then
  printf 'fuzzing\n' >"$keys/passphrase"
  for name in ed25519 ecdsa-256 rsa-1024; do
    [ -f "$keys/$name" ] || continue
    puttygen "$keys/$name" -O private -o "$seeds/private/$name.v3.ppk" </dev/null >/dev/null 2>&1 || true
    puttygen "$keys/$name" -O private --ppk-param version=2 -o "$seeds/private/$name.v2.ppk" </dev/null >/dev/null 2>&1 || true
    puttygen "$keys/$name" -O private --new-passphrase "$keys/passphrase" --ppk-param version=2 \
      -o "$seeds/private/$name.v2.enc.ppk" </dev/null >/dev/null 2>&1 || true
    puttygen "$keys/$name" -O private --new-passphrase "$keys/passphrase" \
      --ppk-param kdf=argon2id,memory=64,passes=1,parallelism=1 \
      -o "$seeds/private/$name.v3.enc.ppk" </dev/null >/dev/null 2>&1 || true
  done
fi
rm -f "$seeds"/private/*.pub

# authorized_keys: bare keys, every kind of option, a cert-authority line, comments and blank lines.
ak="$seeds/authorized_keys"
pubs=("$keys"/*.pub)
{
  echo '# keys for fuzzing'
  for pub in "${pubs[@]}"; do case $pub in *-cert.pub) ;; *) cat "$pub" ;; esac; done
} >"$ak/bare"
n=0
for pub in "$keys/ed25519.pub" "$keys/ecdsa-256.pub" "$keys/rsa-1024.pub"; do
  [ -f "$pub" ] || continue
  key=$(cut -d' ' -f1,2 "$pub")
  n=$((n + 1))
  printf '%s\n' "command=\"echo \\\"hi\\\"; ls\",no-pty,no-port-forwarding,from=\"192.0.2.0/24,!192.0.2.1,*.example.com\" $key fuzz $n" >"$ak/options-$n"
  printf '%s\n' "restrict,port-forwarding,permitopen=\"localhost:22\",permitlisten=\"0.0.0.0:8080\",environment=\"LANG=C\",expiry-time=\"20301231\",tunnel=\"1\" $key" >"$ak/restrict-$n"
  printf '%s\n' "cert-authority,principals=\"alice,bob\",no-touch-required,verify-required,agent-forwarding,x11-forwarding,pty,user-rc $key CA $n" >"$ak/ca-$n"
done
cat "$ak"/* >"$ak/all"

# known_hosts: patterns, ports, negation, markers; and the same file hashed by ssh-keygen -H.
kh="$seeds/known_hosts"
{
  echo '# known hosts for fuzzing'
  [ -f "$keys/ed25519.pub" ] && echo "host.example.com,192.0.2.10 $(cut -d' ' -f1,2 "$keys/ed25519.pub")"
  [ -f "$keys/ecdsa-256.pub" ] && echo "[host.example.com]:2222,[192.0.2.10]:2222 $(cut -d' ' -f1,2 "$keys/ecdsa-256.pub") a comment"
  [ -f "$keys/rsa-1024.pub" ] && echo "*.example.org,!bad.example.org,10.?.0.* $(cut -d' ' -f1,2 "$keys/rsa-1024.pub")"
  [ -f "$keys/ca.pub" ] && echo "@cert-authority *.example.com $(cut -d' ' -f1,2 "$keys/ca.pub")"
  [ -f "$keys/ecdsa-384.pub" ] && echo "@revoked * $(cut -d' ' -f1,2 "$keys/ecdsa-384.pub")"
} >"$kh/plain"
cp "$kh/plain" "$kh/hashed"
keygen -H -f "$kh/hashed" || true
rm -f "$kh/hashed.old"
grep -v '^#' "$kh/hashed" | head -n 1 >"$kh/one-hashed" || true

for target in "${targets[@]}"; do
  [ -d "$seeds/$target" ] || { echo "fuzz: unknown target $target" >&2; exit 2; }
  echo "fuzz: $(find "$seeds/$target" -type f | wc -l) seeds for $target"
done

# ---- run ----
mkdir -p "$artifacts" "$logs"
per_target=$(( seconds / ${#targets[@]} )); [ "$per_target" -ge 1 ] || per_target=1
total_runs=0
crashes=0
summary=()
for target in "${targets[@]}"; do
  corpus="$scratch/corpus/$target"
  mkdir -p "$corpus"
  log="$logs/$target.log"
  echo "fuzz: $target for $per_target s"
  status=0
  # Swift's own backtracer is turned off: it reads memory in a way AddressSanitizer reports as a second
  # crash. libFuzzer and ASan print the stack instead, symbolized by the toolchain's llvm-symbolizer.
  FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_SYMBOLIZER_PATH="$symbolizer" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}" \
    "$fuzzer" -max_total_time="$per_target" -rss_limit_mb=2048 -max_len=16384 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$corpus" "$seeds/$target" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  [ -n "$runs" ] || runs=0
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  total_runs=$((total_runs + runs))
  if [ "$status" -ne 0 ]; then
    crashes=$((crashes + 1))
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "fuzz: $target FAILED (exit $status): $(grep -m1 -E 'ERROR: |Fatal error|round trip broken|deadly signal' "$log" || echo 'see log')"
    # The stack below libFuzzer's and the sanitizers' own frames, demangled.
    grep -E '^ +#[0-9]+ ' "$log" | grep -vE 'compiler-rt/lib|libc\.so|libc_start|_start \(' | head -n 10 \
      | swift demangle --simplified || true
    if [ -n "$artifact" ] && [ -f "$artifact" ]; then
      echo "fuzz: input ($(wc -c <"$artifact") bytes) kept at ${artifact#"$root"/}; hex (first 1 KiB):"
      od -An -v -tx1 "$artifact" | tr -d ' \n' | head -c 2048; echo
      echo "fuzz: reproduce: FUZZ_TARGET=$target ${fuzzer#"$root"/} ${artifact#"$root"/}"
    fi
    echo "fuzz: full log ${log#"$root"/}"
    summary+=("$target: $runs runs (${rate:-?}/s), FAILED")
  else
    summary+=("$target: $runs runs (${rate:-?}/s), ok")
  fi
done

for line in "${summary[@]}"; do echo "fuzz: $line"; done
echo "fuzz: $total_runs runs, $crashes crashes"
[ "$crashes" -eq 0 ]
