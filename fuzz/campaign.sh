#!/usr/bin/env bash
# Fuzzes one target in rounds until a round adds under 1 % of coverage
# edges (a plateau), a round finds a crash, or MAX_ROUNDS rounds ran.
#
#   fuzz/campaign.sh TARGET [ROUND_SECONDS] [MAX_ROUNDS] [libFuzzer args...]
#   fuzz/campaign.sh ingest_bytes 600 6 -len_control=0
#   FEATURES=tables fuzz/campaign.sh metrics_csv 300 6
#
# The fuzz crate builds the library without its default feature `tables`
# (polars); FEATURES=tables adds it, which `metrics_csv` needs and which
# gives `ingest_bytes` the CSV reader.
#
# Each round starts from the corpus every round before it grew
# (/tmp/fuzz-TARGET, then the committed seeds in fuzz/corpus/TARGET), so
# its starting edge count ("INITED cov") is what all earlier rounds reached
# and its last "cov" what this round added. One line per round goes to
# stdout and to $LOG_DIR/summary.txt; each round's libFuzzer output to
# $LOG_DIR/TARGET-N.log; a crash's input to $LOG_DIR/TARGET-crash-*.
set -uo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: fuzz/campaign.sh TARGET [ROUND_SECONDS] [MAX_ROUNDS] [libFuzzer args...]}
round_seconds=${2:-300}
max_rounds=${3:-8}
shift $(( $# < 3 ? $# : 3 ))
log_dir=${LOG_DIR:-/tmp/fuzz-logs}
mkdir -p "$log_dir" "/tmp/fuzz-$target"

for round in $(seq 1 "$max_rounds"); do
  log="$log_dir/$target-$round.log"
  cargo +nightly fuzz run -O -a -s none ${FEATURES:+--features "$FEATURES"} "$target" "/tmp/fuzz-$target" "fuzz/corpus/$target" -- \
    -artifact_prefix="$log_dir/$target-" -max_total_time="$round_seconds" \
    -timeout=20 -rss_limit_mb=2048 -max_len=65536 "$@" > "$log" 2>&1
  status=$?
  start=$(grep -m1 -o "INITED cov: [0-9]*" "$log" | grep -o "[0-9]*$")
  end=$(grep -o "cov: [0-9]*" "$log" | tail -1 | grep -o "[0-9]*$")
  runs=$(grep -o "Done [0-9]* runs" "$log" | grep -o "[0-9]*")
  line="$(date +%H:%M) $target round $round: exit $status, ${round_seconds} s, ${runs:-?} runs, edges ${start:-?} -> ${end:-?}"
  echo "$line" | tee -a "$log_dir/summary.txt"
  if [ "$status" -ne 0 ]; then
    echo "$target: crash (exit $status), see $log" | tee -a "$log_dir/summary.txt"
    exit 1
  fi
  if [ -n "$start" ] && [ -n "$end" ] && [ $(( (end - start) * 100 )) -lt "$start" ]; then
    echo "$target: plateau (under 1 % new edges in round $round)" | tee -a "$log_dir/summary.txt"
    exit 0
  fi
done
echo "$target: no plateau after $max_rounds rounds" | tee -a "$log_dir/summary.txt"
exit 2
