#!/usr/bin/env bash
# CPU profile of a command with perf (which sees the C libraries' functions
# too): the top functions by samples, and the share of each library, for
# each binary given (the same arguments), e.g. after and before a change.
# Usage: bench/profile.sh DIR "subsetd ARGS..." BIN [BIN...]
set -euo pipefail
dir=$1 args=$2; shift 2
if ! command -v perf >/dev/null || ! perf record -o /dev/null true >/dev/null 2>&1; then
  echo "(perf not available: no profile)"; exit 0
fi
for b in "$@"; do
  echo "== profile of $b ${args#subsetd }"
  rm -rf "$dir/out_prof"
  perf record -q -o "$dir/perf.data" "$b" ${args#subsetd } >/dev/null 2>&1
  echo "-- $(perf report -i "$dir/perf.data" --stdio 2>/dev/null | grep -m1 '^# Samples' | sed 's/^# //') (about 1 ms of CPU each); by library"
  perf report -i "$dir/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8 || true
  echo "-- top functions"
  perf report -i "$dir/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -15 | cut -c1-110 || true  # head ends the pipe early
  echo
done
