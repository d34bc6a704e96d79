#!/usr/bin/env bash
# The kernel target on several file systems: for each of ext4, xfs, btrfs
# (loop-mounted images) and tmpfs, makes and mounts it in a private temp
# directory, runs `pagerace soak --target kernel` there, and always unmounts
# and removes it again (on failure and on Ctrl-C too). A file system that
# cannot be set up here (not root, no mkfs tool, no loop device, no kernel
# support) is skipped with a one-line reason.
#
# usage: ci/fs-matrix.sh [--duration S] [--threads N] [--fs "ext4 xfs btrfs tmpfs"]
#                        [--pagerace BIN] [--out DIR] [-- more soak flags]
# Writes DIR/<fs>.json (the soak's --json) and DIR/<fs>.log, and prints a
# table. Exit: 0 every file system that could be set up soaked clean (and
# at least one could), 1 a finding (its artifact is in DIR/artifacts; replay
# it on the same file system with the printed command), 3 a soak failed to
# run, 4 every file system was skipped: nothing was tested.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=60
threads=4
systems="ext4 xfs btrfs tmpfs"
pagerace=build/release/pagerace
out=pagerace-fs-matrix
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --fs) systems=$2; shift 2 ;;
    --pagerace) pagerace=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "fs-matrix: unknown argument '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $pagerace ]] || { echo "fs-matrix: no pagerace at $pagerace (build it, or pass --pagerace)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=ci/fs-lib.sh
source ci/fs-lib.sh
fs_start

status=0
tested=0
rows=()
for fs in $systems; do
  if ! fs_mount "$fs"; then
    echo "skip $fs: $fs_reason"
    rows+=("| $fs | skipped: $fs_reason | | | |")
    continue
  fi
  mnt=$fs_dir
  tested=$((tested + 1))
  echo "== $fs at $mnt ($duration s, $threads threads)"
  rc=0
  "$pagerace" soak --target kernel --dir "$mnt" --duration "$duration" --threads "$threads" \
    --json "$out/$fs.json" --artifacts "$out/artifacts" "${extra[@]}" >"$out/$fs.log" 2>&1 || rc=$?
  head -1 "$out/$fs.log"
  tail -n +2 "$out/$fs.log" | grep -v '^\[\|^swarm' || true
  fs_umount "$fs"
  case $rc in
    0) result=clean ;;
    1) result=FINDING; status=1 ;;
    *) result="failed (exit $rc)"; [[ $status -eq 0 ]] && status=3 ;;
  esac
  ops=$(sed -n 's/.*"ops": \([0-9]*\).*/\1/p' "$out/$fs.json" 2>/dev/null || true)
  rate=$(sed -n 's/.*"ops_per_sec": \([0-9.]*\).*/\1/p' "$out/$fs.json" 2>/dev/null || true)
  options=$(sed -n 's/.*"mount_options": "\([^"]*\)".*/\1/p' "$out/$fs.json" 2>/dev/null || true)
  rows+=("| $fs | $result | ${ops:-} | ${rate%.*} | ${options:-} |")
done

echo
echo "| fs | result | ops | ops/s | mount options |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "kernel $(uname -r); logs and --json in $out"
if [[ $tested -eq 0 ]]; then
  echo "fs-matrix: every file system was skipped: nothing was tested (exit 4)" >&2
  exit 4
fi
exit $status
