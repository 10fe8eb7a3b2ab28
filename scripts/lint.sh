#!/usr/bin/env bash
# Checks the layout of our Swift code: `swift format lint --strict` with the repository's .swift-format
# (4-space indent, 150 columns, the rules chosen there), and no line over 150 columns anywhere, also inside
# string literals and comments, where swift-format does not look. Fails, naming each file:line, otherwise
# prints nothing.
#
# What it reads: every .swift file under Sources, Tests, Benchmarks, Fuzz and Tools, and Package.swift;
# not Sources/KeyfleetAPI/Generated, which scripts/generate-api.sh writes, nor any .build directory.
#
# To fix the layout of a file: swift format format -i --configuration .swift-format FILE
set -euo pipefail
cd "$(dirname "$0")/.."

max_columns=150

files=()
while IFS= read -r -d '' file; do
    files+=("$file")
done < <(find Sources Tests Benchmarks Fuzz Tools -name '*.swift' \
    -not -path 'Sources/KeyfleetAPI/Generated/*' -not -path '*/.build/*' -not -path '*/.build-*/*' -print0 | sort -z)
files+=(Package.swift)

status=0
swift format lint --strict --parallel --configuration .swift-format "${files[@]}" || status=1

# Columns are characters, not bytes: a line of 150 characters with a non-ASCII one in it is within bounds.
if LC_ALL=C.UTF-8 grep -nHE "^.{$((max_columns + 1)),}" "${files[@]}" | cut -d: -f1,2 | sed "s/\$/: line over $max_columns columns/" >&2
then
    status=1
fi

exit "$status"
