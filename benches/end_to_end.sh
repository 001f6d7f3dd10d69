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
#   COMPRESSED=1 benches/end_to_end.sh   # also rotations, one .gz, the inflate floor
#   WEEK=1 WEEK_SCALE=1 benches/end_to_end.sh   # also the 4-host week (35 M lines)
#   TOOLS= COMPRESSED=1 WEEK=1 benches/end_to_end.sh   # only those two sections
#   TOOLS= FORMATS=1 benches/end_to_end.sh   # the load-balancer formats beside nginx
#
# FORMATS=1 (issue 15): the same generated day as HAProxy `option httplog`
# through syslog and as an AWS ALB access log (`gen_log --format haproxy|alb`,
# $LINES lines each, in /tmp unless HAPROXY_LOG / ALB_LOG say where), and
# `postmortem report` on each beside the nginx log in one hyperfine run;
# prints lines/s, MB/s and the share of nginx's lines/s (wall and CPU) of
# each to target/end-to-end/formats.txt. The target: each >= 70% of nginx.
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
TOOLS=${TOOLS-postmortem,wc,rg,mawk,gawk,goaccess,lnav,lnav-minute}
OUT=${OUT:-target/end-to-end}
mkdir -p "$OUT"

cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/postmortem"
if [ ! -s "$LOG" ]; then
  cargo bench --bench gen_log -- --lines "$LINES" --out "$LOG"
fi
# Wall time, CPU time (user + system), peak memory and the load average of
# one run of a command: the measurements of the compressed and week sections.
timed() {
  local name=$1 command=$2
  /usr/bin/time -f "$name: %e s wall, %U s user + %S s system CPU, %M KB peak, load $(cut -d' ' -f1 /proc/loadavg)" \
    sh -c "$command > /dev/null" 2>&1 | tail -1
}

# The awk one-liner: requests and 5xx per minute. In a file only to spare
# the quoting; it is the same program.
cat > "$OUT/minute.awk" <<'AWK'
{split($4,t,":"); k=t[2]":"t[3]; h[k]++; if ($9>=500) e[k]++} END {for (k in h) print k, h[k], e[k]+0}
AWK
# GoAccess's COMBINED preset has no request time; this is COMBINED plus %T
# (request time in seconds with a fraction), so it reads every field.
GOACCESS_FORMAT='%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %T'

