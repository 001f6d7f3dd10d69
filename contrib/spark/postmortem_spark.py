"""postmortem's map and merge steps as one Spark job (issue 17, item 4).

Reads log files from any Hadoop path (a local folder, ``s3a://``,
``gs://``, ``hdfs://``; folders are walked in path order, hidden files
skipped, as ``postmortem`` walks them), pipes every split of every file
through ``postmortem partial --as FILE --first-line N --format jsonl -`` on
the executors, merges the rows with Spark SQL into ONE producer and writes
one JSON-lines file that ``postmortem report --from-partials OUT.jsonl``
reads. Only the small per-bucket rows come back to the driver.

    spark-submit contrib/spark/postmortem_spark.py s3a://logs/nginx/ -o partials.jsonl
    postmortem report --from-partials partials.jsonl -o postmortem.md

How (docs/partials.md, "Spark", has the whole of it):

- One RDD per file (``newAPIHadoopFile``, lines cut at ``\\n`` only), so a
  partition is one split of one file, in order. A first pass counts each
  split's lines; prefix sums give each split's first line.
- Each partition is piped through the binary as ``RDD.pipe`` does (a
  thread feeds stdin, stdout is read line by line), with that partition's
  ``--as``, ``--first-line`` and ``--producer f<file>-s<split>``. Hadoop
  decompresses ``.gz`` by name and never splits it; files matching
  ``--whole`` (default ``*.csv``: a metric CSV's header is its first line)
  are read as one split.
- The rows are merged with SQL, table by table, by the rules of
  docs/partials.md: counts ``SUM``, ``first_*`` ``MIN``, ``last_*`` ``MAX``,
  the first/last bad line with ``min_by``/``max_by`` (ties: the smaller
  (input, line)), ``users_hll`` and ``bad_users_hll`` with ``hll_union_agg``
  (Spark >= 3.5; nulls skipped), ``users_sketched`` with ``bool_or``, the
  ``heavy`` Misra-Gries counters summed by key, the 8 largest kept and the
  9th subtracted. Every ``input`` becomes the file's index; the pieces'
  ``inputs`` rows are merged on the driver (docs/partials.md, "Pieces of one
  file"); events and metric points are concatenated.

Options after the inputs that ``partial`` takes (``--tz``, ``--year``,
``--bucket``, ``--slow``, ``--users``, ``--log-format``, ``--alert-pattern``,
``--since``, ``--until``, ``--exact-users-mb``) are given to every partition. ``--window
START..END`` runs ``postmortem impact`` instead (the exact second pass;
give its output to ``report --impact``).
"""

import argparse
import fnmatch
import json
import subprocess
import sys
import threading

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (BooleanType, LongType, StringType, StructField,
                               StructType)

# Settings that describe one producer only, so they may differ between pieces.
PER_PRODUCER_SETTINGS = {"postmortem.producer", "postmortem.table", "postmortem.access_offset"}
# Misra-Gries counters per summary and bucket (series/heavy.rs).
HEAVY_COUNTERS = 8
# Skipped-line examples an input keeps (ingest/stats.rs MAX_SKIPPED_EXAMPLES).
SKIPPED_EXAMPLES = 5
TEXT_INPUT = "org.apache.hadoop.mapreduce.lib.input.TextInputFormat"

L, B, S = LongType(), BooleanType(), StringType()


def schema(*columns):
    return StructType([StructField(name, kind) for name, kind in columns])


