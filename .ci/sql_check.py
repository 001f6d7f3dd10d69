#!/usr/bin/env python3
"""The engine check of `postmortem sql` (docs/sql.md, "The check CI runs").

For each bundled sample with an NCSA-family access log, a small loader
parses the log into a table of requests (time, client, status, request
time, user agent, upstream, line, request line), saved as Parquet (a
fifth log, `leads`, is written by `leads_log` so that its report has a
path lead and a 4xx client); the table is loaded
into DuckDB and into chDB (ClickHouse's embedded engine), the query
`postmortem sql --dialect duckdb|clickhouse` prints is run on it, and its
rows are saved as JSON lines. Then, for each engine:

1. the partial rows are compared with `postmortem partial --format jsonl`
   of the same log, table by table (buckets, latency, slow_tail, slots
   exactly; users exactly where the engine's user ids are the binary's,
   else the same rows but for the id; dimensions, totals and path_cells
   exactly; heavy exactly where the engine's counters hold every item of
   the bucket, the other buckets counted);
2. when the reduce step reads JSON lines, `postmortem report
   --from-partials out.jsonl --format json` (with the impact query of each
   incident whose counts are not exact, as a user runs it) is compared
   with `postmortem report --format json LOG` field by field, the path and
   4xx-client leads included.

3. the queries of BigQuery, Trino and Spark, which no engine here runs,
   are parsed by sqlglot's grammar of each (PARSED_ONLY below).

Exit status 0 when every comparison holds, 1 otherwise, 0 with a printed
skip when an engine cannot be imported.

    python3 .ci/sql_check.py [--binary target/debug/postmortem] [--samples sample-logs]
"""

import argparse
import collections
import datetime
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

# One request line of the NCSA family: client, ident, user, [time],
# "request", status, bytes, "referer", "user agent", then what the layout
# appends (parsed per sample below).
NCSA = re.compile(
    r'^(\S+) \S+ (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\S+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"(.*)$'
)

# sample -> (access log, what follows the user agent, whether the time is
# the completion, the request time's unit).
SAMPLES = {
    "full-outage": ("access.log.gz", "forwarded+seconds", "completion", "s"),
    "memory-leak": ("access.log.gz", "seconds", "completion", "s"),
    "bad-config": ("access_log.gz", "micros", "arrival", "us"),
    "uneven-lb": ("ingress-nginx.log.gz", "ingress", "completion", "s"),
    # HAProxy `option httplog`: backend/server as the upstream, the
    # termination state (`SC--`, `SH--`) as the termination column.
    "haproxy-reload": ("haproxy.log", "haproxy", "arrival", "ms"),
    # Envoy's default format in a CRI file: the response flags (`UF,URX`)
    # as the termination column.
    "envoy-upstream-refused": ("envoy.log.gz", "envoy", "arrival", "ms"),
    # Written by `termination_logs` below: every termination state and
    # response flag the binary maps, on a few upstreams.
    "haproxy-states": ("haproxy.log", "haproxy", "arrival", "ms"),
    "envoy-flags": ("envoy.log.gz", "envoy", "arrival", "ms"),
    # Written by `leads_log` below: a path failing, a 4xx scanner, and a
    # minute with more failing paths than a summary has counters.
    "leads": ("access.log.gz", "seconds", "completion", "s"),
}

# Samples whose partial rows are compared but not their reports, and why.
ROWS_ONLY = {
    "haproxy-states": "a table of termination states, not an incident",
    "envoy-flags": "a table of response flags, not an incident",
    "haproxy-reload": "HAProxy's own lines (reloads, a backend without a server) are events of the log's report; a table of requests holds none",
}

# One HAProxy `option httplog` request behind its syslog header: client,
# accept date, backend/server, the five timers, status, termination
# state, request line.
HAPROXY = re.compile(
    r'^\w{3} +\d+ [\d:]+ \S+ haproxy\[\d+\]: (\S+):\d+ \[([^\]]+)\] \S+ (\S+) (\S+) (-?\d+) \S+ \S+ \S+ (\S+) \S+ \S+ "([^"]*)'
)

