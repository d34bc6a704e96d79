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
# --sizes N1,N2,...: exec/s by input size instead, for pagecache_fuzzer: for
# each N, a fixed program of N ops (4 threads, one 16-page file, every op
# kind in turn over a few hot pages, random schedule; written as text and
# encoded by --pagerace BIN, default build/release/pagerace) is run alone,
# -runs=R (R = max(20, 20000 / N)) less the same with -runs=1 (start-up:
# loading the binary, libFuzzer's tables), so exec/s = (R - 1) / the
# difference. Writes OUT/sizes.csv (build,ops,bytes,repeat,exec_per_sec)
# and a table of the median per build and size (OUT/sizes.md).
# ASAN_OPTIONS and UBSAN_OPTIONS are the caller's: pass sanitizers/*.options
# (as ci/test.sh does) to measure what CI and OSS-Fuzz run.
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
    "[--backend memory|file] [--max-len BYTES] [--sizes N1,N2,...] [--pagerace BIN] [--out DIR]" >&2
  exit 2
}
builds=fuzz-release,fuzz targets=pagecache_fuzzer runs=200000 kernel_runs=10000 repeat=3 backend=memory max_len=0
out=bench-out sizes='' pagerace=build/release/pagerace
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
    --sizes) sizes=$2 ;;
    --pagerace) pagerace=$2 ;;
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

# The --sizes program of $1 ops, as text.
sized_program() {
  awk -v n="$1" 'BEGIN {
    split("read write punch readahead evict load store fsync madvise readahead2 write-mapped zero fdatasync " \
          "truncate dio-read dio-write collapse insert", kinds, " ")
    nk = 18
    print "pagerace 1\nfiles 1\nfile-pages 16\nra-pages 4\nseed 0x1\nschedule random"
    for (t = 0; t < 4 && t < n; t++) {
      print "thread " t
      for (i = t; i < n; i += 4) {
        k = kinds[i % nk + 1]; page = (i * 3) % 6; s = page * 8 + (i % 5)
        if (k == "truncate") print k " f0 s" (s + 64)
        else if (k ~ /^(dio-|collapse|insert)/) print k " f0 s" (page * 8) "+8"
        else print k " f0 s" s "+" (4 + i % 13)
      }
    }
  }'
}

if [[ -n $sizes ]]; then
  [[ -x $pagerace ]] || { echo "no pagerace at $pagerace to encode the programs (build release, or pass --pagerace)" >&2; exit 2; }
  IFS=, read -ra size_list <<<"$sizes"
  mkdir -p "$out"
  start_work
  csv=$out/sizes.csv
  echo "build,ops,bytes,repeat,exec_per_sec" >"$csv"
  echo "exec/s by input size: pagecache_fuzzer, no mutant, backend $backend, ${pin[*]:-not pinned}, $repeat repeats," \
    "ASAN_OPTIONS=${ASAN_OPTIONS:-(unset)}"
  for n in "${size_list[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ && $n -le 256 ]] || { echo "--sizes: $n is not 1..256" >&2; exit 2; }
    sized_program "$n" >"$work/p$n.txt"
    "$pagerace" encode "$work/p$n.txt" -o "$work/p$n.bin" >/dev/null
  done
  timed() {  # timed BUILD FILE RUNS: wall seconds of the target on FILE, RUNS times
    local t0 t1
    t0=$(now)
    (cd "$work" && exec env -u PAGERACE_MUTANT PAGERACE_BACKEND="$backend" TMPDIR="$work" "${pin[@]}" \
      "$OLDPWD/build/$1/targets/pagecache_fuzzer" -runs="$3" "$2" >/dev/null 2>"$work/log") ||
      { echo "build/$1 on $2 failed:" >&2; tail -20 "$work/log" >&2; exit 1; }
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
  }
  for build in "${build_list[@]}"; do
    for n in "${size_list[@]}"; do
      r=$((20000 / n)); ((r >= 20)) || r=20
      for k in $(seq 1 "$repeat"); do
        one=$(timed "$build" "$work/p$n.bin" 1)
        many=$(timed "$build" "$work/p$n.bin" "$r")
        awk -v b="$build" -v n="$n" -v by="$(stat -c %s "$work/p$n.bin")" -v k="$k" -v r="$r" -v one="$one" -v many="$many" \
          'BEGIN { d = many - one; printf "%s,%d,%d,%d,%.0f\n", b, n, by - 4, k, (d > 0 ? (r - 1) / d : 0) }' >>"$csv"
        tail -1 "$csv"
      done
    done
  done
  {
    echo
    echo "| build | ops | input bytes | median exec/s |"
    echo "|---|---|---|---|"
    awk -F, 'NR > 1 { k = $1 " | " $2 " | " $3; if (!(k in c)) order[++m] = k; v[k, ++c[k]] = $5 }
    END { for (i = 1; i <= m; i++) { k = order[i]; n = c[k]
            for (a = 1; a <= n; a++) x[a] = v[k, a] + 0
            for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++) if (x[b] < x[a]) { y = x[a]; x[a] = x[b]; x[b] = y }
            printf "| %s | %.0f |\n", k, (n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2) } }' "$csv"
  } | tee "$out/sizes.md"
  exit 0
fi

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