# The tables merged in SQL: their columns (binary cells stay lowercase hex
# strings, whose order is the bytes' order) and the SELECT that merges them.
TABLES = {
    "buckets": schema(
        ("bucket", L), ("requests", L), ("failed", L), ("slow_at_ingest", L), ("failed_completed", L),
        ("status_other", L), ("status_1xx", L), ("status_2xx", L), ("status_3xx", L), ("status_4xx", L),
        ("status_5xx", L), ("first_bad_ms", L), ("last_bad_ms", L), ("first_failed_ms", L),
        ("last_failed_ms", L), ("first_bad_input", L), ("first_bad_line", L), ("last_bad_input", L),
        ("last_bad_line", L), ("users", L), ("users_hll", S), ("bad_users_hll", S), ("users_sketched", B),
        ("users_first_ms", L), ("users_last_ms", L)),
    "latency": schema(("bucket", L), ("bin", L), ("count", L)),
    "slow_tail": schema(("bucket", L), ("slot", L), ("bin", L), ("count", L), ("first_ms", L), ("last_ms", L)),
    "slots": schema(("bucket", L), ("slot", L), ("requests", L), ("failed", L), ("bad", L),
                    ("first_failed_ms", L), ("last_failed_ms", L)),
    "users": schema(("bucket", L), ("user", L), ("first_ms", L), ("last_ms", L), ("first_bad_ms", L),
                    ("last_bad_ms", L), ("max_ok_latency_us", L), ("had_failed", B)),
    "dimensions": schema(("kind", S), ("value", S), ("bucket", L), ("requests", L), ("failed", L),
                         ("slow", L), ("first_failed", L)),
    "dimension_latency": schema(("kind", S), ("value", S), ("bucket", L), ("bin", L), ("count", L)),
    "dimension_causes": schema(("kind", S), ("value", S), ("bucket", L), ("cause", L), ("cause_name", S),
                               ("count", L), ("code", S)),
    "heavy": schema(("summary", S), ("bucket", L), ("key", S), ("truncated", B), ("count", L),
                    ("first", L), ("last", L)),
    "totals": schema(("summary", S), ("bucket", L), ("total", L)),
    "path_cells": schema(("bucket", L), ("cell", L), ("count", L)),
}

STATUS = ", ".join(f"SUM({c}) AS {c}" for c in
                   ["status_other", "status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx"])