# One line of Envoy's default access log in a CRI file: start time,
# request line, status, response flags, duration, X-Forwarded-For, user
# agent, upstream host.
ENVOY = re.compile(
    r'^\S+ \S+ \S+ \[([^\]]+)\] "([^"]*)" (\d+) (\S+) \S+ \S+ (\S+) \S+ "([^"]*)" "([^"]*)" "[^"]*" "[^"]*" "([^"]*)"'
)

# Leads the report of a sample must name (else the sample no longer tests
# them): the generated one's path and 4xx client, Envoy's termination cause.
LEADS = {
    "leads": {"path": "/checkout", "client": "203.0.113.9"},
    "envoy-upstream-refused": {"cause": "(UF)"},
}

# Headline figures of a report that must be equal (report-contract.md):
# each incident's edges and impact, and the times of its timeline.
INCIDENT_KEYS = ["start", "end", "severity"]
IMPACT_KEYS = ["requests_total", "requests_failed", "requests_slow", "users_affected", "users_active"]

# The dialects no engine here runs (BigQuery and Trino are services; Spark
# is run by hand, docs/sql.md): their text is parsed by sqlglot's grammar
# of the dialect, and every function that grammar does not know must be
# one of these, each in the engine's documentation (docs/sql.md, "The
# check CI runs"). A function missing from the engine fails the check.
PARSED_ONLY = {
    "bigquery": set(),
    # Trino's bitwise and binary functions.
    "trino": {"bitwise_right_shift", "from_big_endian_64", "xxhash64"},
    # Spark SQL's built-in functions (hll_sketch_agg since 3.5).
    "spark": {"hll_sketch_agg", "octet_length", "pmod", "xxhash64"},
}

# Tables whose differences are listed, not failed (none today).
LISTED_ONLY = set()

# Every other field of the two reports is compared too; these differ by
# construction and are explained in docs/sql.md ("What differs"), any
# other difference fails the check.
EXPLAINED = [
    # The input is the table, not the file.
    # (No envelope, such as a CRI prefix: the table holds requests, not
    # lines; no host field: the query reads no host column.)
    (re.compile(r"^\.inputs\[\d+\]\.(path|format|compressed|note|size_on_disk|envelope|fields\.host)$"), "the input is the table"),
    (re.compile(r"\.source$"), "evidence names the table (and the line column), not the file"),
]


def flat(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flat(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flat(item, f"{path}[{index}]")
    else:
        yield path, value


def unexplained(merged, whole, explained):
    """Paths where the reports differ and no rule of EXPLAINED says why;
    the explained ones are counted into `explained` by reason."""
    mine, theirs = dict(flat(merged)), dict(flat(whole))
    left = []
    for path in sorted(set(mine) | set(theirs)):
        if mine.get(path, "<absent>") == theirs.get(path, "<absent>"):
            continue
        reason = next((why for pattern, why in EXPLAINED if pattern.search(path)), None)
        if reason is None:
            left.append(f"{path}: {mine.get(path, '<absent>')!r} vs {theirs.get(path, '<absent>')!r}")
        else:
            explained[reason] += 1
    return left

MONTHS = {name: number for number, name in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}


def clf_time(text):
    """`10/Oct/2000:13:55:36 -0700` as an aware UTC datetime (strptime is
    five times slower and the samples have 50,000 lines each)."""
    day, month, year = int(text[0:2]), MONTHS[text[3:6]], int(text[7:11])
    hour, minute, second = int(text[12:14]), int(text[15:17]), int(text[18:20])
    sign = -1 if text[21] == "-" else 1
    offset = datetime.timedelta(hours=int(text[22:24]), minutes=int(text[24:26])) * sign
    local = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.timezone(offset))
    return local.astimezone(datetime.timezone.utc)


def haproxy_time(text):
    """`09/Apr/2024:06:00:01.245` (HAProxy's accept date, no offset: UTC,
    as the binary reads it without --tz) as an aware datetime."""
    day, month, year = int(text[0:2]), MONTHS[text[3:6]], int(text[7:11])
    hour, minute, second, millis = int(text[12:14]), int(text[15:17]), int(text[18:20]), int(text[21:24])
    return datetime.datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=datetime.timezone.utc)


