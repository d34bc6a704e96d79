#!/usr/bin/env bash
# Tests that SIGINT and SIGTERM stop soak, replay and explore cleanly: once
# the command is running (its first status line, or its private directory in
# --dir), the signal ends it with 130 or 143, a line on stderr saying so, the
# soak's final stats line and its --json file naming the signal, and nothing
# of pagerace's left in --dir. (Killed by the signal instead, it would exit
# 130 or 143 too, but print nothing and leave its directory.) A second
# signal ends it at once; a signal ignored when it started stays ignored. No
# timing is asserted: a command gets 30 s to stop.
# Usage: signal_test.sh PAGERACE_BINARY SOURCE_DIR
source "${BASH_SOURCE[0]%/*}/lib.sh"
program=$src/corpus/pagecache_fuzzer/all_ops.txt  # four threads: shows nothing, explores for hours

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; [[ -n ${3:-} ]] && tail -5 "$3"; failed=$((failed + 1)); }

# until_true SECONDS CMD...: polls CMD every 0.1 s; false if it never held.
until_true() {
  local tries=$(($1 * 10))
  shift
  for ((i = 0; i < tries; ++i)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
# start CMD...: execs CMD with SIGINT's default action. A non-interactive
# shell starts a background job with SIGINT ignored, and pagerace keeps an
# ignored signal ignored. Run in the background, its pid is CMD's.
start() {
  exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$@"
}
running() { kill -0 "$1" 2>/dev/null; }
stopped() { ! running "$1"; }
has_status_line() { grep -Eq '^\[ *[0-9]+s\] ops' "$1"; }
has_private_dir() { [[ -n $(ls -A "$1") ]]; }
empty() { [[ -z $(ls -A "$1") ]]; }

# wait_exit PID: its exit code, once it has exited; after 30 s it is killed
# and the code is 255.
wait_exit() {
  if ! until_true 30 stopped "$1"; then
    kill -9 "$1" 2>/dev/null
    wait "$1"
    return 255
  fi
  wait "$1"
}

# interrupt NAME SIGNAL READY -- ARGS...: runs pagerace ARGS with --dir a
# fresh directory (and for soak --json), waits until READY (status: its
# first status line; dir: its private directory) and sends SIGNAL; then
# checks the exit code, the stderr line, the soak's stats line and JSON, and
# that --dir is empty.
interrupt() {
  local name="$1 ($2)" sig=$2 ready=$3
  shift 4
  local case=$work/case$((passed + failed))
  local dir=$case/dir out=$case/out err=$case/err json=$case/summary.json
  mkdir -p "$dir"
  local -a args=("$@" --dir "$dir")
  [[ $1 == soak ]] && args+=(--json "$json")
  start "$bin" "${args[@]}" >"$out" 2>"$err" &
  local pid=$!
  local ready_check=(has_status_line "$out")
  [[ $ready == dir ]] && ready_check=(has_private_dir "$dir")
  if ! until_true 120 "${ready_check[@]}"; then
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    fail "$name" "never ready ($ready)" "$err"
    return
  fi
  if ! running "$pid"; then
    wait "$pid"
    fail "$name" "exited (code $?) before the signal" "$out"
    return
  fi
  kill "-$sig" "$pid"
  wait_exit "$pid"
  local code=$? want=130
  [[ $sig == TERM ]] && want=143
  local why=""
  if [[ $code -ne $want ]]; then
    why="exit $code, want $want"
  elif ! grep -Eq "^pagerace: interrupted \(SIG$sig\): stopped after [0-9]+ (rounds|runs|schedules)$" "$err"; then
    why="no interrupted line on stderr"
  elif [[ $1 == soak ]] && ! grep -Eq "^pagerace soak: [0-9]+ ops in [0-9.]+ s .* rounds, [0-9]+ violations$" "$out"; then
    why="no final stats line"
  elif [[ $1 == soak ]] && ! python3 -m json.tool "$json" >"$case/json.txt" 2>&1; then
    why="the JSON file is missing or does not parse"
  elif [[ $1 == soak ]] && ! grep -q "\"interrupted\": \"SIG$sig\"" "$case/json.txt"; then
    why="the JSON lacks \"interrupted\": \"SIG$sig\""
  elif [[ -n $(ls -A "$dir") ]]; then
    why="left in --dir: $(ls -A "$dir")"
  fi
  if [[ -n $why ]]; then
    fail "$name" "$why" "$err"
    return
  fi
  ok "$name"
}

# The kernel target needs a file system that takes its files (O_DIRECT may
# be refused; mmap and fallocate must not be).
kernel_dir=$work/kernel-probe
mkdir -p "$kernel_dir"
"$bin" soak --target kernel --ops 1 --duration 5 --dir "$kernel_dir" >"$work/kernel-probe.txt" 2>&1
kernel_code=$?
# The fuse target needs /dev/fuse and the right to mount (3 otherwise).
fuse_dir=$work/fuse-probe
mkdir -p "$fuse_dir"
"$bin" soak --target fuse --ops 1 --duration 5 --dir "$fuse_dir" >"$work/fuse-probe.txt" 2>&1
fuse_code=$?
fuse_mix=(--fuse-mount writeback_cache --mix read=2,write=2,punch=1,evict=1)
# A fuse mount of pagerace's under DIR, if any.
fuse_mounts() { grep " - fuse.pagerace " /proc/self/mountinfo | awk '{print $5}' | grep "^$1/" || true; }

for sig in INT TERM; do
  if [[ $fuse_code -le 1 ]]; then
    # Stopped, the soak unmounts and removes its directory (checked: --dir
    # is empty).
    interrupt "soak --target fuse" "$sig" status -- soak --target fuse "${fuse_mix[@]}" --duration 600 --seed 6
  else
    echo "skip soak --target fuse ($sig): the fuse target cannot run here: $(tail -1 "$work/fuse-probe.txt")"
  fi
  interrupt "soak --backend file" "$sig" status -- soak --backend file --duration 600 --seed 1
  interrupt "soak --backend blockmap" "$sig" status -- soak --backend blockmap --duration 600 --seed 2
  interrupt "soak --schedule controlled" "$sig" status -- soak --schedule controlled --duration 600 --seed 3
  interrupt "soak --schedule explore" "$sig" status -- soak --schedule explore --duration 600 --seed 4
  if [[ $kernel_code -le 1 ]]; then
    interrupt "soak --target kernel" "$sig" status -- soak --target kernel --duration 600 --seed 5
  else
    echo "skip soak --target kernel ($sig): the kernel target cannot run here: $(tail -1 "$work/kernel-probe.txt")"
  fi
  # Replay and explore print nothing until they are done: they are running
  # once their private directory is there (on the file backend).
  interrupt "replay --schedule free" "$sig" dir -- replay --schedule free --backend file --runs 100000000 \
    --duration 600 "$program"
  interrupt "replay (a schedule search)" "$sig" dir -- replay --backend file --runs 100000000 --duration 600 \
    "$program"
  interrupt "explore" "$sig" dir -- explore --preemptions 3 --backend file --duration 600 "$program"
  # Real threads that hang (the mutant's write waits for itself) are given up
  # on well before the watchdog's DEADLOCK (10 s), and their directory goes.
  interrupt "replay of a hung free run" "$sig" dir -- replay --schedule free --backend file --runs 1 \
    --mutant fault-takes-i-rwsem "$src/corpus/regressions/fault-takes-i-rwsem.txt"
done

# A second signal ends the process at once (the default action): stopped,
# the soak is sent SIGINT and SIGTERM, and the first one's handler runs with
# the second blocked, then puts back the default for it. Controlled, the
# soak is one thread, which takes both in order. It neither says it was
# interrupted nor prints its stats line.
dir=$work/second/dir
mkdir -p "$dir"
start "$bin" soak --schedule controlled --backend memory --duration 600 --dir "$dir" >"$work/second/out" \
  2>"$work/second/err" &
pid=$!
if until_true 120 has_status_line "$work/second/out"; then
  kill -STOP "$pid"
  kill -INT "$pid"
  kill -TERM "$pid"
  kill -CONT "$pid"
  wait_exit "$pid"
  code=$?
  if [[ $code -eq 143 ]] && ! grep -q "interrupted" "$work/second/err" &&
     ! grep -q "^pagerace soak: [0-9]* ops" "$work/second/out"; then
    ok "a second signal ends the process at once"
  else
    fail "a second signal ends the process at once" "exit $code, want 143 and no clean stop" "$work/second/err"
  fi
else
  kill -9 "$pid" 2>/dev/null
  fail "a second signal ends the process at once" "never ready" "$work/second/err"
fi

# Started with SIGINT ignored (as a plain background job here), the soak
# ignores it: the SIGTERM after it is the one that stops it.
mkdir -p "$work/ignored"
"$bin" soak --backend memory --duration 600 --json "$work/ignored/summary.json" >"$work/ignored/out" \
  2>"$work/ignored/err" &
pid=$!
if until_true 120 has_status_line "$work/ignored/out"; then
  kill -INT "$pid"
  kill -TERM "$pid"
  wait_exit "$pid"
  code=$?
  if [[ $code -eq 143 ]] && grep -q "^pagerace: interrupted (SIGTERM)" "$work/ignored/err" &&
     grep -q '"interrupted": "SIGTERM"' "$work/ignored/summary.json"; then
    ok "an ignored SIGINT stays ignored"
  else
    fail "an ignored SIGINT stays ignored" "exit $code, want 143 and a stop by SIGTERM" "$work/ignored/err"
  fi
else
  kill -9 "$pid" 2>/dev/null
  fail "an ignored SIGINT stays ignored" "never ready" "$work/ignored/err"
fi

# Every way out of a fuse soak leaves no mount and nothing in --dir: a
# finding (auto_inval_data shows one within seconds here: docs/fuse.md), or
# the end of its time; and a SIGKILL, after which the server detaches its
# mount itself and a later start sweeps anything left.
if [[ $fuse_code -le 1 ]]; then
  for how in finding kill; do
    dir=$work/fuse-$how/dir
    mkdir -p "$dir"
    args=(soak --target fuse --fuse-mount auto_inval_data --mix read=2,write=2,punch=1,evict=1 --duration 10
          --seed 7 --dir "$dir" --artifacts "$work/fuse-$how/artifacts")
    if [[ $how == kill ]]; then
      args=(soak --target fuse "${fuse_mix[@]}" --duration 600 --seed 8 --dir "$dir")
    fi
    "$bin" "${args[@]}" >"$work/fuse-$how/out" 2>&1 &
    pid=$!
    if [[ $how == kill ]]; then
      until_true 120 has_status_line "$work/fuse-$how/out" && kill -9 "$pid"
    fi
    wait_exit "$pid"
    code=$?
    # After a SIGKILL the server goes on its own; give it the time.
    until_true 30 empty "$dir"
    if [[ -n $(fuse_mounts "$dir") ]]; then
      fail "fuse soak ($how, exit $code)" "a mount is left: $(fuse_mounts "$dir")" "$work/fuse-$how/out"
    elif [[ -n $(ls -A "$dir") ]]; then
      fail "fuse soak ($how, exit $code)" "left in --dir: $(ls -A "$dir")" "$work/fuse-$how/out"
    else
      ok "fuse soak ($how, exit $code) leaves no mount"
    fi
  done
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
