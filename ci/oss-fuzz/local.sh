#!/usr/bin/env bash
# OSS-Fuzz's builder and check_build, emulated without Docker (no daemon
# runs here). For libFuzzer x {address, undefined} and AFL++ x address it
# sets what the base-builder image sets (CC CXX CFLAGS CXXFLAGS with
# -stdlib=libc++, LIB_FUZZING_ENGINE, SRC WORK OUT SANITIZER
# FUZZING_ENGINE ARCHITECTURE), runs ci/oss-fuzz/build.sh, moves $OUT (a
# hard-coded path breaks there) and checks each target as check_build does:
#   libFuzzer: -seed=1337 -runs=4 prints "Done 4 runs"; at least 100 edges
#     ("INFO: Loaded 1 modules (N inline 8-bit counters)"); an ASan build
#     calls __asan at least 1000 times;
#   AFL++: afl-fuzz prints "All set and ready to roll" within 35 s.
# Then it fuzzes each libFuzzer target briefly (--fuzz-seconds, default 20)
# from its seed corpus with its .options, and replays every regression in
# corpus/regressions/ through pagecache_fuzzer as OSS-Fuzz reproduces a crash
# (libFuzzer: -runs=100): with its mutant it must crash with a replay line,
# on the correct model it must run clean.
#
# liburing's source comes from Debian (apt-get source, into a cache under
# ~/.cache/pagerace; the system's apt configuration is not touched), as the
# Dockerfile's clone would bring it. Needs clang-14, libc++-14-dev, afl++,
# zip, cmake, ninja (ci/install-deps.sh installs them).
#
# usage: ci/oss-fuzz/local.sh [--fuzz-seconds S] [--configs "libfuzzer:address libfuzzer:undefined afl:address"] [--keep]
# Exit 0 when every check passes; 1 and the failing check otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
fuzz_seconds=20
configs="libfuzzer:address libfuzzer:undefined afl:address"
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    --configs) configs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "local.sh: unknown argument '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/pagerace-oss-fuzz.XXXXXX)
cleanup() { [[ $keep -eq 1 ]] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "local.sh: FAIL: $*" >&2; exit 1; }

# --- the sources, as the Dockerfile lays them out in $SRC -------------------
src=$work/src
mkdir -p "$src"
ln -s "$root" "$src/pagerace"
liburing_cache=${XDG_CACHE_HOME:-$HOME/.cache}/pagerace/liburing
if [[ ! -f $liburing_cache/configure ]]; then
  echo "liburing: fetching Debian's source package"
  apt_dir=$work/apt
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/get"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
    >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/get")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir/get" && apt-get "${apt_opts[@]}" source --download-only -qq liburing 2>/dev/null)
  mkdir -p "$liburing_cache"
  tar -xzf "$apt_dir"/get/liburing_*.orig.tar.gz -C "$liburing_cache" --strip-components=1
fi
cp -r "$liburing_cache" "$src/liburing"

# --- the base-builder's flags ------------------------------------------------
common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr
ubsan_fatal=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr
san_flags() {
  case $1 in
    address) echo "-fsanitize=address -fsanitize-address-use-after-scope" ;;
    undefined) echo "-fsanitize=$ubsan_checks -fno-sanitize-recover=$ubsan_fatal" ;;
  esac
}
# The run-time options OSS-Fuzz uses (unsigned overflow is reported, not
# fatal, and silenced: hashing and the PRNG wrap on purpose).
export ASAN_OPTIONS=alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3
export UBSAN_OPTIONS=print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1:dedup_token_length=3:halt_on_error=1
targets="pagecache_fuzzer kernel_file_fuzzer program_codec_fuzzer"

