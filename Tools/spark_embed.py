#!/usr/bin/env python3
"""Runs the streaming `edgebert embed` as a PySpark stage (local mode, RDD.pipe) and writes the
collected JSONL lines, in input order, to OUTPUT. Driven by Tools/test-spark.sh.
    spark_embed.py EDGEBERT MODEL INPUT OUTPUT [PARTITIONS]
Notes on RDD.pipe (pyspark 3.5):
- Each partition gets its own `edgebert embed` process; a thread writes every element as
  str(elem).rstrip("\\n") + "\\n" (UTF-8) to its stdin, then closes it; stdout is read with
  readline() and each line's trailing "\\n" is stripped. stderr goes to the worker's stderr.
- The command is split with shlex (quote paths) and is NOT run through a shell.
- env defaults to an EMPTY environment (not the worker's), so the binary needs an absolute path;
  we pass the driver's environment so EDGEBERT_* settings match the one-process reference.
- checkCode defaults to False: a failing edgebert would silently give fewer lines. We set it.
- An empty partition still starts edgebert, with empty stdin. Hadoop gives a split no record
  when no line starts inside it (more partitions than lines, or one very long line). edgebert at
  commit 3481263 exits 1 there ("stdin: no input texts"), which fails the job under checkCode;
  later builds print nothing and exit 0, as a pipe stage should.
- collect() returns partitions in order and each partition's lines in order, so the output is in
  input order.
"""
import os, shlex, sys, time

from pyspark import SparkConf, SparkContext


def main() -> int:
    edgebert, model, input_path, output_path = sys.argv[1:5]
    partitions = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    conf = (SparkConf().setMaster("local[2]").setAppName("edgebert-embed")
            .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false"))
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    try:
        t0 = time.monotonic()
        lines = sc.textFile("file://" + os.path.abspath(input_path), minPartitions=partitions)
        command = " ".join(shlex.quote(a) for a in
                           [os.path.abspath(edgebert), "embed", "-m", os.path.abspath(model), "--threads", "1"])
        out = lines.pipe(command, env=dict(os.environ), checkCode=True).collect()
        elapsed = time.monotonic() - t0
        tmp = output_path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for line in out:
                f.write(line + "\n")
        os.replace(tmp, output_path)
        print(f"spark_embed: {lines.getNumPartitions()} partitions, {len(out)} lines, "
              f"job {elapsed:.2f} s (without JVM start-up)", file=sys.stderr)
    finally:
        sc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
