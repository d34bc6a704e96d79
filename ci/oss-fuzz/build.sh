#!/bin/bash -eu
# The OSS-Fuzz / ClusterFuzzLite build recipe of pagerace: what the builder
# image runs (projects/pagerace/build.sh is a copy of this file;
# .clusterfuzzlite/build.sh calls it), and what ci/oss-fuzz/local.sh runs
# without Docker.
#
# Takes from the builder: CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT SRC
# WORK SANITIZER (FUZZING_ENGINE and ARCHITECTURE are only printed). Reads
# the sources from $SRC/pagerace, liburing's from $SRC/liburing (built here,
# statically, with the builder's flags) and CLI11's headers from
# $SRC/CLI11/include when present (else the system's). Writes to $OUT each
# target with its <target>_seed_corpus.zip, <target>.dict and
# <target>.options.
set -euo pipefail  # also when run as `bash build.sh`
src=${PAGERACE_SRC:-$SRC/pagerace}
echo "pagerace build.sh: engine ${FUZZING_ENGINE:-?}, sanitizer ${SANITIZER:-none}, arch ${ARCHITECTURE:-x86_64}"
jobs=$(nproc)

# liburing: a static library from source, calling libc (and so the
# sanitizers' interceptors) rather than raw system calls: the default up to
# 2.3, --use-libc in the releases that default to nolibc.
uring=$WORK/liburing
rm -rf "$uring"
cp -r "$SRC/liburing" "$uring"
libc=()
(cd "$uring" && ./configure --help | grep -q -- --use-libc) && libc=(--use-libc)
(cd "$uring" && ./configure --cc="$CC" --cxx="$CXX" "${libc[@]}" >/dev/null &&
  make -C src -j"$jobs" liburing.a CFLAGS="$CFLAGS -fPIC" >/dev/null)

cli11=()
[[ -d $SRC/CLI11/include ]] && cli11=(-DCLI11_INCLUDE_DIR="$SRC/CLI11/include")

# No CMAKE_BUILD_TYPE: the builder's CFLAGS/CXXFLAGS say how to optimize.
cmake -S "$src" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_COMPILER="$CXX" \
  -DPAGERACE_FUZZ_ENGINE=external -DPAGERACE_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DPAGERACE_TESTS=OFF -DPAGERACE_FUSE=OFF \
  -DLIBURING_INCLUDE_DIR="$uring/src/include" -DLIBURING_LIBRARY="$uring/src/liburing.a" \
  "${cli11[@]}" >/dev/null
cmake --build "$WORK/build" -j"$jobs" --target pagecache_fuzzer kernel_file_fuzzer program_codec_fuzzer seeds

for target in pagecache_fuzzer kernel_file_fuzzer program_codec_fuzzer; do
  cp "$WORK/build/targets/$target" "$OUT/"
  cp "$src/corpus/$target.dict" "$src/corpus/$target.options" "$OUT/"
  rm -f "$OUT/${target}_seed_corpus.zip"
  zip -q -j "$OUT/${target}_seed_corpus.zip" "$WORK/build/corpus/$target"/*
done