check_libfuzzer() {  # out san target
  local out=$1 san=$2 t=$3 log edges asan_calls
  log=$work/check-$t.log
  (cd "$work/run" && "$out/$t" -seed=1337 -runs=4 >"$log" 2>&1) || { tail -20 "$log"; fail "$t: -runs=4 failed"; }
  grep -q "^Done 4 runs" "$log" || fail "$t: no 'Done 4 runs'"
  edges=$(sed -n 's/.*INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log")
  [[ ${edges:-0} -ge 100 ]] || fail "$t: ${edges:-0} edges (check_build wants 100)"
  if [[ $san == address ]]; then
    asan_calls=$(objdump -d --no-show-raw-insn "$out/$t" | grep -c 'call.*<__asan' || true)
    [[ $asan_calls -ge 1000 ]] || fail "$t: $asan_calls calls to __asan (check_build wants 1000)"
  fi
  echo "  $t: Done 4 runs, $edges edges${asan_calls:+, $asan_calls __asan calls}"
}

check_afl() {  # out target
  local out=$1 t=$2 log=$work/afl-$2.log
  rm -rf "$work/afl-in" "$work/afl-out"
  mkdir -p "$work/afl-in"
  unzip -q -o "$out/${t}_seed_corpus.zip" -d "$work/afl-in"
  # afl-fuzz wants sanitizers to abort and not symbolize, as OSS-Fuzz runs it.
  ASAN_OPTIONS=$ASAN_OPTIONS:abort_on_error=1:symbolize=0 UBSAN_OPTIONS=$UBSAN_OPTIONS:abort_on_error=1:symbolize=0 \
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    AFL_BENCH_UNTIL_CRASH=1 timeout 35 afl-fuzz -i "$work/afl-in" -o "$work/afl-out" -V 5 -- "$out/$t" \
    >"$log" 2>&1 || true
  grep -q "All set and ready to roll" "$log" || { tail -20 "$log"; fail "$t: afl-fuzz did not start within 35 s"; }
  echo "  $t: afl-fuzz: All set and ready to roll"
}

fuzz_briefly() {  # out target
  local out=$1 t=$2 dir=$work/corpus-$2 log=$work/fuzz-$2.log flags
  rm -rf "$dir"
  mkdir -p "$dir"
  unzip -q -o "$out/${t}_seed_corpus.zip" -d "$dir"
  read -r -a flags <<<"$(ci/libfuzzer-flags.sh "$out/$t.options")"
  (cd "$out" && TMPDIR=$work/run "./$t" "${flags[@]}" -max_total_time="$fuzz_seconds" \
    -artifact_prefix="$work/run/" "$dir" >"$log" 2>&1) || { tail -30 "$log"; fail "$t: fuzzing found a crash"; }
  echo "  $t: fuzzed ${fuzz_seconds}s: $(grep -E '^#[0-9]+' "$log" | tail -1 | awk '{print $1, $2, $3, $4}')"
}

replay_regressions() {  # out build engine
  local out=$1 build=$2 runs=() f name mutant bin log
  # AFL++'s driver runs each file once and takes every argument for a file.
  [[ $3 == libfuzzer ]] && runs=(-runs=100)
  for f in corpus/regressions/*.txt; do
    name=$(basename "$f" .txt)
    mutant=$(sed -n 's/^# mutant: //p' "$f" | head -1)  # a file named otherwise says its mutant
    bin=$work/regressions/$name
    mkdir -p "$work/regressions"
    "$build/pagerace" encode "$f" -o "$bin" >/dev/null
    log=$work/replay-$name.log
    if (cd "$work/run" && PAGERACE_MUTANT=${mutant:-$name} "$out/pagecache_fuzzer" "${runs[@]}" "$bin" >"$log" 2>&1); then
      fail "regression $name: the mutant's program ran clean"
    fi
    grep -q "REPRO: pagerace replay" "$log" || { tail -20 "$log"; fail "regression $name: no replay line"; }
    (cd "$work/run" && "$out/pagecache_fuzzer" "${runs[@]}" "$bin" >"$log" 2>&1) ||
      { tail -20 "$log"; fail "regression $name: the correct model found something"; }
  done
  echo "  regressions: $(ls corpus/regressions/*.txt | wc -l) crash on their mutant, run clean without (${runs[*]:-once each})"
}

for config in $configs; do
  engine=${config%%:*} san=${config##*:}
  echo "== $engine x $san"
  export SRC=$src WORK=$work/work-$engine-$san OUT=$work/out-$engine-$san
  export SANITIZER=$san FUZZING_ENGINE=$engine ARCHITECTURE=x86_64
  rm -rf "$WORK" "$OUT" "$work/run"
  mkdir -p "$WORK" "$OUT" "$work/run"
  case $engine in
    libfuzzer)
      export CC=clang-14 CXX=clang++-14 LIB_FUZZING_ENGINE=-fsanitize=fuzzer
      export CFLAGS="$common $(san_flags "$san") -fsanitize=fuzzer-no-link" ;;
    afl)
      export CC=afl-clang-fast CXX=afl-clang-fast++ LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
      export AFL_QUIET=1 CFLAGS="$common $(san_flags "$san")" ;;
    *) fail "unknown engine $engine" ;;
  esac
  export CXXFLAGS="$CFLAGS -stdlib=libc++"
  # Debian's libFuzzer runtime (and AFL++'s driver) is built against
  # libstdc++, OSS-Fuzz's against its own libc++: link libstdc++ beside it.
  export LDFLAGS="$(gcc -print-file-name=libstdc++.so.6)"
  bash ci/oss-fuzz/build.sh >"$work/build-$engine-$san.log" 2>&1 ||
    { tail -30 "$work/build-$engine-$san.log"; fail "build.sh ($engine x $san)"; }
  for t in $targets; do
    for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
      [[ -f $OUT/$f ]] || fail "\$OUT has no $f"
    done
  done
  # check_build runs the targets from another place than the build wrote.
  mv "$OUT" "$OUT-moved"
  out=$OUT-moved
  for t in $targets; do
    case $engine in
      libfuzzer) check_libfuzzer "$out" "$san" "$t" ;;
      afl) check_afl "$out" "$t" ;;
    esac
  done
  if [[ $engine == libfuzzer ]]; then
    for t in $targets; do fuzz_briefly "$out" "$t"; done
  fi
  replay_regressions "$out" "$WORK/build" "$engine"
  unset AFL_QUIET
done
echo "local.sh: all checks passed"
