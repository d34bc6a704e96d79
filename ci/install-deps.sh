#!/usr/bin/env bash
# Installs what pagerace needs to build and test on Debian 12, with apt-get,
# only what is missing. Idempotent; silent when everything is there.
set -euo pipefail

packages=(
  cmake ninja-build g++          # the build
  clang-14 libclang-rt-14-dev    # libFuzzer and the sanitizers' runtimes
  afl++                          # the afl, afl-tsan and afl-cmplog presets; ci/oss-fuzz/local.sh
  libc++-14-dev libc++abi-14-dev # ci/oss-fuzz/local.sh builds as OSS-Fuzz does, with libc++
  llvm-14 zip unzip              # llvm-cov (ci/coverage.sh); seed corpus zips
  libcli11-dev                   # the command line
  libgtest-dev                   # the tests
  libbenchmark-dev               # bench/micro: Google Benchmark microbenchmarks
  gnuplot-nox                    # bench/detect: the chart
  python3                        # bench/mutate and its operators' test
  liburing-dev                   # io_uring I/O (--io uring)
  libfuse3-dev fuse3             # the FUSE target (--target fuse)
  xfsprogs btrfs-progs           # ci/fs-matrix.sh: the kernel target on xfs and btrfs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
