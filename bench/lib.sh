# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run).
#
# pin: the command prefix that runs on one core (taskset -c 0), if possible.
# start_work: makes the temp dir $work. Each measured run is a background
#   child whose pid the script keeps in $child, so that INT or TERM stop the
#   script at once; on exit the running child is stopped and $work removed.
# now: seconds since the epoch, with nanoseconds.
# machine, commit: the lines a report opens with (kernel, cores, CPU; the
#   commit, marked when the tree has uncommitted changes).
# shellcheck disable=SC2034  # used by the scripts that source this
pin=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi

start_work() {
  work=$(mktemp -d)
  child=
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

cleanup() {
  if [[ -n $child ]]; then kill "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
  rm -rf "$work"
}

now() { date +%s.%N; }

machine() {
  local cpu
  cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -1)
  [[ -n $cpu ]] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
  echo "Linux $(uname -r), $(nproc) cores, ${cpu:-unknown CPU}"
}

commit() {
  local c
  c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ $c == unknown ]] || git diff --quiet HEAD -- 2>/dev/null || c+=" (with uncommitted changes)"
  echo "$c"
}