def parse_haproxy(path):
    """The requests of an HAProxy log as columns; HAProxy's own lines are
    rows without a time or status (skipped lines to the query)."""
    columns = collections.defaultdict(list)
    with open(path, encoding="utf-8", errors="surrogateescape") as lines:
        for number, line in enumerate(lines, start=1):
            match = HAPROXY.match(line.rstrip("\n"))
            at, client, status, request_time, upstream, state, request = (None,) * 7
            if match:
                address, when, upstream, timers, status, state, request = match.groups()
                client, at = address, haproxy_time(when)
                active = int(timers.split("/")[-1])
                request_time = None if active < 0 else float(active)
                status = 0 if int(status) < 0 else int(status)
            columns["time"].append(at)
            columns["client"].append(client)
            columns["status"].append(status)
            columns["request_time"].append(request_time)
            columns["user_agent"].append(None)
            columns["upstream"].append(upstream)
            columns["upstream_status"].append(None)
            columns["upstream_time"].append(None)
            columns["line"].append(number)
            columns["request"].append(request)
            columns["termination"].append(state)
    return columns


def parse_envoy(path):
    """The requests of an Envoy log (default format, CRI prefix) as columns:
    the client is the first X-Forwarded-For hop, as the binary takes it."""
    columns = collections.defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape") as lines:
        for number, line in enumerate(lines, start=1):
            match = ENVOY.match(line.rstrip("\n"))
            if not match:
                raise SystemExit(f"{path}:{number}: not an Envoy access line: {line[:120]!r}")
            when, request, status, flags, duration, forwarded, agent, upstream = match.groups()
            at = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
            columns["time"].append(at)
            columns["client"].append(forwarded.split(",")[0].strip())
            columns["status"].append(int(status))
            columns["request_time"].append(None if duration == "-" else float(duration))
            columns["user_agent"].append(None if agent == "-" else agent)
            columns["upstream"].append(None if upstream == "-" else upstream)
            columns["upstream_status"].append(None)
            columns["upstream_time"].append(None)
            columns["line"].append(number)
            columns["request"].append(request)
            columns["termination"].append(flags)
    return columns


def parse_log(path, tail):
    """The requests of one access log as columns (a line that does not
    parse is an error: the samples are generated, every line is a request)."""
    if tail == "haproxy":
        return parse_haproxy(path)
    if tail == "envoy":
        return parse_envoy(path)
    columns = collections.defaultdict(list)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="surrogateescape") as lines:
        for number, line in enumerate(lines, start=1):
            match = NCSA.match(line.rstrip("\n"))
            if not match:
                raise SystemExit(f"{path}:{number}: not an NCSA access line: {line[:120]!r}")
            client, _user, when, request, status, _size, _referer, agent, rest = match.groups()
            at = clf_time(when)
            # A list of attempts ("a:80, b:80") is one field.
            fields = re.findall(r"(?:\S+, )*\S+", rest)
            request_time, upstream, upstream_status, upstream_time = None, None, None, None
            if tail == "forwarded+seconds":
                request_time = float(fields[-1]) if fields[-1] != "-" else None
            elif tail == "seconds":
                request_time = float(fields[0]) if fields and fields[0] != "-" else None
            elif tail == "micros":
                request_time = int(fields[0])
            elif tail == "ingress":
                # request_length request_time [upstream_name] [alternative]
                # upstream_addr upstream_length upstream_time upstream_status req_id
                request_time = float(fields[1]) if fields[1] != "-" else None
                upstream, upstream_time, upstream_status = fields[4], fields[6], fields[7]
            columns["time"].append(at)
            columns["client"].append(client)
            columns["status"].append(int(status))
            columns["request_time"].append(request_time)
            columns["user_agent"].append(None if agent == "-" else agent)
            columns["upstream"].append(upstream)
            columns["upstream_status"].append(upstream_status)
            columns["upstream_time"].append(upstream_time)
            columns["line"].append(number)
            columns["request"].append(request)
            columns["termination"].append(None)
    return columns


