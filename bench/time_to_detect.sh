#!/usr/bin/env bash
# Time-to-detect of each mutant, by the soak (free and controlled schedules)
# and by the libFuzzer target: N trials each (seeds 1..N), each capped, one
# after another. Prints a Markdown table (found/trials, median, min, max
# seconds; the statistics over the trials that found it) and keeps every
# trial in OUT/trials.csv and the table in OUT/table.md. Measures, never
# asserts: a mutant not found within the cap is a row, not a failure.
#
#   bench/time_to_detect.sh [--trials N] [--cap SECONDS] [--out DIR]
#       [--fuzz-build PRESET]
#       [--strategies soak-free,soak-controlled,fuzzer] [--mutants M1,M2,...]
#
# Defaults: 5 trials, 120 s cap, OUT bench-out, fuzz build fuzz-release,
# all three strategies, every
# mutant of `pagerace mutants`. The soak needs the release preset built, the
# fuzzer the --fuzz-build preset (build/PRESET/targets/pagecache_fuzzer and
# its seed corpus build/PRESET/corpus/pagecache_fuzzer).
#
# Soak time is the JSON's duration_s: seconds until the finding, without the
# controlled-schedule search that follows a free-mode finding; the cap if no
# finding. The fuzzer runs on one core (taskset -c 0 when available) from a
# fresh copy of the seed corpus with -seed=TRIAL -max_total_time=CAP; found
# means it wrote a crash-* file, its time is wall time (found or not: -max_total_time
# is checked between runs, startup adds a little). PAGERACE_SCHEDULE and
# PAGERACE_BACKEND pass through from the environment to the fuzzer.
#
# CSV columns: strategy,mutant,trial,found,seconds,execs,exec_per_sec,deterministic
# (execs and exec_per_sec: fuzzer executions, the soak's ops; deterministic:
# 1/0 from the soak JSON when it found something, empty for the fuzzer).
#
# Expect trials x mutants x strategies x (time to detect, at most the cap; a
# free-mode soak finding adds up to 20 s of schedule search).
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 [--trials N] [--cap SECONDS] [--out DIR] [--fuzz-build PRESET]" \
    "[--strategies soak-free,soak-controlled,fuzzer] [--mutants M1,M2,...]" >&2
  exit 2
}
trials=5 cap=120 out=bench-out fuzz_build=fuzz-release
strategies=soak-free,soak-controlled,fuzzer mutants=
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case $1 in
    --trials) trials=$2 ;;
    --cap) cap=$2 ;;
    --out) out=$2 ;;
    --fuzz-build) fuzz_build=$2 ;;
    --strategies) strategies=$2 ;;
    --mutants) mutants=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $trials =~ ^[1-9][0-9]*$ && $cap =~ ^[1-9][0-9]*$ && -n $out && -n $fuzz_build ]] || usage
IFS=, read -ra strategy_list <<<"$strategies"
[[ ${#strategy_list[@]} -gt 0 ]] || usage
want_soak=0 want_fuzzer=0
for s in "${strategy_list[@]}"; do
  case $s in
    soak-free | soak-controlled) want_soak=1 ;;
    fuzzer) want_fuzzer=1 ;;
    *) echo "unknown strategy '$s'" >&2; usage ;;
  esac
done

pagerace=build/release/pagerace
fuzzer=build/$fuzz_build/targets/pagecache_fuzzer
seeds=build/$fuzz_build/corpus/pagecache_fuzzer
if [[ $want_soak == 1 && ! -x $pagerace ]]; then
  echo "$pagerace is missing: build the release preset first" >&2; exit 2
fi
if [[ $want_fuzzer == 1 ]] && { [[ ! -x $fuzzer ]] || ! compgen -G "$seeds/*.bin" >/dev/null; }; then
  echo "$fuzzer or its seeds ($seeds/*.bin) are missing: build the $fuzz_build preset first" >&2; exit 2
fi
if [[ $want_fuzzer == 1 ]] && ! grep -qa max_total_time "$fuzzer"; then
  echo "$fuzzer is not a libFuzzer binary (use a fuzz preset)" >&2; exit 2
fi
# The mutant list: from the release CLI, or the fuzz build's when only the fuzzer runs.
lister=$pagerace
[[ -x $lister ]] || lister=build/$fuzz_build/pagerace
[[ -x $lister ]] || { echo "no pagerace binary to list the mutants: build the release preset first" >&2; exit 2; }
mapfile -t all_mutants < <("$lister" mutants)
if [[ -z $mutants ]]; then
  mutant_list=("${all_mutants[@]}")
else
  IFS=, read -ra mutant_list <<<"$mutants"
  for m in "${mutant_list[@]}"; do
    printf '%s\n' "${all_mutants[@]}" | grep -qxF -- "$m" || { echo "unknown mutant '$m' (see: $lister mutants)" >&2; usage; }
  done
