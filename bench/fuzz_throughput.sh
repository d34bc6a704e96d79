#!/usr/bin/env bash
# Throughput (exec/s) of the pagecache_fuzzer libFuzzer target on the correct
# model (no PAGERACE_MUTANT), per fuzz build, as a fixed workload: one core
# (taskset -c 0 when available), a fresh copy of the build's seed corpus,
# -seed=1 -runs=N; exec/s = N / wall seconds (date +%s.%N around the run).
# K repeats per build: prints each repeat with libFuzzer's final cov:/corp:
# line, keeps them in OUT/throughput.csv, and ends with a Markdown table
# (median, min, max exec/s), also saved as OUT/throughput.md. Measures, never
# asserts.
#
#   bench/fuzz_throughput.sh [--builds PRESET,...] [--runs N] [--repeat K]
#       [--backend memory|file] [--max-len BYTES] [--out DIR]
#
# Defaults: builds fuzz-release,fuzz; 200000 runs; 3 repeats; backend memory
# (PAGERACE_BACKEND); OUT bench-out.
# PAGERACE_SCHEDULE passes through from the environment. Each build must be
# built first (build/PRESET/targets/pagecache_fuzzer and its seed corpus).
# The fuzz preset (ASan+UBSan) is several times slower than fuzz-release.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 [--builds PRESET,...] [--runs N] [--repeat K] [--backend memory|file] [--max-len BYTES] [--out DIR]" >&2
  exit 2
}
builds=fuzz-release,fuzz runs=200000 repeat=3 backend=memory max_len=0 out=bench-out
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case $1 in
    --builds) builds=$2 ;;
    --runs) runs=$2 ;;
    --repeat) repeat=$2 ;;
    --backend) backend=$2 ;;
    --max-len) max_len=$2 ;;
    --out) out=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $runs =~ ^[1-9][0-9]*$ && $repeat =~ ^[1-9][0-9]*$ && $max_len =~ ^[0-9]+$ && -n $out ]] || usage
# libFuzzer's -max_len: 0 keeps its default (4096 bytes; programs are capped at 256 ops).
len_flag=()
[[ $max_len == 0 ]] || len_flag=(-max_len="$max_len")
[[ $backend == memory || $backend == file ]] || usage
IFS=, read -ra build_list <<<"$builds"
[[ ${#build_list[@]} -gt 0 ]] || usage
for build in "${build_list[@]}"; do
  if [[ ! -x build/$build/targets/pagecache_fuzzer ]] || ! compgen -G "build/$build/corpus/pagecache_fuzzer/*.bin" >/dev/null; then
    echo "build/$build/targets/pagecache_fuzzer or its seeds are missing: build the $build preset first" >&2
    exit 2
  fi
  grep -qa max_total_time "build/$build/targets/pagecache_fuzzer" ||
    { echo "build/$build/targets/pagecache_fuzzer is not a libFuzzer binary (use a fuzz preset)" >&2; exit 2; }
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
settings="-seed=1 -runs=$runs ${len_flag[*]:-(default -max_len)}, backend $backend, schedule ${PAGERACE_SCHEDULE:-controlled}, no mutant, ${pin[*]:-not pinned}, $repeat repeats"

mkdir -p "$out"
start_work
csv=$out/throughput.csv
echo "build,repeat,runs,seconds,exec_per_sec" >"$csv"

echo "$settings"
for build in "${build_list[@]}"; do
  for r in $(seq 1 "$repeat"); do
    rm -rf "$work/run" && mkdir -p "$work/run/corpus" "$work/run/tmp"
    cp "build/$build/corpus/pagecache_fuzzer"/*.bin "$work/run/corpus/"
    code=0
    t0=$(now)
    (cd "$work/run" && exec env -u PAGERACE_MUTANT PAGERACE_BACKEND="$backend" \
      TMPDIR="$work/run/tmp" "${pin[@]}" "$OLDPWD/build/$build/targets/pagecache_fuzzer" -seed=1 -runs="$runs" \
      "${len_flag[@]}" -artifact_prefix="$work/run/" corpus >log 2>&1) &
    child=$!
    wait "$child" || code=$?
    child=
    t1=$(now)
    if [[ $code != 0 ]]; then
      # No number for this build: the correct model must run clean.
      echo "$build repeat $r: pagecache_fuzzer exited $code on the correct model; its output:" >&2
      tail -30 "$work/run/log" >&2
      exit 1
    fi
    final=$(grep -E '^#[0-9]+.*cov:' "$work/run/log" | tail -1 | sed -E 's/^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+//; s/ (lim|exec\/s):.*//')
    awk -v b="$build" -v r="$r" -v n="$runs" -v t0="$t0" -v t1="$t1" 'BEGIN {
      s = t1 - t0; printf "%s,%s,%d,%.3f,%.0f\n", b, r, n, s, (s > 0 ? n / s : 0) }' >>"$csv"
    tail -1 "$csv" | awk -F, -v final="$final" '{
      printf "%s repeat %s: %d runs in %s s = %s exec/s; final %s\n", $1, $2, $3, $4, $5, final }'
  done
done

{
echo
echo "$settings"
echo
echo "| build | median exec/s | min | max |"
echo "|---|---|---|---|"
awk -F, 'NR > 1 {
  if (!($1 in n)) order[++builds] = $1
  n[$1]++; v[$1, n[$1]] = $5
} END {
  for (b = 1; b <= builds; b++) {
    k = order[b]; m = n[k]
    for (i = 1; i <= m; i++) x[i] = v[k, i] + 0
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { y = x[i]; x[i] = x[j]; x[j] = y }
    med = m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
    printf "| %s | %.0f | %.0f | %.0f |\n", k, med, x[1], x[m]
  }
}' "$csv"
} | tee "$out/throughput.md"