def leads_log(path):
    """An nginx log (`combined` with `$request_time`) of 90 minutes whose
    report has both leads the heavy-hitter tables make: `/checkout`
    failing for 12 minutes (the path lead), a scanner's 404s for 10
    minutes (the 4xx client), and in one minute 20 failing paths (more
    keys than the 8 counters, where the engine's exact counts and the
    binary's streaming ones may differ)."""
    rng = random.Random(17)
    start = datetime.datetime(2024, 6, 11, 12, 0, tzinfo=datetime.timezone.utc)
    pages = ["/", "/search", "/products/item-%d", "/cart", "/api/v1/events", "/static/app.js", "/checkout"]
    lines = []
    for second in range(90 * 60):
        at = start + datetime.timedelta(seconds=second)
        minute = second // 60
        for _ in range(2):
            client = "198.51.100.%d" % rng.randrange(1, 200)
            page = rng.choice(pages)
            if "%d" in page:
                page = page % rng.randrange(40)
            status, took = 200, rng.uniform(0.01, 0.2)
            if page == "/checkout" and 50 <= minute < 62:
                status, took = 502, rng.uniform(0.001, 0.01)
            elif rng.random() < 0.003:
                status = 500
            elif rng.random() < 0.02:
                status = 404
            lines.append((at, client, "GET %s?session=%d HTTP/1.1" % (page, rng.randrange(999)), status, took))
        if 15 <= minute < 25:
            lines.append((at, "203.0.113.9", "GET /wp-admin/%d.php HTTP/1.1" % second, 404, 0.002))
        if minute == 56 and second % 3 == 0:
            lines.append((at, "198.51.100.7", "GET /report/%d HTTP/1.1" % (second % 20), 503, 0.004))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wt") as out:
        for at, client, request, status, took in lines:
            stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
            out.write(f'{client} - - [{stamp}] "{request}" {status} 512 "-" "curl/8.5.0" {took:.3f}\n')


def termination_logs(sample, path):
    """An HAProxy or an Envoy log whose failed requests end in every way
    the binary maps (`ingest::access::haproxy::termination`,
    `envoy::RESPONSE_FLAG_CAUSES`) and some it does not, spread over three
    upstreams and five minutes, so `dimension_causes` is compared cause by
    cause and code by code."""
    states = [
        "----", "LR--", "SC--", "sC--", "SH--", "SD--", "sH--", "sD--", "sQ--", "CD--", "CH--", "cD--",
        "cR--", "PR--", "PT--", "IH--", "RC--", "DD--", "UD--", "KD--", "cT--", "-T--",
    ]
    flags = [
        "-", "UH", "UF", "URX", "UF,URX", "DF", "UT", "UMSDR", "UC", "UR", "UPE", "DC", "DT", "NR", "NC", "RL",
        "RLSE", "UAEX", "IH", "UO", "OM", "SI", "DPE", "FI", "DI", "LH,UO", "DI,UT,UF", "URXX", "XUF",
    ]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = []
    for index in range(300):
        minute, second, millis = index // 60, index % 60, (index * 37) % 1000
        server = ["app1", "app2", "<NOSRV>"][index % 3]
        status = [503, 502, 504, 200][index % 4]
        if sample == "haproxy-states":
            state = states[index % len(states)]
            lines.append(
                f"Apr  9 06:0{minute}:{second:02d} lb01 haproxy[2231]: 10.0.0.{index % 50}:39065 "
                f"[09/Apr/2024:06:0{minute}:{second:02d}.{millis:03d}] www~ shop/{server} 0/0/1/59/60 {status} 0 - - "
                f'{state} 12/12/4/1/0 0/0 "GET /item/{index % 7} HTTP/1.1"'
            )
        else:
            flag = flags[index % len(flags)]
            upstream = ["10.42.2.9:8080", "10.42.1.17:8080", "10.42.0.3:8080"][index % 3]
            stamp = f"2024-05-14T12:0{minute}:{second:02d}.{millis:03d}Z"
            lines.append(
                f'{stamp} stdout F [{stamp}] "GET /item/{index % 7} HTTP/1.1" {status} {flag} 0 91 3 - '
                f'"10.0.0.{index % 50}" "curl/8.5.0" "id{index}" "api.shop.example" "{upstream}"'
            )
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wt") as out:
        out.write("\n".join(lines) + "\n")