MERGE = {
    "buckets": f"""
        WITH b AS (
          SELECT bucket, SUM(requests) AS requests, SUM(failed) AS failed,
            SUM(slow_at_ingest) AS slow_at_ingest, SUM(failed_completed) AS failed_completed, {STATUS},
            MIN(first_bad_ms) AS first_bad_ms, MAX(last_bad_ms) AS last_bad_ms,
            MIN(first_failed_ms) AS first_failed_ms, MAX(last_failed_ms) AS last_failed_ms,
            min_by(named_struct('input', first_bad_input, 'line', first_bad_line),
                   named_struct('ms', first_bad_ms, 'input', first_bad_input, 'line', first_bad_line))
              FILTER (WHERE first_bad_ms IS NOT NULL) AS fb,
            max_by(named_struct('input', last_bad_input, 'line', last_bad_line),
                   named_struct('ms', last_bad_ms, 'input', -last_bad_input, 'line', -last_bad_line))
              FILTER (WHERE last_bad_ms IS NOT NULL) AS lb,
            lower(hex(hll_union_agg(unhex(users_hll)))) AS users_hll,
            coalesce(bool_or(users_sketched), false) AS users_sketched,
            -- Exact splits write no bad-user sketch (null, skipped); their
            -- users rows are folded into the sketch by the reduce step.
            CASE WHEN bool_or(users_sketched)
              THEN lower(hex(hll_union_agg(unhex(bad_users_hll)))) END AS bad_users_hll,
            MIN(users_first_ms) AS users_first_ms, MAX(users_last_ms) AS users_last_ms
          FROM buckets GROUP BY bucket),
        u AS (SELECT bucket, COUNT(*) AS users FROM merged_users GROUP BY bucket)
        SELECT b.bucket, requests, failed, slow_at_ingest, failed_completed, status_other, status_1xx,
          status_2xx, status_3xx, status_4xx, status_5xx, first_bad_ms, last_bad_ms, first_failed_ms,
          last_failed_ms, fb.input AS first_bad_input, fb.line AS first_bad_line,
          lb.input AS last_bad_input, lb.line AS last_bad_line,
          -- A sketched bucket's users: the estimate, as `partial` writes it.
          CASE WHEN users_sketched THEN CAST(round(hll_sketch_estimate(unhex(users_hll))) AS BIGINT)
            ELSE coalesce(u.users, 0) END AS users,
          users_hll, bad_users_hll, users_sketched, users_first_ms, users_last_ms
        FROM b LEFT JOIN u ON b.bucket = u.bucket""",
    "latency": "SELECT bucket, bin, SUM(count) AS count FROM latency GROUP BY bucket, bin",
    "slow_tail": """SELECT bucket, slot, bin, SUM(count) AS count, MIN(first_ms) AS first_ms,
        MAX(last_ms) AS last_ms FROM slow_tail GROUP BY bucket, slot, bin""",
    "slots": """SELECT bucket, slot, SUM(requests) AS requests, SUM(failed) AS failed, SUM(bad) AS bad,
        MIN(first_failed_ms) AS first_failed_ms, MAX(last_failed_ms) AS last_failed_ms
        FROM slots GROUP BY bucket, slot""",
    "users": """SELECT bucket, user, MIN(first_ms) AS first_ms, MAX(last_ms) AS last_ms,
        MIN(first_bad_ms) AS first_bad_ms, MAX(last_bad_ms) AS last_bad_ms,
        MAX(max_ok_latency_us) AS max_ok_latency_us, bool_or(had_failed) AS had_failed
        FROM users GROUP BY bucket, user""",
    "dimensions": """SELECT kind, value, bucket, SUM(requests) AS requests, SUM(failed) AS failed,
        SUM(slow) AS slow, MIN(first_failed) AS first_failed FROM dimensions GROUP BY kind, value, bucket""",
    "dimension_latency": """SELECT kind, value, bucket, bin, SUM(count) AS count
        FROM dimension_latency GROUP BY kind, value, bucket, bin""",
    "dimension_causes": """SELECT kind, value, bucket, cause, MIN(cause_name) AS cause_name,
        SUM(count) AS count, MIN(code) AS code FROM dimension_causes GROUP BY kind, value, bucket, cause""",
    # Agarwal et al.'s merge of all pieces at once: counters of one key
    # added, the 9th largest count subtracted from the 8 largest, those
    # left with nothing dropped (a tie at the 9th drops every tied key, so
    # which of them sorts first does not matter).
    "heavy": f"""
        WITH summed AS (
          SELECT summary, bucket, key, truncated, SUM(count) AS count, MIN(first) AS first, MAX(last) AS last
          FROM heavy GROUP BY summary, bucket, key, truncated),
        ranked AS (
          SELECT *, row_number() OVER (PARTITION BY summary, bucket ORDER BY count DESC, key) AS rank
          FROM summed),
        excess AS (
          SELECT summary, bucket, coalesce(MAX(CASE WHEN rank = {HEAVY_COUNTERS + 1} THEN count END), 0) AS excess
          FROM ranked GROUP BY summary, bucket)
        SELECT r.summary, r.bucket, r.key, r.truncated, r.count - e.excess AS count, r.first, r.last
        FROM ranked r JOIN excess e ON r.summary = e.summary AND r.bucket = e.bucket
        WHERE r.rank <= {HEAVY_COUNTERS} AND r.count > e.excess""",
    "totals": "SELECT summary, bucket, SUM(total) AS total FROM totals GROUP BY summary, bucket",
    "path_cells": "SELECT bucket, cell, SUM(count) AS count FROM path_cells GROUP BY bucket, cell",
}
# Output order of each table's rows (what `postmortem partial` writes).
ORDER = {"heavy": "summary, bucket, key", "dimensions": "kind, bucket, value",
         "dimension_latency": "kind, bucket, value, bin", "dimension_causes": "kind, bucket, value, cause",
         "totals": "bucket, summary", "slow_tail": "bucket, slot, bin", "slots": "bucket, slot",
         "users": "bucket, user", "latency": "bucket, bin", "path_cells": "bucket, cell", "buckets": "bucket"}