declare -a NAMES=() COMMANDS=()
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
if [ ${#NAMES[@]} -gt 0 ]; then
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
fi

# ---- Compressed and rotated inputs (issue 18, items 2 and 3) -------------
# Kept in their own functions so the sections above can change freely.

# COMPRESSED=1: the benchmark log as 8 rotations (7 gzipped, as logrotate's
# delaycompress leaves them) and as one .gz (gzip -6, logrotate's default),
# each against `zcat | mawk` in the same hyperfine run; the inflate floor
# (the .gz inflated alone, one core, same library); and `cmp` of the
# reports against the single-threaded path (RAYON_NUM_THREADS=1).
compressed_section() {
  local rotated=${ROTATED_DIR:-/tmp/pm-5m-rotated} gz=${GZ_LOG:-/tmp/pm-5m.log.gz}
  if [ ! -s "$rotated/access.log.7.gz" ]; then
    rm -rf "$rotated" && mkdir -p "$rotated"
    split -n l/8 -d -a 1 "$LOG" "$rotated/part."
    # part.7 is the newest: access.log; part.6 access.log.1; the rest gzipped.
    for i in 0 1 2 3 4 5 6 7; do
      k=$((7 - i))
      case $k in
        0) mv "$rotated/part.$i" "$rotated/access.log" ;;
        1) mv "$rotated/part.$i" "$rotated/access.log.1" ;;
        *) gzip -6 -c "$rotated/part.$i" > "$rotated/access.log.$k.gz" && rm "$rotated/part.$i" ;;
      esac
    done
  fi
  [ -s "$gz" ] || gzip -6 -c "$LOG" > "$gz"
  local floor
  floor=$(cargo bench --bench inflate_floor --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*inflate_floor[^"]*\)".*/\1/p' | tail -1)
  [ -x "$floor" ] || { echo "the inflate_floor bench did not build (cargo bench --bench inflate_floor --no-run)" >&2; return 1; }
  {
    echo "== compressed inputs: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rotated: $rotated, $(du -cb "$rotated"/* | tail -1 | cut -f1) bytes on disk; gz: $gz, $(wc -c < "$gz") bytes"
  } | tee "$OUT/compressed.txt"
  cat "$rotated"/* "$gz" > /dev/null
  hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$OUT/compressed.md" --export-json "$OUT/compressed.json" \
    -n "postmortem report, 8 rotations (7 gz)" "$BIN report --quiet --format json $rotated" \
    -n "zcat -f rotations | mawk one-liner" "zcat -f $rotated/* | mawk -f $OUT/minute.awk" \
    -n "postmortem report, one .gz" "$BIN report --quiet --format json $gz" \
    -n "zcat .gz | mawk one-liner" "zcat $gz | mawk -f $OUT/minute.awk" \
    -n "gzip -dc .gz | wc -l" "gzip -dc $gz | wc -l" \
    -n "inflate floor, zlib-rs, one core" "taskset -c 0 $floor $gz --library zlib-rs" \
    -n "inflate floor, libdeflate, one core" "taskset -c 0 $floor $gz --library libdeflate"
  {
    timed "postmortem report, 8 rotations (7 gz)" "$BIN report --quiet --format json $rotated"
    timed "postmortem report, one .gz" "$BIN report --quiet --format json $gz"
    timed "inflate floor, zlib-rs, one core" "taskset -c 0 $floor $gz --library zlib-rs"
    timed "inflate floor, libdeflate, one core" "taskset -c 0 $floor $gz --library libdeflate"
  } | tee -a "$OUT/compressed.txt"
  # The reports of every input are those of the single-threaded path.
  for input in "$rotated" "$gz"; do
    "$BIN" report --quiet --format json "$input" -o "$OUT/parallel.json"
    RAYON_NUM_THREADS=1 "$BIN" report --quiet --format json "$input" -o "$OUT/single.json"
    if cmp -s "$OUT/parallel.json" "$OUT/single.json"; then
      echo "cmp $input: identical to the single-threaded report" | tee -a "$OUT/compressed.txt"
    else
      echo "cmp $input: DIFFERS from the single-threaded report" | tee -a "$OUT/compressed.txt"
    fi
  done
}

# WEEK=1: the week of 4 hosts (a folder each, 14 rotations, 12 gzipped;
# WEEK_SCALE=1 is 35 M lines) end to end, with peak memory against one day
# of the same 4 hosts (the incident day: 2 rotations each, 8 files) and
# against one host's day (its 2 rotations, the denominator of the sessions
# before the seventeenth), and `zcat | mawk` on the same files.
week_section() {
  local week=${WEEK_DIR:-/tmp/pm-week} scale=${WEEK_SCALE:-1}
  if [ ! -s "$week/web04/access.log.13.gz" ]; then
    cargo bench --bench gen_log -- --week --scale "$scale" --out "$week"
  fi
  local day="$week/web01/access.log.7.gz $week/web01/access.log.6.gz"
  local hosts_day="" host
  for host in "$week"/*/; do
    hosts_day="$hosts_day ${host}access.log.7.gz ${host}access.log.6.gz"
  done
  {
    echo "== week: $week, $(du -cb "$week"/*/* | tail -1 | cut -f1) bytes on disk; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    timed "postmortem report, one host's day (2 rotations)" "$BIN report --quiet --format json $day"
    timed "postmortem report, the 4 hosts' day (8 rotations)" "$BIN report --quiet --format json $hosts_day"
    timed "postmortem report, the week of 4 hosts" "$BIN report --quiet --format json $week"
    timed "zcat -f week | mawk one-liner" "zcat -f $week/*/* | mawk -f $OUT/minute.awk"
  } | tee "$OUT/week.txt"
  awk -F'[:,]' '/one host.s day/ {d=$5+0} /hosts. day/ {h=$5+0} /the week of/ {w=$5+0}
    END {
      if (h > 0) printf "peak memory, week / the 4-host day: %.2f\n", w / h
      if (d > 0) printf "peak memory, week / one host day: %.2f\n", w / d
    }' "$OUT/week.txt" |
    tee -a "$OUT/week.txt"
}

# FORMATS=1: HAProxy and ALB logs of the same day beside nginx (see the
# header). CPU time (user + system) comes from one more run each under GNU
# time, as the wall time of a shared machine is noisy.
formats_section() {
  local haproxy=${HAPROXY_LOG:-/tmp/pm-haproxy-5m.log} alb=${ALB_LOG:-/tmp/pm-alb-5m.log}
  [ -s "$haproxy" ] || cargo bench --bench gen_log -- --lines "$LINES" --format haproxy --out "$haproxy"
  [ -s "$alb" ] || cargo bench --bench gen_log -- --lines "$LINES" --format alb --out "$alb"
  echo "== load-balancer formats: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/formats.txt"
  cat "$LOG" "$haproxy" "$alb" > /dev/null
  hyperfine --runs "$RUNS" --warmup 1 -N --export-json "$OUT/formats.json" --export-markdown "$OUT/formats.md" \
    -n nginx "$BIN report --quiet --format json $LOG" \
    -n haproxy "$BIN report --quiet --format json $haproxy" \
    -n alb "$BIN report --quiet --format json $alb"
  local name file lines bytes wall cpu
  for name in nginx haproxy alb; do
    case $name in nginx) file=$LOG ;; haproxy) file=$haproxy ;; alb) file=$alb ;; esac
    lines=$(wc -l < "$file")
    bytes=$(wc -c < "$file")
    wall=$(sed -n "/\"command\": \"$name\"/,/\"mean\"/s/.*\"mean\": *\([0-9.e-]*\).*/\1/p" "$OUT/formats.json")
    cpu=$(/usr/bin/time -f "%U %S" sh -c "$BIN report --quiet --format json $file > /dev/null" 2>&1 | tail -1 | awk '{print $1 + $2}')
    echo "$name $lines $bytes $wall $cpu"
  done | awk '
    { name[NR] = $1; lines[NR] = $2; bytes[NR] = $3; wall[NR] = $4; cpu[NR] = $5 }
    END {
      printf "%-8s %10s %9s %9s %8s %11s %9s %14s\n", "log", "lines", "MB", "wall s", "CPU s", "lines/s", "MB/s", "of nginx w/cpu"
      for (i = 1; i <= NR; i++) {
        rate = lines[i] / wall[i]; crate = lines[i] / cpu[i]
        if (i == 1) { base = rate; cbase = crate }
        printf "%-8s %10d %9.0f %9.3f %8.2f %11.0f %9.0f %6.0f%% / %3.0f%%\n", name[i], lines[i], bytes[i] / 1e6, wall[i], cpu[i], rate, bytes[i] / 1e6 / wall[i], 100 * rate / base, 100 * crate / cbase
      }
    }' | tee -a "$OUT/formats.txt"
}

[ -n "${FORMATS:-}" ] && formats_section
[ -n "${COMPRESSED:-}" ] && compressed_section
[ -n "${WEEK:-}" ] && week_section
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