def leads_named(report):
    """The path and 4xx-client leads of a report, as text."""
    hints = [hint for incident in report.get("incidents", []) for hint in incident.get("hints", [])]
    bursts = [burst.get("client") for burst in report.get("client_bursts", [])]
    return {
        "path": [hint for hint in hints if hint.startswith("path ")],
        "client": bursts,
        "cause": [hint for hint in hints if "as the proxy logged how they ended" in hint],
    }


def save_parquet(columns, path, unit):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "time": pa.array(columns["time"], pa.timestamp("ms", tz="UTC")),
            "client": pa.array(columns["client"], pa.string()),
            "status": pa.array(columns["status"], pa.int64()),
            "request_time": pa.array(columns["request_time"], pa.int64() if unit == "us" else pa.float64()),
            "user_agent": pa.array(columns["user_agent"], pa.string()),
            "upstream": pa.array(columns["upstream"], pa.string()),
            "upstream_status": pa.array(columns["upstream_status"], pa.string()),
            "upstream_time": pa.array(columns["upstream_time"], pa.string()),
            "line": pa.array(columns["line"], pa.int64()),
            "request": pa.array(columns["request"], pa.string()),
            "termination": pa.array(columns["termination"], pa.string()),
        }
    )
    pq.write_table(table, path)


class DuckDb:
    name, dialect = "duckdb", "duckdb"

    def __init__(self, parquet):
        import duckdb

        self.db = duckdb.connect()
        self.db.execute(f"CREATE TABLE access AS SELECT * FROM read_parquet('{parquet}')")

    def run(self, query):
        return [row[0] for row in self.db.execute(query).fetchall()]


class ChDb:
    name, dialect = "chdb", "clickhouse"

    def __init__(self, parquet):
        from chdb import session

        self.session = session.Session()
        self.session.query("CREATE DATABASE IF NOT EXISTS pm")
        self.session.query("DROP TABLE IF EXISTS pm.access")
        self.session.query(
            f"CREATE TABLE pm.access ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM file('{parquet}', Parquet)"
        )

    def run(self, query):
        text = str(self.session.query(query, "TabSeparatedRaw"))
        return [line for line in text.split("\n") if line]

    def close(self):
        self.session.close()


def postmortem(binary, *args):
    return output_of(launch(binary, *args))


def launch(binary, *args):
    """A run of the binary, started: the binary's own runs of a sample go
    on while the loader parses its log (the check stays under 3 minutes
    on two cores)."""
    return subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def output_of(run):
    """The output of a run of `launch`, or the exit naming its failure."""
    out, err = run.communicate()
    if run.returncode != 0:
        raise SystemExit(f"postmortem {' '.join(run.args[1:])}: exit {run.returncode}: {err.strip()}")
    return out


def rows_by_table(lines):
    tables = collections.defaultdict(list)
    for line in lines:
        row = json.loads(line)
        tables[row.pop("table")].append(row)
    return tables


def canonical(rows, drop=()):
    return sorted(json.dumps({k: v for k, v in row.items() if k not in drop}, sort_keys=True) for row in rows)


