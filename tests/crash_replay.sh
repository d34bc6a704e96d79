#!/usr/bin/env bash
# Exact replay of fuzzer crashes, across builds: for each mutant, the
# libFuzzer target looks for a crash from the seed corpus for 10 s (the
# ASan build runs a few hundred programs a second; how fast each mutant is
# found is bench/detect's to measure, and a miss is printed as a note, with
# the mutant's regression program replayed instead); then `pagerace replay
# --raw --trace` of that crash file (a raw fuzzer input; the regression's
# encoded program keeps its magic, which --raw strips as the target does),
# 10 times (3 for a trace of over 100,000 lines) in each given build, must
# report the same violation (exit 1) and print byte-identical traces, the
# same in every build.
# Usage: crash_replay.sh FUZZ_TARGET SEED_DIR PAGERACE_BINARY...
set -u
target=$(realpath "$1") seeds=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for mutant in $("$1" mutants); do
  rm -rf "$work/corpus" && mkdir -p "$work/corpus" "$work/tmp" && cp "$seeds"/* "$work/corpus/"
  (cd "$work" && PAGERACE_MUTANT=$mutant TMPDIR=$work/tmp "$target" -seed=1 -max_total_time=10 \
    -artifact_prefix="$work/$mutant-" corpus >"$work/fuzz.log" 2>&1)
  crash=$(ls "$work/$mutant"-crash-* 2>/dev/null | head -1)
  if [[ -z $crash ]]; then
    crash=$(dirname "$seeds")/regressions/$mutant.bin
    if [[ ! -f $crash ]]; then
      echo "FAIL $mutant: no crash in 10 s and no regression program"; failed=$((failed + 1)); continue
    fi
    echo "note $mutant: no fuzzer crash in 10 s; replaying its regression program"
  fi
  # Ten replays a build; three for a trace of over 100,000 lines (a
  # livelock's, which records every retry up to the bound): each replay
  # then takes seconds, and three identical traces already say "exact".
  first= bad=0 runs=10
  for bin in "$@"; do
    for i in $(seq 1 10); do
      if (( i > runs )); then break; fi
      code=0
      "$bin" replay --raw --trace --mutant "$mutant" "$crash" >"$work/trace" 2>/dev/null || code=$?
      sum=$(md5sum <"$work/trace" | cut -d' ' -f1)
      if [[ $code -ne 1 ]] || ! grep -q "reproduced on run 1:" "$work/trace"; then
        echo "FAIL $mutant: $bin replay $i exited $code"; bad=1; break 2
      fi
      if [[ -z $first ]]; then
        first=$sum
        if (( $(wc -l <"$work/trace") > 100000 )); then runs=3; fi
      fi
      if [[ $sum != "$first" ]]; then
        echo "FAIL $mutant: $bin replay $i printed another trace"; bad=1; break 2
      fi
    done
  done
  if [[ $bad -ne 0 ]]; then failed=$((failed + 1)); continue; fi
  echo "ok   $mutant: $(basename "$crash") replays $runs/$runs with one trace in $# builds ($(grep -c . "$work/trace") lines)"
done
[[ $failed -eq 0 ]]
