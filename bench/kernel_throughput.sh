#!/usr/bin/env bash
# Throughput of the kernel target (pagerace soak --target kernel), in ops/s,
# against fsx from xfstests (ltp/fsx.c) doing the same kinds of ops on the
# same file system, made for the run (ci/fs-lib.sh: ext4 loop image, tmpfs,
# also xfs and btrfs). Each mix runs on both sides:
#
#   rw         pagerace  --mix read=1,write=1: pread and buffered pwrite
#              fsx       -L, mapped reads and writes off (-R -W): pread and
#                        buffered pwrite
#   rw+mapped  pagerace  --mix read=2,write=2,load=1,store=1: the loads and
#                        stores are copies through a shared mapping the
#                        target makes once a round (no msync)
#              fsx       -L: in 6 ops, 2 reads, 2 writes, 1 mapped read
#                        (mmap, copy, munmap) and 1 mapped write (mmap,
#                        copy, msync(MS_SYNC), munmap)
#   swarm      pagerace only: the soak's default, swarms drawn over every op
#              kind but the size ops (fsync and write-back among them)
#
# pagerace runs each mix with 1, 2, 4 and 8 threads (--threads), and its
# defaults otherwise: programs of 1 to 32 ops a thread on 1 or 2 files of 2
# to 16 pages, ops of at most 8 KiB at sector offsets, seeded pauses between
# ops when there are other threads, seed 1; artifacts in OUT/artifacts.
# fsx is one process (compare it with the 1-thread rows) on one file of 16
# pages that keeps its size: -L, fsx's "lite" mode, draws only reads, writes
# and their mapped, dontcache and atomic forms; with -l 65536 -o 8192 -r 512
# -w 512 (ops of at most 8 KiB at sector offsets) -S 1 -q.
#
# fsx's flags are learned, not assumed: the flag that turns an op kind off
# (mapped reads, mapped writes, atomic writes, dontcache I/O) is the one its
# `fsx -h` text describes, passed only if fsx accepts it on a one-op run
# (current xfstests' fsx lists -T, no dontcache I/O, but refuses it). The
# flags column shows what was passed. What fsx does that pagerace does not and could not
# be turned off is named in the `unmatched` column: dontcache reads and
# writes (a third of fsx's reads and writes are preadv2/pwritev2 with
# RWF_DONTCACHE) where the file system has them (a one-op fsx run without -q
# says when it has not). Atomic writes need O_DIRECT (-Z): fsx skips them.
#
# Columns:
#   ops/s          ops done / seconds. pagerace: the JSON's ops over its
#                  duration_s, the per-round reset (files, prefill, mappings)
#                  and end-of-round check (every byte read back, the history
#                  judged) included. fsx: over its --duration (the deadline
#                  of its op loop; the log dump after it is not timed; a
#                  failed run: the wall time), the ops it did, not the ones
#                  it drew and skipped (kinds off or unsupported, zero-length
#                  reads), which it counts ("All N operations completed"):
#                  N times the share of its --record-ops log (its last 10,000
#                  ops) not marked skip. fsx checks every read against its
#                  copy of the file as it goes and has no per-round reset.
#   ops/s in ops   pagerace: ops / the seconds its threads ran ops (the
#                  JSON's ops_duration_s), without the reset and the check.
#   ops/s counted  the tool's own count / seconds: fsx's N (skips included).
#   verdict        ok; finding KIND: ARTIFACT (pagerace exit 1); fsx failure
#                  (fsx exit 100 or more: a miscompare or a failed op; its
#                  logs kept in OUT/fsx-FS-MIX/).
# A finding ends that row's run early and the bench goes on. It exits 1 only
# on a real error (pagerace exit 2, 3 or a signal's; fsx exit below 100),
# else 0.
#
# Prints a Markdown table with the mixes' legend, also saved as
# OUT/kernel_throughput.md, and OUT/kernel_throughput.csv. Needs root to
# mount; `--fs host` runs in $TMPDIR's own file system instead. Measures,
# never asserts.
#
#   bench/kernel_throughput.sh [--fs "ext4 tmpfs"] [--threads "1 2 4 8"]
#       [--duration 20] [--pagerace build/release/pagerace] [--fsx PATH] [--out bench-out]
# fsx: --fsx, else $FSX, else `fsx` in PATH; without one, pagerace rows only.
# Takes about (3 x threads + 2) x duration seconds per file system.
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
if [[ -n $fsx && ! -x $fsx ]]; then echo "no fsx at $fsx" >&2; exit 2; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The mixes: pagerace's --mix, and the fsx op kinds to turn off.
declare -A pr_mix=([rw]="read=1,write=1" [rw+mapped]="read=2,write=2,load=1,store=1")
declare -A fsx_kinds_off=([rw]="mapread mapwrite atomic dontcache" [rw+mapped]="atomic dontcache")
fsx_file_bytes=65536

# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=ci/fs-lib.sh
source ci/fs-lib.sh
fs_start

join_by() { local sep=$1 s='' x; shift; for x in "$@"; do s+=${s:+$sep}$x; done; echo "$s"; }
notes=()
note() { notes+=("$1"); echo "  note: $1"; }

# --- What fsx supports, from `fsx -h` and a one-op run per flag.
# fsx_off[KIND]: the flag that turns op kind KIND off, where fsx has one.
declare -A fsx_off=()
# KIND and how `fsx -h` describes the flag that turns it off (grep -Ei).
fsx_off_text=(
  "mapread:mapped reads disabled"
  "mapwrite:mapped writes? (operations )?disabled"
  "atomic:disable atomic writes"
  "dontcache:not use dontcache"
)
fsx_usage=
fsx_accepts() {  # FLAG...: whether fsx runs one op with these flags on a lite file
  local file=$fs_root/fsx-probe
  rm -f "$file"*
  truncate -s "$fsx_file_bytes" "$file"
  "$fsx" -q -N 1 -L -P "$fs_root/" "$@" "$file" >"$fs_root/fsx-probe.log" 2>&1
}
fsx_learn() {
  local entry kind text flag line
  fsx_usage=$("$fsx" -h 2>&1 || true)
  # The core: lite mode, sizes, seed, time, the op log, the log directory.
  for line in "-L" "-l flen" "-o oplen" "-r readbdy" "-w writebdy" "-S seed" "-P dirpath" "-q" \
    "--duration" "--record-ops"; do
    if ! grep -qe "$line" <<<"$fsx_usage"; then
      note "fsx: no fsx rows: \`$fsx -h\` does not list $line"
      return 1
    fi
  done
  if ! fsx_accepts; then
    note "fsx: no fsx rows: a one-op lite run failed: $(tail -1 "$fs_root/fsx-probe.log")"
    return 1
  fi
  for entry in "${fsx_off_text[@]}"; do
    kind=${entry%%:*} text=${entry#*:}
    flag=$(grep -Ei -- "^[[:space:]]*-[[:alnum:]][^:]*:.*$text" <<<"$fsx_usage" | head -1 |
      sed -E 's/^[[:space:]]*(-[[:alnum:]]).*/\1/' || true)
    if [[ -z $flag ]]; then
      note "fsx: \`fsx -h\` lists no flag to turn $kind off"
    elif fsx_accepts "$flag"; then
      fsx_off[$kind]=$flag
    else
      note "fsx: \`fsx -h\` lists $flag ($kind off) but fsx refuses it"
    fi
  done
  local off=()
  for kind in "${!fsx_off[@]}"; do off+=("$kind ${fsx_off[$kind]}"); done
  echo "fsx $fsx: turns off $(join_by ', ' "${off[@]}")"
}
fsx_why="not found (pass --fsx PATH or set FSX)"
if [[ -n $fsx ]] && ! fsx_learn; then fsx='' fsx_why="no rows (see the note above)"; fi

csv=$out/kernel_throughput.csv
echo "fs,tool,mix,flags,threads,seconds,ops,ops_per_sec,ops_seconds,ops_only_per_sec,ops_counted,ops_counted_per_sec,unmatched,verdict" >"$csv"
rows=()
per_sec() { awk -v o="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", o / s; else printf "-" }'; }
# row FS TOOL MIX FLAGS THREADS SECONDS OPS OPS_SECONDS COUNTED UNMATCHED VERDICT
row() {
  local rate only counted
  rate=$(per_sec "$7" "$6")
  only=-
  [[ $8 == - ]] || only=$(per_sec "$7" "$8")
  counted=$(per_sec "$9" "$6")
  echo "$1,$2,$3,\"$4\",$5,$6,$7,$rate,$8,$only,$9,$counted,\"${10}\",\"${11}\"" >>"$csv"
  rows+=("| $1 | $2 | $3 | \`$4\` | $5 | $rate | $only | $counted | ${10} | ${11} |")
  echo "  $2 $3 x$5: $rate ops/s (in ops: $only; counted: $counted)${10:+; unmatched: ${10}}; ${11}"
}
json_field() { sed -n "s/.*\"$1\": \"\{0,1\}\([^\",}]*\).*/\1/p" "$2" | head -1; }

run_pagerace() {  # FS MIX THREADS
  local fs=$1 mix=$2 t=$3 flags=() json=$fs_root/soak.json log=$fs_root/soak.log rc=0 verdict=ok
  [[ $mix == swarm ]] || flags=(--mix "${pr_mix[$mix]}")
  rm -f "$json"
  "$pagerace" soak --target kernel --dir "$fs_dir" --threads "$t" --duration "$duration" --seed 1 \
    "${flags[@]}" --artifacts "$out/artifacts" --json "$json" >"$log" 2>&1 || rc=$?
  if [[ $rc == 1 ]]; then
    local artifact
    artifact=$(sed -n 's/.*"artifact": "\([^"]*\)".*/\1/p' "$json")
    verdict="finding $(sed -n 's/.*"finding": {"kind": "\([^"]*\)".*/\1/p' "$json"): ${artifact:-$(sed -n 's/^artifact: //p' "$log")}"
  elif [[ $rc != 0 || ! -s $json ]]; then
    echo "pagerace soak failed on $fs (exit $rc):"
    tail -5 "$log"
    exit 1
  fi
  row "$fs" pagerace "$mix" "${flags[*]:-(swarms)}" "$t" "$(json_field duration_s "$json")" "$(json_field ops "$json")" \
    "$(json_field ops_duration_s "$json")" "$(json_field ops "$json")" "" "$verdict"
}

run_fsx() {  # FS MIX
  local fs=$1 mix=$2 kind flags=(-L) unmatched=() file=$fs_dir/fsx-file dir=$fs_root/fsx/ rc=0 verdict=ok
  for kind in ${fsx_kinds_off[$mix]}; do
    if [[ -n ${fsx_off[$kind]:-} ]]; then
      flags+=("${fsx_off[$kind]}")
    elif [[ $kind == dontcache ]]; then
      [[ $fsx_dontcache == on ]] && unmatched+=("dontcache reads and writes (no flag to turn them off)")
    elif [[ $kind != atomic ]]; then  # atomic writes need -Z: skipped without it
      unmatched+=("$kind (no flag to turn it off)")
    fi
  done
  rm -rf "$dir" && mkdir -p "$dir"
  rm -f "$file"*
  truncate -s "$fsx_file_bytes" "$file"
  local t0 secs
  t0=$(date +%s.%N)
  "$fsx" -q -S 1 -l "$fsx_file_bytes" -o 8192 -r 512 -w 512 --duration="$duration" "${flags[@]}" -P "$dir" \
    --record-ops="$dir/fsx.ops" "$file" >"$dir/fsx.out" 2>&1 || rc=$?
  # fsx's op loop runs from its start to the deadline --duration sets; the
  # log dump after it (the last 10,000 ops, a line at a time) is not timed.
  # A failure ends it early: then the wall time.
  secs=$duration
  [[ $rc == 0 ]] || secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  if [[ $rc -ge 100 ]]; then
    local kept=$out/fsx-$fs-$mix
    rm -rf "$kept" && cp -r "$dir" "$kept"
    verdict="fsx failure (exit $rc): $kept"
  elif [[ $rc != 0 ]]; then
    echo "fsx failed on $fs (exit $rc):"
    tail -5 "$dir/fsx.out"
    exit 1
  fi
  local counted logged did done_ops
  logged=$(grep -c . "$dir/fsx.ops" 2>/dev/null || true)
  did=$(grep -vc '^skip' "$dir/fsx.ops" 2>/dev/null || true)
  counted=$(sed -n 's/.*All \([0-9]*\) operations completed.*/\1/p' "$dir/fsx.out")
  # A failure: the count its log dump starts with.
  [[ -n $counted ]] || counted=$(sed -n 's/^LOG DUMP (\([0-9]*\) total operations).*/\1/p' "$dir/fsx.out")
  counted=${counted:-${logged:-0}}
  done_ops=$(awk -v n="$counted" -v d="${did:-0}" -v l="${logged:-0}" 'BEGIN { printf "%.0f", (l > 0 ? n * d / l : 0) }')
  row "$fs" fsx "$mix" "${flags[*]}" 1 "$secs" "$done_ops" - "$counted" "$(join_by '; ' "${unmatched[@]}")" "$verdict"
  rm -f "$file"*
}

for fs in $systems; do
  if [[ $fs == host ]]; then
    fs_dir=${TMPDIR:-/tmp}
  elif ! fs_mount "$fs"; then
    echo "skip $fs: $fs_reason"
    continue
  fi
  echo "== $fs ($fs_dir)"
  for mix in rw rw+mapped swarm; do
    for t in $threads; do run_pagerace "$fs" "$mix" "$t"; done
  done
  if [[ -n $fsx ]]; then
    # What this file system lacks, as fsx tells on a one-op run without -q.
    fsx_dontcache=on
    truncate -s "$fsx_file_bytes" "$fs_dir/fsx-probe"
    "$fsx" -N 1 -L -P "$fs_root/" "$fs_dir/fsx-probe" >"$fs_root/fsx-probe.log" 2>&1 || true
    grep -qi "not support dontcache" "$fs_root/fsx-probe.log" && fsx_dontcache=off
    [[ -n ${fsx_off[dontcache]:-} ]] && fsx_dontcache="off (${fsx_off[dontcache]})"
    rm -f "$fs_dir/fsx-probe"*
    echo "  fsx dontcache I/O on $fs: $fsx_dontcache"
    for mix in rw rw+mapped; do run_fsx "$fs" "$mix"; done
  else
    echo "  fsx: $fsx_why"
  fi
  [[ $fs == host ]] || fs_umount "$fs"
done

{
  echo "$(machine); pagerace $(commit); ${duration} s a row"
  echo
  echo "| fs | tool | mix | flags | threads | ops/s | ops/s in ops | ops/s counted | unmatched | verdict |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- rw: pagerace \`--mix ${pr_mix[rw]}\`; fsx \`-L\` with the flags shown: pread and buffered pwrite on both sides"
  echo "- rw+mapped: pagerace \`--mix ${pr_mix[rw+mapped]}\` (loads and stores through a mapping made once a round, no msync);" \
    "fsx \`-L\` with the flags shown: 2 reads, 2 writes, 1 mapped read (mmap, copy, munmap), 1 mapped write" \
    "(mmap, copy, msync(MS_SYNC), munmap) in 6"
  echo "- swarm: pagerace's default swarms; no fsx counterpart"
  echo "- ops/s includes pagerace's per-round reset and end-of-round check; ops/s in ops leaves them out." \
    "fsx: the ops it did (skipped draws left out); ops/s counted: fsx's own count, skips included"
  for n in "${notes[@]}"; do echo "- $n"; done
} | tee "$out/kernel_throughput.md"
