#!/usr/bin/env bash
# Throughput (exec/s) of the libFuzzer targets with no mutant (no
# PAGERACE_MUTANT), per fuzz build and target, as a fixed workload: one core
# (taskset -c 0 when available), a fresh copy of the build's seed corpus
# (build/PRESET/corpus/TARGET), -seed=1 -runs=N; exec/s = N / wall seconds
# (date +%s.%N around the run). The targets:
#   pagecache_fuzzer      the model (PAGERACE_BACKEND from --backend,
#                         PAGERACE_SCHEDULE from the environment, default
#                         controlled)
#   kernel_file_fuzzer    the host kernel's page cache on real files, in the
#                         run's own temp dir (PAGERACE_DIR) on $TMPDIR's file
#                         system; real threads (schedule free), all on the one
#                         core; --kernel-runs runs, as each does file I/O
#   program_codec_fuzzer  the program codec and text parser (no I/O)
# K repeats per build and target: prints each repeat with libFuzzer's final
# cov:/corp: line, keeps them in OUT/throughput.csv
# (build,target,repeat,runs,seconds,exec_per_sec), and ends with a Markdown
# table (median, min, max exec/s), also saved as OUT/throughput.md. Measures,
# never asserts.
#
#   bench/fuzz_throughput.sh [--builds PRESET,...] [--targets TARGET,...]
#       [--runs N] [--kernel-runs N] [--repeat K] [--backend memory|file]
#       [--max-len BYTES] [--out DIR]
#
# Defaults: builds fuzz-release,fuzz; target pagecache_fuzzer; 200000 runs
# (kernel_file_fuzzer: 10000); 3 repeats; backend memory; OUT bench-out.
# Each build must be built first (build/PRESET/targets/TARGET and its seed
# corpus). The fuzz preset (ASan+UBSan) is several times slower than
# fuzz-release, tsan (ThreadSanitizer) slower still. bench/throughput runs
# this for every target and fuzz build.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 [--builds PRESET,...] [--targets TARGET,...] [--runs N] [--kernel-runs N] [--repeat K]" \
    "[--backend memory|file] [--max-len BYTES] [--out DIR]" >&2
  exit 2
}
builds=fuzz-release,fuzz targets=pagecache_fuzzer runs=200000 kernel_runs=10000 repeat=3 backend=memory max_len=0
out=bench-out
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case $1 in
    --builds) builds=$2 ;;
    --targets) targets=$2 ;;
    --runs) runs=$2 ;;
    --kernel-runs) kernel_runs=$2 ;;
    --repeat) repeat=$2 ;;
    --backend) backend=$2 ;;
    --max-len) max_len=$2 ;;
    --out) out=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $runs =~ ^[1-9][0-9]*$ && $kernel_runs =~ ^[1-9][0-9]*$ && $repeat =~ ^[1-9][0-9]*$ ]] || usage