fi
[[ ${#mutant_list[@]} -gt 0 ]] || usage

# One core for the fuzzer, when this machine lets us pin to CPU 0.
# shellcheck source=bench/lib.sh
source bench/lib.sh
settings="$trials trials, cap $cap s"
[[ $want_soak == 0 ]] || settings+="; soak: $pagerace"
[[ $want_fuzzer == 0 ]] || settings+="; fuzzer: build $fuzz_build ($fuzzer),\
 schedule ${PAGERACE_SCHEDULE:-controlled}, backend ${PAGERACE_BACKEND:-memory}, ${pin[*]:-not pinned}"

mkdir -p "$out"
start_work
csv=$out/trials.csv
echo "strategy,mutant,trial,found,seconds,execs,exec_per_sec,deterministic" >"$csv"

json_field() { grep -o "\"$1\": *[0-9a-z.]*" "$2" | head -1 | sed 's/.*: *//'; }
fail() { echo "$1; its output:" >&2; tail -20 "$2" >&2; exit 1; }

soak_trial() {  # strategy mutant trial
  local schedule=${1#soak-} code=0 found=0 seconds=$cap det=
  rm -rf "$work/soak" && mkdir "$work/soak"
  "$pagerace" soak --schedule "$schedule" --mutant "$2" --seed "$3" --duration "$cap" --dir "$work/soak" \
    --artifacts "$work/soak/art" --json "$work/soak/soak.json" >"$work/soak/log" 2>&1 &
  child=$!
  wait "$child" || code=$?
  child=
  [[ $code == 0 || $code == 1 ]] || fail "$1 $2 trial $3: pagerace soak exited $code" "$work/soak/log"
  if [[ $code == 1 ]]; then
    found=1 seconds=$(json_field duration_s "$work/soak/soak.json")
    case $(json_field deterministic "$work/soak/soak.json") in true) det=1 ;; false) det=0 ;; esac
  fi
  local ops ops_per_sec
  ops=$(json_field ops "$work/soak/soak.json") ops_per_sec=$(json_field ops_per_sec "$work/soak/soak.json")
  echo "$1,$2,$3,$found,$(awk -v s="$seconds" 'BEGIN { printf "%.3f", s }'),${ops:-0},${ops_per_sec:-0},$det" >>"$csv"
}

fuzzer_trial() {  # mutant trial
  local code=0 found=0 t0 t1 execs
  rm -rf "$work/fuzz" && mkdir -p "$work/fuzz/corpus" "$work/fuzz/tmp" && cp "$seeds"/*.bin "$work/fuzz/corpus/"
  t0=$(now)
  (cd "$work/fuzz" && exec env PAGERACE_MUTANT="$1" TMPDIR="$work/fuzz/tmp" \
    "${pin[@]}" "$OLDPWD/$fuzzer" -seed="$2" -max_total_time="$cap" -artifact_prefix="$work/fuzz/" corpus \
    >log 2>&1) &
  child=$!
  wait "$child" || code=$?
  child=
  t1=$(now)
  if compgen -G "$work/fuzz/crash-*" >/dev/null; then
    found=1
    grep -q '^REPRO: pagerace replay' "$work/fuzz/log" ||
      echo "warning: fuzzer $1 trial $2: a crash that is not a pagerace finding (counted as found)" >&2
  elif [[ $code != 0 ]]; then
    fail "fuzzer $1 trial $2: exited $code without a crash-* file" "$work/fuzz/log"
  fi
  execs=$(grep -oE '^#[0-9]+' "$work/fuzz/log" | tail -1 | tr -d '#')
  awk -v m="$1" -v t="$2" -v f="$found" -v t0="$t0" -v t1="$t1" -v n="${execs:-0}" 'BEGIN {
    s = t1 - t0; printf "fuzzer,%s,%s,%s,%.3f,%d,%.1f,\n", m, t, f, s, n, (s > 0 ? n / s : 0) }' >>"$csv"
}

for mutant in "${mutant_list[@]}"; do
  for trial in $(seq 1 "$trials"); do
    for strategy in "${strategy_list[@]}"; do
      case $strategy in
        soak-*) soak_trial "$strategy" "$mutant" "$trial" ;;
        fuzzer) fuzzer_trial "$mutant" "$trial" ;;
      esac
      tail -1 "$csv" | awk -F, '{ printf "%s %s trial %s: %s in %s s\n", $1, $2, $3, $4 == 1 ? "found" : "not found", $5 }' >&2
    done
  done
done

# The table: per strategy and mutant, over the trials that found it.
{
echo "$settings"
echo
echo "| strategy | mutant | found | median s | min s | max s |"
echo "|---|---|---|---|---|---|"
awk -F, 'NR > 1 {
  key = $1 "|" $2; n[key]++; if ($4 == 1) { found[key]++; t[key] = t[key] " " $5 }
} END {
  for (k in n) {
    split(k, p, "|"); m = split(t[k], v, " ")
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] + 0 < v[i] + 0) { x = v[i]; v[i] = v[j]; v[j] = x }
    med = m ? (m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2) : 0
    printf "| %s | %s | %d/%d | %s | %s | %s |\n", p[1], p[2], found[k], n[k],
      m ? sprintf("%.3f", med) : "-", m ? sprintf("%.3f", v[1]) : "-", m ? sprintf("%.3f", v[m]) : "-"
  }
}' "$csv" | sort -t'|' -k2,3
} | tee "$out/table.md"
echo "every trial: $csv" >&2