# Tables passed through (concatenated, `input` renumbered) and merged on the
# driver; `edge_requests` (impact's requests at a start row's edge, no
# input reference) concatenated as they are.
PASSED = ("inputs", "events", "metrics", "edge_requests")
PASS_THROUGH = ["--tz", "--year", "--bucket", "--slow", "--users", "--log-format", "--since", "--until",
                "--exact-users-mb"]


def fail(message):
    print(f"postmortem_spark: {message}", file=sys.stderr)
    sys.exit(2)


def list_files(spark, inputs, whole_patterns):
    """(uri, name, size, whole) of every file below `inputs`, in path order, hidden ones skipped."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    files = []

    def walk(status, given):
        name = status.getPath().getName()
        # Hidden files and folders are skipped below a folder, read when named.
        if name.startswith(".") and not given:
            return
        if status.isDirectory():
            children = status.getPath().getFileSystem(conf).listStatus(status.getPath())
            for child in sorted(children, key=lambda s: s.getPath().getName()):
                walk(child, False)
        else:
            uri = status.getPath().toString()
            # A local file is named by its path, as `postmortem report PATH` names it.
            display = uri[len("file:"):] if uri.startswith("file:") else uri
            whole = any(fnmatch.fnmatch(name, pattern) for pattern in whole_patterns)
            files.append((uri, display, status.getLen(), whole))

    for given in inputs:
        path = jvm.org.apache.hadoop.fs.Path(given)
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            fail(f"{given}: no such file or folder (a Hadoop path: a local path, s3a://, gs://, hdfs://)")
        walk(fs.getFileStatus(path), True)
    if not files:
        fail(f"{' '.join(inputs)}: no file to read (hidden files are skipped)")
    return files


def pipe_partition(command, lines):
    """Runs `command` with `lines` on stdin, as RDD.pipe does: a thread
    writes, this one yields stdout's lines; a non-zero exit is an error
    carrying the command and its stderr."""
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    except OSError as error:
        raise RuntimeError(f"{command[0]}: cannot run it on this executor ({error}): ship the binary "
                           "(--archives postmortem.tar.gz#pm with --binary ./pm/postmortem, or the image of "
                           "contrib/spark/Dockerfile) and name it with --binary") from error
    errors = []

    def feed():
        try:
            for line in lines:
                process.stdin.write(line.encode("utf-8"))
                process.stdin.write(b"\n")
        except BrokenPipeError:
            pass
        finally:
            process.stdin.close()

    def drain():
        errors.append(process.stderr.read())

    writer, reader = threading.Thread(target=feed), threading.Thread(target=drain)
    writer.start()
    reader.start()
    for out in process.stdout:
        yield out.decode("utf-8")
    writer.join()
    reader.join()
    if process.wait() != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: "
                           f"{b''.join(errors).decode('utf-8', 'replace').strip()}")


def main(argv, spark=None):
    """Runs the job with command-line arguments `argv`; in `spark` when given
    (left running: the check runs several jobs in one session)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", help="files or folders, any Hadoop path")
    parser.add_argument("-o", "--output", required=True, help="the merged .jsonl (local path or Hadoop URI)")
    parser.add_argument("--binary", default="postmortem", help="the postmortem binary on the executors")
    parser.add_argument("--producer", default="spark", help="the merged producer's name")
    parser.add_argument("--split-bytes", type=int, help="largest split, bytes (default: Hadoop's block size)")
    parser.add_argument("--splits-per-file", type=int, help="cut each splittable file into this many splits")
    parser.add_argument("--whole", action="append", default=None,
                        help="file name pattern read as one split (default: *.csv)")
    parser.add_argument("--window", help="START..END: run `postmortem impact` (the exact second pass)")
    parser.add_argument("--alert-pattern", action="append", default=[])
    for option in PASS_THROUGH:
        parser.add_argument(option)
    args = parser.parse_args(argv)

    own_session = spark is None
    if own_session:
        spark = SparkSession.builder.appName("postmortem").getOrCreate()
    sc = spark.sparkContext
    files = list_files(spark, args.inputs, args.whole or ["*.csv"])
    extra = [arg for option in PASS_THROUGH
             for value in [getattr(args, option[2:].replace("-", "_"))] if value is not None
             for arg in (option, value)]
    extra += [arg for pattern in args.alert_pattern for arg in ("--alert-pattern", pattern)]
    command = [args.binary, "impact", "--window", args.window] if args.window else [args.binary, "partial"]

    # One RDD per file: partition k is split k of that file, lines cut at \n only.
    rdds = []
    for uri, _, size, whole in files:
        conf = {"textinputformat.record.delimiter": "\n"}
        if whole:
            conf["mapreduce.input.fileinputformat.split.minsize"] = str(max(size, 1))
        elif args.splits_per_file:
            conf["mapreduce.input.fileinputformat.split.maxsize"] = str(max(-(-size // args.splits_per_file), 1))
        elif args.split_bytes:
            conf["mapreduce.input.fileinputformat.split.maxsize"] = str(args.split_bytes)
        rdd = sc.newAPIHadoopFile(uri, TEXT_INPUT, "org.apache.hadoop.io.LongWritable",
                                  "org.apache.hadoop.io.Text", conf=conf).values()
        rdds.append(rdd)

    # Pass 1: lines per split; prefix sums give each split's first line.
    # One job over the union, whose partitions are the files' splits in order.
    every_split = sc.union(rdds).mapPartitions(lambda lines: [sum(1 for _ in lines)]).collect()
    counts, taken = [], 0
    for rdd in rdds:
        splits = rdd.getNumPartitions()
        counts.append(every_split[taken:taken + splits])
        taken += splits
    first_lines = []
    for per_split in counts:
        starts, line = [], 1
        for n in per_split:
            starts.append(line)
            line += n
        first_lines.append(starts)

    # Pass 2: each non-empty split through the binary; rows tagged with the
    # file, the split and their place in the split's output.
    def through_binary(file_index, name, starts, split_lines):
        def run(split, lines):
            # An empty split adds nothing; an empty file still gets its row.
            if split_lines[split] == 0 and (split > 0 or sum(split_lines) > 0):
                return
            producer = f"f{file_index:05d}-s{split:05d}"
            arguments = command + ["--as", name, "--first-line", str(starts[split]), "--producer", producer,
                                   "--format", "jsonl", "-q"] + extra + ["-"]
            for place, out in enumerate(pipe_partition(arguments, lines)):
                yield (file_index, split, place, out)
        return run

    piped = sc.union([rdd.mapPartitionsWithIndex(through_binary(i, files[i][1], first_lines[i], counts[i]))
                      for i, rdd in enumerate(rdds)])
    # The rows stay JSON text in the JVM, the table's name beside them.
    rows = (spark.createDataFrame(piped, "file LONG, split LONG, place LONG, line STRING")
            .withColumn("table", F.get_json_object("line", "$.table")).cache())
    check_columns(rows)

    passed = [(r.file, r.split, json.loads(r.line)) for r in
              rows.where(F.col("table").isin("settings", *PASSED)).orderBy("file", "split", "place").collect()]
    merged_settings = merge_settings([r for r in passed if r[2]["table"] == "settings"], args.producer)
    inputs, events, metrics, edges = assemble([r for r in passed if r[2]["table"] != "settings"],
                                       files, counts, first_lines)

    for table, columns in TABLES.items():
        parsed = (rows.where(F.col("table") == table)
                  .select("file", F.from_json("line", columns, {"mode": "FAILFAST"}).alias("row"))
                  .select("file", "row.*"))
        # A piece's one input is its file: line references point to the file's index.
        for column in ("first_bad_input", "last_bad_input"):
            if column in columns.fieldNames():
                parsed = parsed.withColumn(column, F.when(F.col(column).isNotNull(), F.col("file")))
        parsed.drop("file").createOrReplaceTempView(table)
    spark.sql(MERGE["users"]).createOrReplaceTempView("merged_users")

    out_lines = [json.dumps(merged_settings)]
    out_lines += [json.dumps(row) for row in inputs]
    for table in TABLES:
        merged = spark.sql(f"SELECT * FROM ({MERGE[table]}) ORDER BY {ORDER[table]}")
        for row in merged.collect():
            out_lines.append(json.dumps(dict(table=table, **row.asDict())))
    out_lines += [json.dumps(row) for row in events + metrics + edges]
    write_output(spark, args.output, "\n".join(out_lines) + "\n")
    rows.unpersist()
    if own_session:
        spark.stop()
    return [(name, len(per_split), sum(per_split)) for (_, name, _, _), per_split in zip(files, counts)]


def check_columns(rows):
    """Refuses rows of a table this job does not know, or whose columns are
    not the ones it merges (a binary of another version)."""
    samples = rows.groupBy("table").agg(F.first("line").alias("line"), F.first("file").alias("file")).collect()
    for sample in samples:
        row = json.loads(sample.line)
        table = sample.table
        if table in ("settings",) + PASSED:
            continue
        if table not in TABLES:
            fail(f"the binary wrote a table '{table}' this job does not merge: use the postmortem_spark.py "
                 "of the binary's version")
        expected = set(TABLES[table].fieldNames()) | {"table"}
        if set(row) != expected:
            fail(f"table '{table}' has columns {sorted(set(row) ^ expected)} that this job does not expect "
                 "(docs/partials.md): use the postmortem_spark.py of the binary's version")


def merge_settings(settings, producer):
    """The pieces' settings line (they must agree but for the producer's own
    keys), for the one merged producer; its access offset the one most
    pieces' access lines carried."""
    if not settings:
        fail("no split was read: every file is empty")
    first = settings[0][2]
    for _, _, other in settings[1:]:
        for key in set(first) | set(other):
            if key not in PER_PRODUCER_SETTINGS and first.get(key) != other.get(key):
                fail(f"partials made with different settings: {key} is {first.get(key)!r} in "
                     f"{first.get('postmortem.producer')} but {other.get(key)!r} in {other.get('postmortem.producer')}")
    merged = dict(first)
    merged["postmortem.producer"] = producer
    offsets = {}
    for _, _, line in settings:
        offset = line.get("postmortem.access_offset", "")
        if offset != "":
            offsets[offset] = offsets.get(offset, 0) + 1
    merged["postmortem.access_offset"] = max(sorted(offsets), key=offsets.get) if offsets else ""
    return merged


def assemble(passed, files, counts, first_lines):
    """The `inputs` rows of each file's pieces merged into one (docs/partials.md,
    "Pieces of one file"), and the events and metric points with `input`
    the file's index and each piece's metric series numbered after the
    earlier pieces'; `edge_requests` as they are."""
    by_piece = {}
    for file_index, split, row in passed:
        by_piece.setdefault((file_index, split), {table: [] for table in PASSED})[row["table"]].append(row)
    inputs, events, metrics, edges = [], [], [], []
    series_base = 0
    for file_index, (uri, name, size, _) in enumerate(files):
        pieces = [(split, by_piece[(file_index, split)]) for split in range(len(counts[file_index]))
                  if (file_index, split) in by_piece]
        merged = None
        spans = []
        for split, tables in pieces:
            if len(tables["inputs"]) != 1:
                fail(f"{name} split {split}: {len(tables['inputs'])} inputs rows where one piece has one")
            piece = tables["inputs"][0]
            spans.append((first_lines[file_index][split], piece["lines"], counts[file_index][split]))
            merged = piece if merged is None else merge_piece(merged, piece)
            # Edge requests carry no line reference: they go out as they are.
            edges.extend(tables["edge_requests"])
            for event in tables["events"]:
                event["input"] = file_index
                events.append(event)
            local_series = set()
            for point in tables["metrics"]:
                point["input"] = file_index
                local_series.add(point["series"])
                point["series"] += series_base
                metrics.append(point)
            series_base += max(local_series) + 1 if local_series else 0
        if merged is None:
            fail(f"{name}: no split of it came back from {files[file_index][0]}")
        merged["path"], merged["piece_first_line"] = name, None
        merged["size_on_disk"] = size
        gaps = [f"split {k}: Hadoop read {hadoop} lines but postmortem {read}"
                for k, (_, read, hadoop) in enumerate(spans) if read != hadoop]
        if gaps:
            note = ("the lines of its splits were not counted alike (" + "; ".join(gaps) +
                    "): line numbers after them may be off")
            merged["note"] = f"{merged['note']}; {note}" if merged.get("note") else note
        inputs.append(merged)
    return inputs, events, metrics, edges


def merge_piece(into, piece):
    """Adds a later piece's `inputs` row into `into`: counts add, first/last
    widen, the first five skipped lines kept, fields seen the union, kind and
    format the first recognised piece's."""
    if piece["lines"] == 0:
        return into
    if into["lines"] == 0:
        into, piece = piece, into

    def reading(row):
        if row["kind"] == "unknown":
            return "not recognised"
        return f"{row['kind']} {row['format']}" if row["format"] is not None else row["kind"]

    differs = (into["kind"], into["format"]) != (piece["kind"], piece["format"])
    other_reading = None
    if differs and not into["kind"] == piece["kind"] == "unknown":
        other_reading = (f"the pieces of this file were not all read alike ({reading(into)}, then "
                         f"{reading(piece)}): one run reads the whole file as its head says "
                         "(a W3C piece needs --log-format with the file's #Fields: line)")
    if into["kind"] == "unknown":
        for column in ("kind", "format", "envelope"):
            into[column] = piece[column]
        into["note"] = piece["note"] if piece["note"] is not None else into["note"]
    for column in ("lines", "parsed", "skipped", "messages", "out_of_range", "no_response", "overlap_lines"):
        into[column] += piece[column]
    examples = json.loads(into["skipped_examples"]) + json.loads(piece["skipped_examples"])
    into["skipped_examples"] = json.dumps(sorted(examples, key=lambda e: e[0])[:SKIPPED_EXAMPLES],
                                          separators=(",", ":"))
    firsts = [t for t in (into["first"], piece["first"]) if t is not None]
    lasts = [t for t in (into["last"], piece["last"]) if t is not None]
    into["first"], into["last"] = (min(firsts) if firsts else None), (max(lasts) if lasts else None)
    for column in ("compressed", "has_request_time", "has_user_agent", "field_request_time", "field_upstream",
                   "field_user_agent", "field_remote_user", "field_host"):
        into[column] = into[column] or piece[column]
    for column in ("error", "duplicate_of", "overlap_with"):
        into[column] = into[column] if into[column] is not None else piece[column]
    formats = json.loads(into["other_formats"])
    for fmt, lines in json.loads(piece["other_formats"]):
        match = [entry for entry in formats if entry[0] == fmt]
        if match:
            match[0][1] += lines
        else:
            formats.append([fmt, lines])
    into["other_formats"] = json.dumps(formats, separators=(",", ":"))
    if other_reading and "were not all read alike" not in (into.get("note") or ""):
        into["note"] = f"{into['note']}; {other_reading}" if into.get("note") else other_reading
    return into


def write_output(spark, output, text):
    """Writes `text` to a local path, or through Hadoop's FileSystem to a URI."""
    if "://" not in output:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
        return
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(output)
    stream = path.getFileSystem(spark._jsc.hadoopConfiguration()).create(path, True)
    data = text.encode("utf-8")
    for start in range(0, len(data), 1 << 20):
        stream.write(bytearray(data[start:start + (1 << 20)]))
    stream.close()


if __name__ == "__main__":
    main(sys.argv[1:])