def compare_partials(ours, theirs, same_ids, failures, listed, label):
    """Row-by-row equality of the tables both write; `theirs` is the binary's."""
    # The SQL has no users budget: its buckets are exact and carry none of
    # the sketched-bucket columns (read as exact, docs/partials.md).
    drop_everywhere = {"users_hll", "bad_users_hll", "users_sketched", "users_first_ms", "users_last_ms"}
    for table in [
        "buckets", "latency", "slow_tail", "slots", "users", "dimensions", "dimension_latency", "dimension_causes",
        "totals", "path_cells",
    ]:
        drop = set(drop_everywhere)
        if table == "users" and not same_ids:
            drop.add("user")
        mine, binary = canonical(ours.get(table, []), drop), canonical(theirs.get(table, []), drop)
        if mine != binary and table in LISTED_ONLY:
            listed.append(f"{label}: table {table}: {len(set(mine) - set(binary))} of {len(mine)} rows differ from the binary's")
        elif mine != binary:
            only_mine = sorted(set(mine) - set(binary))[:2]
            only_binary = sorted(set(binary) - set(mine))[:2]
            failures.append(
                f"{label}: table {table}: {len(mine)} rows vs the binary's {len(binary)}; "
                f"only here: {only_mine}; only the binary's: {only_binary}"
            )
    compare_heavy(ours, theirs, failures, listed, label)
    (mine,), (binary,) = ours["inputs"], theirs["inputs"]
    for key in ["lines", "parsed", "first", "last", "no_response", "field_request_time", "field_user_agent", "field_upstream"]:
        if mine[key] != binary[key]:
            failures.append(f"{label}: inputs.{key} is {mine[key]}, the binary's {binary[key]}")


def compare_heavy(ours, theirs, failures, listed, label):
    """`heavy`, summary by summary and bucket: the engine's exact counts
    must be the binary's where they are every item of the bucket (at most
    8 keys: the binary's Misra-Gries summary never decremented); where a
    bucket had more keys the two are different valid summaries, counted
    (docs/sql.md, "What differs")."""
    def by_summary(rows):
        grouped = collections.defaultdict(list)
        for row in rows:
            grouped[(row["summary"], row["bucket"])].append(row)
        return grouped

    mine, binary = by_summary(ours.get("heavy", [])), by_summary(theirs.get("heavy", []))
    totals = {(row["summary"], row["bucket"]): row["total"] for row in ours.get("totals", [])}
    differing = collections.Counter()
    for key in sorted(set(mine) | set(binary)):
        if canonical(mine.get(key, [])) == canonical(binary.get(key, [])):
            continue
        if sum(row["count"] for row in mine.get(key, [])) == totals.get(key, 0):
            failures.append(
                f"{label}: heavy {key}: every item counted, yet not the binary's summary: "
                f"{canonical(mine.get(key, []))} vs {canonical(binary.get(key, []))}"
            )
        else:
            differing[key[0]] += 1
    for summary, count in sorted(differing.items()):
        listed.append(f"{label}: heavy {summary}: {count} buckets with more than 8 keys hold other valid counters than the binary's")


def headline(report):
    return [
        {
            **{key: incident.get(key) for key in INCIDENT_KEYS},
            **{key: incident.get("impact", {}).get(key) for key in IMPACT_KEYS},
            "timeline": [(entry.get("at"), entry.get("kind")) for entry in incident.get("timeline", [])],
        }
        for incident in report.get("incidents", [])
    ]


