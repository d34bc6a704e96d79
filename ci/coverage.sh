#!/usr/bin/env bash
# A coverage report of a corpus run: builds the coverage preset (clang's
# source-based coverage, engine-less targets), runs pagecache_fuzzer and
# program_codec_fuzzer over a corpus (default: the seeds and the regressions;
# or a directory the fuzzer grew, --corpus DIR), and renders an llvm-cov HTML
# report of harness/ into --out (index.html) with a one-line summary.
#
# usage: ci/coverage.sh [--corpus DIR] [--out coverage-report]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="" out=coverage-report
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { echo "coverage: $1 needs a value" >&2; exit 2; }
  case $1 in
    --corpus) corpus=$2 ;;
    --out) out=$2 ;;
    *) echo "coverage: unknown argument '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
cmake --preset coverage >/dev/null
cmake --build --preset coverage >/dev/null
build=build/coverage
profiles=$(mktemp -d)
trap 'rm -rf "$profiles"' EXIT
inputs=("$build"/corpus/pagecache_fuzzer/* "$build"/corpus/regressions/*)
[[ -n $corpus ]] && inputs=("$corpus"/*)
# The engine-less driver runs each file once; every process writes its own
# profile (%p).
LLVM_PROFILE_FILE="$profiles/pagecache-%p.profraw" TMPDIR=$profiles \
  "$build/targets/pagecache_fuzzer" "${inputs[@]}" 2>/dev/null
LLVM_PROFILE_FILE="$profiles/codec-%p.profraw" \
  "$build/targets/program_codec_fuzzer" "${inputs[@]}" "$build"/corpus/program_codec_fuzzer/*.txt 2>/dev/null
llvm-profdata-14 merge -sparse "$profiles"/*.profraw -o "$profiles/all.profdata"
objects=("$build/targets/pagecache_fuzzer" -object "$build/targets/program_codec_fuzzer")
mkdir -p "$out"
llvm-cov-14 show "${objects[@]}" -instr-profile="$profiles/all.profdata" -format=html \
  -output-dir="$out" -show-line-counts-or-regions "$PWD/harness" >/dev/null
llvm-cov-14 report "${objects[@]}" -instr-profile="$profiles/all.profdata" "$PWD/harness" |
  tail -1 | awk -v n="${#inputs[@]}" -v out="$out" \
    '{ printf "coverage of harness/ over %d inputs: lines %s, functions %s, regions %s; report: %s/index.html\n", n, $10, $7, $4, out }'
