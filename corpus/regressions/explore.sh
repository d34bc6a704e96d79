#!/usr/bin/env bash
# Re-derives the directed schedule of every regression program: strips the
# program's schedule, runs `pagerace explore --mutant M` over it (M is the
# file's name, or its `# mutant:` line) with up to --preemptions K, and writes the first violating
# schedule back into the file under its own comments. For when the model's
# scheduling points change, which renumbers the steps a schedule names.
# Usage: corpus/regressions/explore.sh [--pagerace BIN] [--preemptions K] [FILE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pagerace=$here/../../build/dev/pagerace
k=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --pagerace) pagerace=$2; shift 2 ;;
    --preemptions) k=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    -*) echo "explore.sh: unknown flag $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || set -- "$here"/*.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rc=0
for file in "$@"; do
  name=$(basename "$file" .txt)
  mutant=$(sed -n 's/^# mutant: //p' "$file" | head -1)  # a file named otherwise says its mutant
  mutant=${mutant:-$name}
  sed -n '/^pagerace /,$p' "$file" | grep -v -e '^schedule directed' -e '^preempt ' >"$work/in.txt"
  rm -rf "$work/art"
  "$pagerace" explore --preemptions "$k" --mutant "$mutant" --artifacts "$work/art" "$work/in.txt" >"$work/out.txt" 2>&1 || true
  if ! grep -q '^FINDING' "$work/out.txt"; then
    echo "explore.sh: $name: no violating schedule with at most $k preemptions" >&2
    cat "$work/out.txt" >&2
    rc=1
    continue
  fi
  { sed -n '/^pagerace /q;p' "$file"; sed -n '/^pagerace /,$p' "$work"/art/*.txt; } >"$work/new.txt"
  mv "$work/new.txt" "$file"
  echo "$name: $(grep '^FINDING' "$work/out.txt")"
done
exit $rc
