#!/usr/bin/env bash
# End-to-end benchmark: `postmortem report` on the benchmark log (5 million
# lines of nginx combined + $request_time, ~1.1 GB), measured with hyperfine
# next to `wc -l`, ripgrep, the awk one-liner, GoAccess and lnav on the same
# file in the same run (page cache warm), then peak memory (Max RSS) of each,
# and of postmortem on a ten-times-larger log when BIG_LOG is given.
#
#   benches/end_to_end.sh                          # generates /tmp/pm-5m.log if absent
#   BIG_LOG=/tmp/pm-50m.log benches/end_to_end.sh   # also the 10x memory check
#   TOOLS=postmortem,wc,mawk RUNS=10 benches/end_to_end.sh   # a subset
#
# TOOLS: postmortem, wc, rg, awk (whatever awk is), mawk, gawk, goaccess,
# lnav (count the lines), lnav-minute (requests and 5xx per minute in SQL).
#
# Needs hyperfine, ripgrep, mawk, gawk, goaccess, lnav and GNU time (Debian:
# apt-get install -y hyperfine ripgrep mawk gawk goaccess lnav time). Results go to
# target/end-to-end/ (hyperfine.md, hyperfine.json, memory.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

LOG=${LOG:-/tmp/pm-5m.log}
LINES=${LINES:-5000000}
RUNS=${RUNS:-3}
TOOLS=${TOOLS:-postmortem,wc,rg,mawk,gawk,goaccess,lnav,lnav-minute}
OUT=${OUT:-target/end-to-end}
mkdir -p "$OUT"

cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/postmortem"
if [ ! -s "$LOG" ]; then
  cargo bench --bench gen_log -- --lines "$LINES" --out "$LOG"
fi

# The awk one-liner: requests and 5xx per minute. In a file only to spare
# the quoting; it is the same program.
cat > "$OUT/minute.awk" <<'AWK'
{split($4,t,":"); k=t[2]":"t[3]; h[k]++; if ($9>=500) e[k]++} END {for (k in h) print k, h[k], e[k]+0}
AWK
# GoAccess's COMBINED preset has no request time; this is COMBINED plus %T
# (request time in seconds with a fraction), so it reads every field.
GOACCESS_FORMAT='%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T'

declare -a NAMES COMMANDS
add() { NAMES+=("$1"); COMMANDS+=("$2"); }
for tool in ${TOOLS//,/ }; do
  case "$tool" in
    postmortem) add "postmortem report" "$BIN report --quiet --format json $LOG" ;;
    wc) add "wc -l" "wc -l $LOG" ;;
    rg) add "rg -c ' 503 '" "rg -c ' 503 ' $LOG" ;;
    awk) add "awk one-liner ($(readlink -f "$(command -v awk)"))" "awk -f $OUT/minute.awk $LOG" ;;
    mawk | gawk) add "awk one-liner ($tool)" "$tool -f $OUT/minute.awk $LOG" ;;
    goaccess) add "GoAccess $(goaccess --version | sed -n 's/^GoAccess - \([0-9.]*[0-9]\).*/\1/p')" \
      "goaccess $LOG --log-format='$GOACCESS_FORMAT' --date-format=%d/%b/%Y --time-format=%T --no-progress -o $OUT/goaccess.html" ;;
    lnav) add "lnav $(lnav -V | awk '{print $2}') count(*)" "lnav -n -c ';SELECT count(*) FROM access_log' $LOG" ;;
    # The awk one-liner's question in lnav's SQL: requests and 5xx per minute.
    lnav-minute) add "lnav $(lnav -V | awk '{print $2}') per minute" \
      "lnav -n -c \";SELECT strftime('%H:%M', log_time) AS minute, count(*), sum(sc_status >= 500) FROM access_log GROUP BY minute\" $LOG" ;;
    *) echo "unknown tool '$tool' in TOOLS" >&2; exit 2 ;;
  esac
done

{
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "log: $LOG, $(wc -c < "$LOG") bytes"
} | tee "$OUT/machine.txt"

cat "$LOG" > /dev/null # warm the page cache
args=()
for i in "${!NAMES[@]}"; do args+=(-n "${NAMES[$i]}" "${COMMANDS[$i]}"); done
hyperfine --runs "$RUNS" --export-markdown "$OUT/hyperfine.md" --export-json "$OUT/hyperfine.json" "${args[@]}"

echo "== peak memory (Max RSS), one run each" | tee "$OUT/memory.txt"
for i in "${!NAMES[@]}"; do
  /usr/bin/time -f "${NAMES[$i]}: %M KB, %e s" sh -c "${COMMANDS[$i]} > /dev/null" 2>&1 | tail -1 | tee -a "$OUT/memory.txt"
done
if [ -n "${BIG_LOG:-}" ]; then
  if [ ! -s "$BIG_LOG" ]; then
    cargo bench --bench gen_log -- --lines "$((LINES * 10))" --out "$BIG_LOG"
  fi
  /usr/bin/time -f "postmortem report on $BIG_LOG ($(wc -c < "$BIG_LOG") bytes): %M KB, %e s" \
    sh -c "$BIN report --quiet --format json $BIG_LOG > /dev/null" 2>&1 | tail -1 | tee -a "$OUT/memory.txt"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
