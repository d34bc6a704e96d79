#!/usr/bin/env bash
# Prints the [libfuzzer] keys of a target's .options file (the INI file
# OSS-Fuzz reads, corpus/<target>.options) as libFuzzer flags, one line:
#   ci/libfuzzer-flags.sh corpus/pagecache_fuzzer.options
#   -> -dict=pagecache_fuzzer.dict -max_len=1200 -timeout=25
# Paths in it (dict) are relative to the file's directory, as in $OUT.
set -euo pipefail
[[ $# -eq 1 && -f $1 ]] || { echo "usage: $0 TARGET.options" >&2; exit 2; }
awk '/^\[/ { s = $0; next } s == "[libfuzzer]" && /=/ { gsub(/ /, ""); printf "-%s ", $0 }' "$1"