[[ $max_len =~ ^[0-9]+$ && -n $out ]] || usage
# libFuzzer's -max_len: 0 keeps its default (4096 bytes; programs are capped at 256 ops).
len_flag=()
[[ $max_len == 0 ]] || len_flag=(-max_len="$max_len")
[[ $backend == memory || $backend == file ]] || usage
IFS=, read -ra build_list <<<"$builds"
IFS=, read -ra target_list <<<"$targets"
[[ ${#build_list[@]} -gt 0 && ${#target_list[@]} -gt 0 ]] || usage
for target in "${target_list[@]}"; do
  case $target in
    pagecache_fuzzer | kernel_file_fuzzer | program_codec_fuzzer) ;;
    *) echo "unknown target '$target' (pagecache_fuzzer, kernel_file_fuzzer or program_codec_fuzzer)" >&2; usage ;;
  esac
done
for build in "${build_list[@]}"; do
  for target in "${target_list[@]}"; do
    if [[ ! -x build/$build/targets/$target ]] || ! compgen -G "build/$build/corpus/$target/*" >/dev/null; then
      echo "build/$build/targets/$target or its seeds are missing: build the $build preset first" >&2
      exit 2
    fi
    grep -qa max_total_time "build/$build/targets/$target" ||
      { echo "build/$build/targets/$target is not a libFuzzer binary (use a fuzz preset)" >&2; exit 2; }
  done
done

# shellcheck source=bench/lib.sh
source bench/lib.sh
settings="-seed=1"
if [[ ,$targets, != *,kernel_file_fuzzer,* ]]; then settings+=" -runs=$runs"
elif [[ $targets == kernel_file_fuzzer ]]; then settings+=" -runs=$kernel_runs"
else settings+=" -runs=$runs (kernel_file_fuzzer: $kernel_runs)"
fi
settings+=" ${len_flag[*]:-(default -max_len)}"
[[ ,$targets, == *,pagecache_fuzzer,* ]] &&
  settings+=", pagecache_fuzzer: backend $backend, schedule ${PAGERACE_SCHEDULE:-controlled}"
[[ ,$targets, == *,kernel_file_fuzzer,* ]] &&
  settings+=", kernel_file_fuzzer: files on ${TMPDIR:-/tmp} ($(stat -f -c %T "${TMPDIR:-/tmp}")), schedule free"
settings+=", no mutant, ${pin[*]:-not pinned}, $repeat repeats"

mkdir -p "$out"
start_work
csv=$out/throughput.csv
echo "build,target,repeat,runs,seconds,exec_per_sec" >"$csv"

echo "$settings"
for build in "${build_list[@]}"; do
  for target in "${target_list[@]}"; do
    n=$runs
    # The kernel target takes PAGERACE_DIR for its files and only the free
    # schedule; the model's backend and schedule are not its own.
    target_env=(PAGERACE_BACKEND="$backend")
    if [[ $target == kernel_file_fuzzer ]]; then
      n=$kernel_runs
      target_env=(-u PAGERACE_BACKEND -u PAGERACE_SCHEDULE PAGERACE_DIR="$work/run/tmp")
    fi
    for r in $(seq 1 "$repeat"); do
      rm -rf "$work/run" && mkdir -p "$work/run/corpus" "$work/run/tmp"
      cp "build/$build/corpus/$target"/* "$work/run/corpus/"
      code=0
      t0=$(now)
      # -handle_term=0: TERM (cleanup's, on INT or TERM) ends the fuzzer at
      # once; libFuzzer's own handler exits through atexit, where a TSan
      # build hangs (a signal-unsafe call inside a signal). Its files are in $work.
      (cd "$work/run" && exec env -u PAGERACE_MUTANT "${target_env[@]}" \
        TMPDIR="$work/run/tmp" "${pin[@]}" "$OLDPWD/build/$build/targets/$target" -seed=1 -runs="$n" \
        "${len_flag[@]}" -handle_term=0 -artifact_prefix="$work/run/" corpus >log 2>&1) &
      child=$!
      wait "$child" || code=$?
      child=
      t1=$(now)
      if [[ $code != 0 ]]; then
        # No number for this target: with no mutant it must run clean (a
        # kernel_file_fuzzer finding would be the host kernel's).
        echo "$build $target repeat $r: exited $code with no mutant; its output:" >&2
        tail -30 "$work/run/log" >&2
        exit 1
      fi
      final=$(grep -E '^#[0-9]+.*cov:' "$work/run/log" | tail -1 | sed -E 's/^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+//; s/ (lim|exec\/s):.*//')
      awk -v b="$build" -v t="$target" -v r="$r" -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN {
        s = t1 - t0; printf "%s,%s,%s,%d,%.3f,%.0f\n", b, t, r, n, s, (s > 0 ? n / s : 0) }' >>"$csv"
      tail -1 "$csv" | awk -F, -v final="$final" '{
        printf "%s %s repeat %s: %d runs in %s s = %s exec/s; final %s\n", $1, $2, $3, $4, $5, $6, final }'
    done
  done
done

{
echo
echo "$settings"
echo
echo "| build | target | median exec/s | min | max |"
echo "|---|---|---|---|---|"
awk -F, 'NR > 1 {
  k = $1 " | " $2
  if (!(k in n)) order[++keys] = k
  n[k]++; v[k, n[k]] = $6
} END {
  for (b = 1; b <= keys; b++) {
    k = order[b]; m = n[k]
    for (i = 1; i <= m; i++) x[i] = v[k, i] + 0
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { y = x[i]; x[i] = x[j]; x[j] = y }
    med = m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
    printf "| %s | %.0f | %.0f | %.0f |\n", k, med, x[1], x[m]
  }
}' "$csv"
} | tee "$out/throughput.md"
