#!/usr/bin/env bash
# Builds subsetd as it was before the direct chunk reads and writes (or at
# BENCH_BASE, a git revision) into DIR/subsetd-before and prints its path;
# prints nothing when that revision cannot be built here.
# Usage: bench/base.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
rev=${BENCH_BASE:-$(git log --format=%H -1 --grep='^Direct chunk reads:' 2>/dev/null)^}
out=$dir/subsetd-before
want=$(git rev-parse --verify -q "$rev" 2>/dev/null) || exit 0
if [ ! -x "$out" ] || [ "$(cat "$out.rev" 2>/dev/null)" != "$want" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  git archive "$want" | tar -x -C "$tmp"
  (cd "$tmp" && go build -o bin/subsetd ./cmd/subsetd) >&2 || exit 0
  cp "$tmp/bin/subsetd" "$out"
  echo "$want" > "$out.rev"
fi
echo "$out"