def parse_check(binary, sample, flags, failures):
    """Parses the query of each dialect in PARSED_ONLY (the partials, with
    each --users mode, and the impact query of a window) with sqlglot; a
    parse error, or a function neither sqlglot nor PARSED_ONLY knows,
    fails. Returns the number of queries parsed."""
    import sqlglot

    parsed = 0
    for dialect, known in PARSED_ONLY.items():
        for extra in (["--users", "ip-ua"], ["--users", "ip"], ["--users", "ip", "--window", "2024-06-11T13:23:18Z..2024-06-11T14:09:32Z"]):
            label = f"{sample} {dialect} {' '.join(extra)}"
            query = postmortem(binary, "sql", "--dialect", dialect, "--table", "project.logs.access", *flags, *extra)
            try:
                statements = sqlglot.parse(query, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
            except sqlglot.errors.SqlglotError as error:
                failures.append(f"{label}: sqlglot cannot parse the query: {str(error)[:300]}")
                continue
            unknown = {
                function.name.lower()
                for statement in statements
                if statement is not None
                for function in statement.find_all(sqlglot.exp.Anonymous)
            } - known
            if unknown:
                failures.append(f"{label}: functions {sorted(unknown)} unknown to sqlglot's {dialect} and not listed in PARSED_ONLY")
            parsed += 1
    return parsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/debug/postmortem")
    parser.add_argument("--samples", default="sample-logs")
    parser.add_argument("--only", action="append", choices=sorted(SAMPLES), help="check these samples alone")
    arguments = parser.parse_args()
    try:
        import pyarrow  # noqa: F401 (the loader writes the table as Parquet)
    except ImportError as error:
        print(f"== sql check: SKIPPED: the Python package 'pyarrow' cannot be imported ({error})")
        return 0
    engines = []
    for engine, module in [(DuckDb, "duckdb"), (ChDb, "chdb")]:
        try:
            __import__(module)
            engines.append(engine)
        except ImportError as error:
            print(f"== sql check: SKIPPED {engine.name}: the Python package '{module}' cannot be imported ({error})")
    try:
        import sqlglot  # noqa: F401 (the parse check of the dialects no engine here runs)

        parse_dialects = True
    except ImportError as error:
        print(f"== sql check: SKIPPED the parse check of {sorted(PARSED_ONLY)}: the Python package 'sqlglot' cannot be imported ({error})")
        parse_dialects = False
    if not engines:
        return 0
    failures, listed = [], []
    queries_parsed = 0
    explained = collections.Counter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pm-sql-") as scratch:
        for sample, (log, tail, time_is, unit) in SAMPLES.items():
            if arguments.only and sample not in arguments.only:
                continue
            path = os.path.join(arguments.samples, sample, log)
            if sample == "leads":
                path = os.path.join(scratch, sample, log)
                leads_log(path)
            elif sample in ("haproxy-states", "envoy-flags"):
                path = os.path.join(scratch, sample, log)
                termination_logs(sample, path)
            modes = ["ip-ua", "ip"]
            partial_runs = {
                users: launch(arguments.binary, "partial", "--format", "jsonl", "--users", users, path) for users in modes
            }
            report_runs = {
                users: launch(arguments.binary, "report", "--format", "json", "--users", users, path)
                for users in modes
                if sample not in ROWS_ONLY
            }
            parquet = os.path.join(scratch, f"{sample}.parquet")
            save_parquet(parse_log(path, tail), parquet, unit)
            flags = ["--time-is", time_is, "--request-time-unit", unit, "--line-column", "line", "--request-column", "request"]
            if tail == "ingress":
                flags += [
                    "--upstream-column", "upstream",
                    "--upstream-status-column", "upstream_status",
                    "--upstream-time-column", "upstream_time",
                ]
            if tail in ("haproxy", "envoy"):
                flags += [
                    "--upstream-column", "upstream",
                    "--termination-column", "termination",
                    "--termination-format", tail,
                ]
            if parse_dialects:
                queries_parsed += parse_check(arguments.binary, sample, flags, failures)
            databases = {engine: engine(parquet) for engine in engines}
            # DuckDB's ids are its own hash (the default --users ip-ua);
            # chDB's are the binary's with --users ip, compared id for id.
            runs = [(DuckDb, "ip-ua"), (ChDb, "ip")]
            for users in modes:
                binary_rows = rows_by_table(output_of(partial_runs[users]).splitlines())
                whole = None
                for engine in [engine for engine, mode in runs if mode == users and engine in databases]:
                    label = f"{sample} {engine.name} --users {users}"
                    db = databases[engine]
                    table = "pm.access" if engine is ChDb else "access"
                    query = postmortem(
                        arguments.binary, "sql", "--dialect", engine.dialect, "--table", table, "--users", users, *flags
                    )
                    lines = db.run(query)
                    out = os.path.join(scratch, f"{sample}-{engine.name}-{users}.jsonl")
                    with open(out, "w") as jsonl:
                        jsonl.write("\n".join(lines) + "\n")
                    same_ids = engine is ChDb and users == "ip"
                    compare_partials(rows_by_table(lines), binary_rows, same_ids, failures, listed, label)
                    if sample in ROWS_ONLY:
                        causes = len(rows_by_table(lines).get("dimension_causes", []))
                        print(f"   {label}: {len(lines)} rows ({causes} dimension_causes), report not compared: {ROWS_ONLY[sample]}")
                        continue
                    # The report from the engine's partials, once the reduce step reads JSON lines.
                    done = subprocess.run(
                        [arguments.binary, "report", "--format", "json", "--from-partials", out],
                        capture_output=True,
                        text=True,
                    )
                    if done.returncode == 0:
                        if whole is None:
                            whole = json.loads(output_of(report_runs[users]))
                        merged = json.loads(done.stdout)
                        merged = with_impact(arguments.binary, db, engine, table, users, flags, merged, out, scratch)
                        if headline(merged) != headline(whole):
                            failures.append(
                                f"{label}: report headline differs: from the engine {headline(merged)} "
                                f"but from the log {headline(whole)}"
                            )
                        for difference in unexplained(merged, whole, explained):
                            failures.append(f"{label}: report field differs, not explained in docs/sql.md: {difference}")
                        named, engine_named = leads_named(whole), leads_named(merged)
                        if named != engine_named:
                            failures.append(f"{label}: leads differ: from the engine {engine_named} but from the log {named}")
                        for kind, text in LEADS.get(sample, {}).items():
                            if not any(text in lead for lead in named[kind]):
                                failures.append(f"{label}: the log's report no longer names the {kind} lead {text!r}: {named}")
                        compared = (
                            f", report: {len(headline(whole))} incidents, {sum(len(i['timeline']) for i in headline(whole))} timeline entries, "
                            f"{len(named['path'])} path, {len(named['client'])} 4xx-client and {len(named['cause'])} termination-cause leads compared"
                        )
                    else:
                        failures.append(f"{label}: report --from-partials failed: {done.stderr.strip()[:300]}")
                        compared = ", report not written"
                    print(f"   {label}: {len(lines)} rows{compared}")
            if ChDb in databases:
                databases[ChDb].close()
    elapsed = time.monotonic() - started
    for reason, count in sorted(explained.items()):
        print(f"   explained (docs/sql.md): {count} report fields differ: {reason}")
    for difference in listed:
        print(f"   listed (docs/sql.md): {difference}")
    if parse_dialects:
        print(f"   parsed by sqlglot (not run): {queries_parsed} queries of {', '.join(sorted(PARSED_ONLY))}")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"== sql check: {'FAILED' if failures else 'ok'} in {elapsed:.1f} s")
    return 1 if failures else 0


def with_impact(binary, db, engine, table, users, flags, report, out, scratch):
    """The report again with the impact partials of every incident whose
    counts are not exact, as docs/partials.md tells a user to do."""
    impacts = []
    for number, incident in enumerate(report.get("incidents", [])):
        if incident.get("impact", {}).get("requests_exact", True):
            continue
        window = f"{incident['start']}..{incident['end']}"
        query = postmortem(binary, "sql", "--dialect", engine.dialect, "--table", table, "--users", users, "--window", window, *flags)
        path = os.path.join(scratch, f"impact-{number}-{os.path.basename(out)}")
        with open(path, "w") as jsonl:
            jsonl.write("\n".join(db.run(query)) + "\n")
        impacts.append(path)
    if not impacts:
        return report
    return json.loads(postmortem(binary, "report", "--format", "json", "--from-partials", out, "--impact", *impacts))


if __name__ == "__main__":
    sys.exit(main())
