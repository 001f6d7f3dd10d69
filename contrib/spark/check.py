"""The check CI runs on the Spark job (contrib/spark/postmortem_spark.py).

    python3 contrib/spark/check.py target/debug/postmortem

Runs the job in local mode (``local[2]``, each plain file cut into 4 splits)
on two samples of ``sample-logs/`` and checks, per sample:

1. **Rows**: every table of the merged JSON lines equals, row for row (as a
   set), what ``postmortem partial --format jsonl`` writes for the whole
   sample in one run, but for ``users_hll``, whose bytes depend on the
   order sketches were merged in: its estimate (``hll_sketch_estimate``)
   must be equal instead; the producer's name; and the host dimension's
   rows, which one run over several files has and pieces of one file
   cannot (docs/partials.md).
2. **Report**: ``postmortem report --from-partials merged.jsonl`` (with the
   exact second pass, the job run again with ``--window`` for each
   incident whose counts are not exact, given as ``--impact``) equals
   ``postmortem report --format json`` on the same files, to the value.

Each plain file must really be 4 splits (``.gz`` files are one, metric
CSVs are read whole). Prints ``spark check: N passed, N failed`` and exits
non-zero on any difference, printing the first ones.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyspark.sql import SparkSession  # noqa: E402

import postmortem_spark  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPLITS = 4
# (sample, options for every run): haproxy-reload is one plain access log
# (upstreams, heavy hitters, causes); full-outage has a gzipped access log
# (one split), an error log and a syslog cut into 4 (zoneless, yearless
# syslog pieces need --tz and --year, docs/partials.md) and a metric CSV
# (read whole); haproxy-reload again with every split's buckets sketched
# (`--exact-users-mb 0`: no users rows, bad_users_hll merged by
# hll_union_agg, users_sketched by bool_or).
SAMPLES = [
    ("haproxy-reload", []),
    ("full-outage", ["--tz", "UTC", "--year", "2023"]),
    ("haproxy-reload", ["--exact-users-mb", "0"]),
]


class Failed(Exception):
    """A command of the check that exited non-zero."""


def run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def tables(text):
    """The rows of a JSON-lines partial, by table, as canonical JSON."""
    by_table = {}
    for line in text.splitlines():
        row = json.loads(line)
        by_table.setdefault(row["table"], []).append(row)
    return by_table


def estimates(spark, rows, column="users_hll"):
    """bucket -> hll_sketch_estimate of its sketch in `column` (None where
    null), computed by Spark."""
    frame = spark.createDataFrame([(r["bucket"], r.get(column)) for r in rows], "bucket LONG, sketch STRING")
    return {r.bucket: r.estimate for r in
            frame.selectExpr("bucket", "hll_sketch_estimate(unhex(sketch)) AS estimate").collect()}


def compare_rows(spark, merged, whole):
    problems = []
    merged_settings, whole_settings = merged.pop("settings")[0], whole.pop("settings")[0]
    for key in set(merged_settings) | set(whole_settings):
        if key != "postmortem.producer" and merged_settings.get(key) != whole_settings.get(key):
            problems.append(f"settings {key}: {merged_settings.get(key)!r} != {whole_settings.get(key)!r}")
    if "buckets" in whole:
        # Sketches by their estimates (their bytes depend on the merge
        # order); a sketched bucket's `users` is such an estimate, computed
        # by Spark in one and by the binary in the other.
        for column in ("users_hll", "bad_users_hll"):
            spark_users = estimates(spark, merged["buckets"], column)
            whole_users = estimates(spark, whole["buckets"], column)
            if spark_users != whole_users:
                bad = [b for b in whole_users if spark_users.get(b) != whole_users[b]][:3]
                problems.append(f"{column} estimates differ in buckets {bad}")
        for rows in (merged["buckets"], whole["buckets"]):
            for row in rows:
                row.pop("users_hll")
                row.pop("bad_users_hll", None)
                if row.get("users_sketched"):
                    row.pop("users")
    # One run labels each request with its file's host (the part of the
    # path the files do not share); a piece is one file, with no second host
    # to tell apart (docs/partials.md: "The host dimension is each
    # producer's"), so the host rows are one run's alone.
    for table in ("dimensions", "dimension_latency", "dimension_causes"):
        whole[table] = [row for row in whole.get(table, []) if row["kind"] != "host"]
    for table in sorted(set(merged) | set(whole)):
        mine = sorted(json.dumps(r, sort_keys=True) for r in merged.get(table, []))
        theirs = sorted(json.dumps(r, sort_keys=True) for r in whole.get(table, []))
        if mine != theirs:
            only_mine = sorted(set(mine) - set(theirs))[:2]
            only_theirs = sorted(set(theirs) - set(mine))[:2]
            problems.append(f"table {table}: {len(mine)} rows merged, {len(theirs)} in one run; "
                            f"merged only: {only_mine}; one run only: {only_theirs}")
    return problems


def differences(a, b, path="$"):
    """The first paths where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            found += differences(a.get(key), b.get(key), f"{path}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = []
        for index, (x, y) in enumerate(zip(a, b)):
            found += differences(x, y, f"{path}[{index}]")
        return found
    return [] if a == b else [f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"]


def check_sample(spark, binary, name, options, scratch):
    sample = os.path.join(REPO, "sample-logs", name)
    merged_path = os.path.join(scratch, f"{name}.jsonl")
    job = [sample, "-o", merged_path, "--binary", binary, "--splits-per-file", str(SPLITS)] + options
    files = postmortem_spark.main(job, spark)
    problems = []
    for path, splits, lines in files:
        plain = not path.endswith((".gz", ".csv"))
        if plain and splits != SPLITS:
            problems.append(f"{path}: {splits} splits, not {SPLITS} (the check must cut it)")
        print(f"  {path}: {splits} split(s), {lines} lines")
    with open(merged_path, encoding="utf-8") as merged:
        merged_rows = tables(merged.read())
    whole_rows = tables(run([binary, "partial", "--format", "jsonl", "-q"] + options + [sample]))
    problems += compare_rows(spark, merged_rows, whole_rows)
    try:
        problems += compare_reports(spark, binary, sample, job, options, merged_path, scratch, name)
    except Failed as failure:
        problems.append(str(failure))
    return problems


def compare_reports(spark, binary, sample, job, options, merged_path, scratch, name):
    """The report from the merged partials (with the impact pass) against
    one run's."""
    # The report takes every option but --year (and its value).
    report_options = [o for k, o in enumerate(options)
                      if o != "--year" and (k == 0 or options[k - 1] != "--year")]
    whole_report = json.loads(run([binary, "report", "--format", "json"] + options + [sample]))
    first = json.loads(run([binary, "report", "--format", "json", "--from-partials", merged_path] + report_options))
    impact = []
    for index, incident in enumerate(first.get("incidents", [])):
        if incident["impact"]["requests_exact"]:
            continue
        impact_path = os.path.join(scratch, f"{name}-impact-{index}.jsonl")
        window = f"{incident['start']}..{incident['end']}"
        postmortem_spark.main(job[:1] + ["-o", impact_path] + job[3:] + ["--window", window], spark)
        impact += ["--impact", impact_path]
    from_partials = json.loads(run([binary, "report", "--format", "json", "--from-partials", merged_path]
                                   + impact + report_options))
    found = differences(from_partials, whole_report)
    return [f"report {line}" for line in found[:10]]


def main(argv):
    if len(argv) != 1:
        raise SystemExit("usage: check.py PATH/TO/postmortem")
    binary = os.path.abspath(argv[0])
    started = time.monotonic()
    spark = (SparkSession.builder.master("local[2]").appName("postmortem-check")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    # The executors' Python imports the job's functions by module name.
    spark.sparkContext.addPyFile(postmortem_spark.__file__)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, options) in enumerate(SAMPLES):
            print(f"spark check: {name} {' '.join(options)}")
            # A folder per case: a sample may be checked with other options.
            case_scratch = os.path.join(scratch, str(index))
            os.makedirs(case_scratch)
            problems = check_sample(spark, binary, name, options, case_scratch)
            if problems:
                failed += 1
                print(f"FAILED {name}:")
                for problem in problems:
                    print(f"  {problem}")
            else:
                passed += 1
                print(f"ok {name}: the merged rows and report are one run's")
    spark.stop()
    print(f"spark check took {time.monotonic() - started:.0f} s")
    print(f"spark check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
