#!/usr/bin/env bash
# Time-to-detect of every mutant, by the soak (free and controlled schedules)
# and by the libFuzzer target:
# N trials each (different seeds), each capped, one after another. Prints a
# Markdown table (found/trials, median, min, max seconds) and keeps every
# trial in OUT/trials.csv. Needs the release and fuzz presets built.
#
#   bench/time_to_detect.sh [--trials N] [--cap SECONDS] [--out DIR]
#
# Expect trials x mutants x 3 x (time to detect, at most the cap): with the
# defaults (5 trials, 120 s cap) well under 10 minutes today.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=5 cap=120 out=bench-out
while [[ $# -gt 0 ]]; do
  case $1 in
    --trials) trials=$2; shift 2 ;;
    --cap) cap=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--trials N] [--cap SECONDS] [--out DIR]" >&2; exit 2 ;;
  esac
done
pagerace=build/release/pagerace
fuzzer=build/fuzz/targets/pagecache_fuzzer
[[ -x $pagerace && -x $fuzzer ]] || { echo "build the release and fuzz presets first" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv=$out/trials.csv
echo "strategy,mutant,trial,found,seconds,execs" >"$csv"

now() { date +%s.%N; }
for mutant in $($pagerace mutants); do
  for trial in $(seq 1 "$trials"); do
    # The soak, free-running threads and controlled schedules: fresh random programs.
    for schedule in free controlled; do
      t0=$(now)
      code=0
      $pagerace soak --schedule "$schedule" --mutant "$mutant" --seed "$trial" --duration "$cap" \
        --artifacts "$work/art" --json "$work/soak.json" >/dev/null || code=$?
      t1=$(now)
      ops=$(grep -o '"ops": [0-9]*' "$work/soak.json" | grep -o '[0-9]*$')
      echo "soak-$schedule,$mutant,$trial,$([[ $code == 1 ]] && echo 1 || echo 0),$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"),$ops" >>"$csv"
    done

    # libFuzzer from the seed corpus (controlled schedules: the target's default).
    rm -rf "$work/corpus" && mkdir "$work/corpus" && cp build/fuzz/corpus/pagecache_fuzzer/* "$work/corpus/"
    t0=$(now)
    code=0
    (cd "$work" && PAGERACE_MUTANT=$mutant TMPDIR=$work "$OLDPWD/$fuzzer" -seed="$trial" \
      -max_total_time="$cap" -artifact_prefix="$work/" corpus >"$work/fuzz.log" 2>&1) || code=$?
    t1=$(now)
    execs=$(grep -oE '^#[0-9]+' "$work/fuzz.log" | tail -1 | tr -d '#')
    echo "fuzzer,$mutant,$trial,$([[ $code != 0 ]] && echo 1 || echo 0),$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"),${execs:-0}" >>"$csv"
  done
done

# The table: per strategy and mutant, over the trials that found it.
{
echo "| strategy | mutant | found | median s | min s | max s |"
echo "|---|---|---|---|---|---|"
awk -F, 'NR > 1 {
  key = $1 "|" $2; n[key]++; if ($4 == 1) { found[key]++; t[key] = t[key] " " $5 }
} END {
  for (k in n) {
    split(k, p, "|"); m = split(t[k], v, " ")
    # sort the times
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] + 0 < v[i] + 0) { x = v[i]; v[i] = v[j]; v[j] = x }
    med = m ? (m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2) : "-"
    printf "| %s | %s | %d/%d | %s | %s | %s |\n", p[1], p[2], found[k], n[k],
      m ? sprintf("%.1f", med) : "-", m ? sprintf("%.1f", v[1]) : "-", m ? sprintf("%.1f", v[m]) : "-"
  }
}' "$csv" | sort -t'|' -k2,3
} | tee "$out/time_to_detect.md"
