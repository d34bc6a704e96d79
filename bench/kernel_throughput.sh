#!/usr/bin/env bash
# Throughput of the kernel target (pagerace soak --target kernel), in ops/s,
# on file systems made for the run (ci/fs-lib.sh: ext4 loop image, tmpfs,
# also xfs and btrfs), for 1, 2, 4 and 8 threads, with two op mixes:
#   fsx-like  read=2,write=2,load=1,store=1,punch=1,zero=1 (fsx's mix with its
#             unsupported and size-changing ops off; see below)
#   fsx-like-256  the same with programs of up to 256 ops per thread, so
#             that the per-round reset and end-of-run check (every byte
#             read back) weigh less, as fsx checks once per run
#   swarm     the soak's default (swarms of every op kind)
# and, when fsx from xfstests is found (--fsx, $FSX or `fsx` in PATH), fsx on
# the same file system for the same time, single process, on a file of 64
# pages with ops of at most 8 KiB (pagerace's sizes):
#   fsx -q -S 1 -l 262144 -o 8192 --duration=S -C -I -J -B -E -F -Y -T FILE
# fsx counts the ops it drew but skipped (kinds turned off or unsupported) as
# ops ("All N operations completed"). Its --record-ops log holds the last
# 10,000 ops only, so the ops it did are N times the share of its log that is
# not "skip"; the table shows both counts.
# Each row is one run of --duration seconds. Prints a Markdown table, also
# saved as OUT/kernel_throughput.md, and OUT/kernel_throughput.csv. Needs
# root to mount; `--fs host` runs in $TMPDIR's own file system instead.
# Measures, never asserts.
#
#   bench/kernel_throughput.sh [--fs "ext4 tmpfs"] [--threads "1 2 4 8"]
#       [--duration 20] [--pagerace build/release/pagerace] [--fsx PATH] [--out bench-out]
# Takes about (3 x threads + 1) x duration seconds per file system.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 [--fs \"ext4 tmpfs\"] [--threads \"1 2 4 8\"] [--duration S] [--pagerace BIN] [--fsx PATH] [--out DIR]" >&2
  exit 2
}
systems="ext4 tmpfs" threads="1 2 4 8" duration=20 pagerace=build/release/pagerace fsx=${FSX:-} out=bench-out
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case $1 in
    --fs) systems=$2 ;;
    --threads) threads=$2 ;;
    --duration) duration=$2 ;;
    --pagerace) pagerace=$2 ;;
    --fsx) fsx=$2 ;;
    --out) out=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $duration =~ ^[1-9][0-9]*$ ]] || usage
[[ -x $pagerace ]] || { echo "no pagerace at $pagerace: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
[[ -z $fsx ]] && fsx=$(command -v fsx || true)
mkdir -p "$out"
fsx_mix="read=2,write=2,load=1,store=1,punch=1,zero=1"

# shellcheck source=ci/fs-lib.sh
source ci/fs-lib.sh
fs_start

csv=$out/kernel_throughput.csv
echo "fs,tool,mix,threads,seconds,ops,ops_per_sec,ops_counted,ops_counted_per_sec" >"$csv"
rows=()
row() {  # fs tool mix threads seconds ops counted
  local rate counted_rate
  rate=$(awk -v o="$6" -v s="$5" 'BEGIN { printf "%.0f", o / s }')
  counted_rate=$(awk -v o="$7" -v s="$5" 'BEGIN { printf "%.0f", o / s }')
  echo "$1,$2,$3,$4,$5,$6,$rate,$7,$counted_rate" >>"$csv"
  rows+=("| $1 | $2 | $3 | $4 | $rate | $counted_rate |")
  echo "  $2 $3 x$4: $rate ops/s (counted: $counted_rate)"
}

for fs in $systems; do
  if [[ $fs == host ]]; then
    fs_dir=${TMPDIR:-/tmp}
  elif ! fs_mount "$fs"; then
    echo "skip $fs: $fs_reason"
    continue
  fi
  echo "== $fs ($fs_dir)"
  for mix in fsx-like fsx-like-256 swarm; do
    for t in $threads; do
      flags=()
      [[ $mix == fsx-like* ]] && flags=(--mix "$fsx_mix")
      [[ $mix == fsx-like-256 ]] && flags+=(--ops-per-thread 256)
      "$pagerace" soak --target kernel --dir "$fs_dir" --threads "$t" --duration "$duration" --seed 1 \
        "${flags[@]}" --json "$fs_root/soak.json" >"$fs_root/soak.log" 2>&1 ||
        { echo "soak failed on $fs:"; tail -5 "$fs_root/soak.log"; exit 1; }
      ops=$(sed -n 's/.*"ops": \([0-9]*\).*/\1/p' "$fs_root/soak.json")
      secs=$(sed -n 's/.*"duration_s": \([0-9.]*\).*/\1/p' "$fs_root/soak.json")
      row "$fs" pagerace "$mix" "$t" "$secs" "$ops" "$ops"
    done
  done
  if [[ -n $fsx ]]; then
    file=$fs_dir/fsx-file
    t0=$(date +%s.%N)
    "$fsx" -q -S 1 -l 262144 -o 8192 --duration="$duration" -C -I -J -B -E -F -Y -T \
      --record-ops="$fs_root/fsx.ops" "$file" >"$fs_root/fsx.log" 2>&1 ||
      { echo "fsx failed on $fs:"; tail -5 "$fs_root/fsx.log"; exit 1; }
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    counted=$(sed -n 's/.*All \([0-9]*\) operations completed.*/\1/p' "$fs_root/fsx.log")
    logged=$(wc -l <"$fs_root/fsx.ops")
    did=$(grep -vc '^skip' "$fs_root/fsx.ops" || true)
    done_ops=$(awk -v n="$counted" -v d="$did" -v l="$logged" 'BEGIN { printf "%.0f", n * d / l }')
    row "$fs" fsx "fsx -C -I -J -B -E -F -Y -T" 1 "$secs" "$done_ops" "$counted"
    rm -f "$file"* "$fs_root/fsx.ops"
  else
    echo "  fsx: not found (pass --fsx PATH or set FSX)"
  fi
  [[ $fs == host ]] || fs_umount "$fs"
done

{
  echo "kernel $(uname -r), $(nproc) cores, ${duration} s per row"
  echo
  echo "| fs | tool | mix | threads | ops/s | ops/s as the tool counts them |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$out/kernel_throughput.md"
