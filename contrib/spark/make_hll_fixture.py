"""Writes the Spark-made HLL sketches of tests/fixtures/spark-hll/.

    python3 contrib/spark/make_hll_fixture.py tests/fixtures/spark-hll

Spark's ``hll_sketch_agg(user_id, 12)`` (Spark >= 3.5, Apache DataSketches
Java inside) over known user ids, each sketch's bytes as a ``.bin`` file;
``tests/spark_hll.rs`` reads them with the ``datasketches`` crate (no Java),
so the sketch format ``postmortem partial`` writes in ``users_hll`` stays
one Spark reads and writes. The ids: ``user(i) = i * 0x9E3779B97F4A7C15``
(mod 2^64, as a signed BIGINT, the signed integer of the user id's bits, as
docs/partials.md stores it), for ``i`` in each file's range:

- ``ids-0-37.bin``: ``hll_sketch_agg`` over i in [0, 37) (list mode).
- ``ids-0-10000.bin``: ``hll_sketch_agg`` over i in [0, 10000) (HLL mode).
- ``union-0-6000-4000-10000.bin``: ``hll_union_agg`` of the sketches of
  [0, 6000) and [4000, 10000) (10,000 distinct).
"""

import os
import sys

from pyspark.sql import SparkSession

GOLDEN = 0x9E3779B97F4A7C15
LG_K = 12


def user(i):
    value = (i * GOLDEN) % (1 << 64)
    return value - (1 << 64) if value >= 1 << 63 else value


def main(out):
    spark = (SparkSession.builder.master("local[1]").appName("postmortem-hll-fixture")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")

    def ids(start, end):
        return spark.createDataFrame([(user(i),) for i in range(start, end)], "user_id BIGINT")

    def sketch(start, end):
        return ids(start, end).selectExpr(f"hll_sketch_agg(user_id, {LG_K}) AS sketch")

    os.makedirs(out, exist_ok=True)
    made = {
        "ids-0-37.bin": sketch(0, 37),
        "ids-0-10000.bin": sketch(0, 10000),
        "union-0-6000-4000-10000.bin": sketch(0, 6000).union(sketch(4000, 10000))
        .selectExpr("hll_union_agg(sketch) AS sketch"),
    }
    for name, frame in made.items():
        row = frame.selectExpr("sketch", "hll_sketch_estimate(sketch) AS estimate").first()
        with open(os.path.join(out, name), "wb") as file:
            file.write(bytes(row.sketch))
        print(f"{name}: {len(row.sketch)} bytes, Spark's estimate {row.estimate}, "
              f"mode byte {row.sketch[7]:#04x}")
    print(f"Spark {spark.version}")
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/spark-hll")
