#!/usr/bin/env bash
# ThreadSanitizer over real threads: the tsan build's pagecache_fuzzer with
# PAGERACE_SCHEDULE=free (under the controlled scheduler one OS thread runs
# everything and TSan has nothing to see) and `pagerace soak` (free threads),
# side by side for --seconds each. A TSan report stops either with exit 66;
# the fuzzer keeps the racing input (halt_on_error: sanitizers/tsan.options,
# compiled into the build). Exit 0: no report and no finding; 1: a TSan
# report or a finding (logs and inputs in --out).
#
# usage: ci/tsan-soak.sh [--seconds 300] [--mutant M] [--build build/tsan] [--out tsan-out]
# With --mutant, the model runs that mutant: a data-race mutant
# (read-folio-unlocked) is expected to draw a TSan report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=300 mutant="" build=build/tsan out=tsan-out
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { echo "tsan-soak: $1 needs a value" >&2; exit 2; }
  case $1 in
    --seconds) seconds=$2 ;;
    --mutant) mutant=$2 ;;
    --build) build=$2 ;;
    --out) out=$2 ;;
    *) echo "tsan-soak: unknown argument '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[[ -x $build/pagerace && -x $build/targets/pagecache_fuzzer ]] ||
  { echo "tsan-soak: no tsan build in $build (cmake --preset tsan && cmake --build --preset tsan)" >&2; exit 2; }
mkdir -p "$out/corpus" "$out/tmp"
out=$(cd "$out" && pwd)
cp "$build"/corpus/pagecache_fuzzer/* "$out/corpus/"
# The tsan build carries sanitizers/tsan.options and tsan.supp compiled in.
export TMPDIR=$out/tmp
mutant_flags=()
[[ -n $mutant ]] && mutant_flags=(--mutant "$mutant")

echo "tsan-soak: ${seconds}s of fuzzing (free threads) and ${seconds}s of soak${mutant:+, mutant $mutant}"
# A hard limit on each: a crash handler that forks a symbolizer from a
# multi-threaded TSan process can deadlock (seen once with a mutant's abort).
limit=$((seconds + 300))
PAGERACE_SCHEDULE=free PAGERACE_MUTANT=$mutant timeout -k 30 "$limit" "$build/targets/pagecache_fuzzer" \
  -max_total_time="$seconds" -timeout=60 -artifact_prefix="$out/" "$out/corpus" >"$out/fuzz.log" 2>&1 &
fuzz_pid=$!
soak_rc=0
timeout -k 30 "$limit" "$build/pagerace" soak --duration "$seconds" "${mutant_flags[@]}" \
  --artifacts "$out/artifacts" --json "$out/soak.json" >"$out/soak.log" 2>&1 || soak_rc=$?
fuzz_rc=0
wait "$fuzz_pid" || fuzz_rc=$?

status=0
for run in fuzz soak; do
  rc_var=${run}_rc
  log=$out/$run.log
  if grep -q "WARNING: ThreadSanitizer" "$log"; then
    echo "$run: ThreadSanitizer report (exit ${!rc_var}):"
    grep -A12 -m1 "WARNING: ThreadSanitizer" "$log" | sed 's/^/  /'
    status=1
  elif [[ ${!rc_var} -ne 0 ]]; then
    echo "$run: exit ${!rc_var}:"
    grep -E "FINDING|pagerace:|ERROR" "$log" | head -5 | sed 's/^/  /'
    status=1
  else
    echo "$run: clean: $(grep -E '^#[0-9]+.*DONE|^Done|ops in' "$log" | tail -1)"
  fi
done
exit $status
