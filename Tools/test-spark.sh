#!/usr/bin/env bash
# Recipe, not part of Tools/test.sh: runs the streaming `edgebert embed` as a PySpark stage in local
# mode (RDD.pipe over sc.textFile, Tools/spark_embed.py) and checks that the output is byte-identical
# to one `edgebert embed` process over the same file.
#   Tools/test-spark.sh                       ->  prints line counts, wall times, and "spark: PASS" (or FAIL, exit 1)
#   EDGEBERT=/path/to/edgebert Tools/test-spark.sh   (no build: test that binary)
# Installs what it needs: a venv with pyspark in .build/spark-venv, and OpenJDK 17 with apt only when
# `java` is missing. Work files go to .build/spark/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pyspark_version=3.5.9
work="$root/.build/spark"
venv="$root/.build/spark-venv"
mkdir -p "$work"

# --- Java and pyspark -------------------------------------------------------------------------
if ! command -v java >/dev/null 2>&1; then
  echo "test-spark: installing openjdk-17-jre-headless" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >&2
fi
if ! "$venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$pyspark_version')" 2>/dev/null; then
  echo "test-spark: installing pyspark==$pyspark_version in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyspark==$pyspark_version" >&2
fi

# --- edgebert and the model -------------------------------------------------------------------
model_dir=$("$root/Tools/fetch_model.sh" all-MiniLM-L6-v2)
# EDGEBERT=/path/to/edgebert skips the build and tests that binary instead.
if [ -n "${EDGEBERT:-}" ]; then
  edgebert=$(cd "$(dirname "$EDGEBERT")" && pwd)/$(basename "$EDGEBERT")
else
  (cd "$root" && swift build -c release >&2)
  edgebert="$(cd "$root" && swift build -c release --show-bin-path)/edgebert"
fi
model="$work/minilm.ebm"
# Quantized once; again only when this edgebert cannot read it (e.g. after a model format change).
if [ ! -f "$model" ] || ! "$edgebert" inspect "$model" >/dev/null 2>&1; then
  "$edgebert" quantize "$model_dir" -o "$model" -q
fi

# --- input: the corpus ten times (3,200 lines) ------------------------------------------------
input="$work/input.txt"
for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$root/Tests/Fixtures/corpus.txt"; done >"$input"
# Hadoop's LineRecordReader (sc.textFile) ends a line at \n, \r or \r\n, while edgebert ends one
# at \n only (dropping a trailing \r): a \r would split one text into two on the Spark side.
# The corpus has none today; if one appears, strip them from this copy so both sides see the same.
if grep -q $'\r' "$input"; then
  echo "test-spark: input has \\r; stripping them (Hadoop splits lines on \\r)" >&2
  tr -d '\r' <"$input" >"$input.tmp" && mv "$input.tmp" "$input"
fi
# Hadoop also skips a UTF-8 BOM at byte 0 of a file (a BOM later in the file, as on corpus line 86,
# is kept); edgebert keeps it. Refuse rather than compare different texts.
if [ "$(head -c 3 "$input" | od -An -tx1 | tr -d ' ')" = efbbbf ]; then
  echo "test-spark: input starts with a UTF-8 BOM, which textFile drops" >&2; exit 1
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# --- one process ------------------------------------------------------------------------------
t=$(now)
"$edgebert" embed -m "$model" --threads 1 -i "$input" >"$work/one.jsonl"
one_time=$(since "$t")

# --- Spark, local[2], 4 partitions, one edgebert process per partition ------------------------
conf="$work/conf"
mkdir -p "$conf"
cat >"$conf/log4j2.properties" <<'EOF'
rootLogger.level = error
# pyspark's gateway counts as a shell: without this Spark prints "Setting default log level to WARN"
logger.repl.name = org.apache.spark.api.python.PythonGatewayServer
logger.repl.level = error
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
EOF
rm -f "$work/spark.jsonl"
t=$(now)
SPARK_CONF_DIR="$conf" SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$venv/bin/python" \
  "$venv/bin/python" "$root/Tools/spark_embed.py" "$edgebert" "$model" "$input" "$work/spark.jsonl" 4
spark_time=$(since "$t")

# --- compare ----------------------------------------------------------------------------------
echo "input:      $(wc -l <"$input") lines"
echo "one process: $(wc -l <"$work/one.jsonl") lines, ${one_time} s"
echo "spark:       $(wc -l <"$work/spark.jsonl") lines, ${spark_time} s (with JVM start-up; pyspark $("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)'), $(java -version 2>&1 | head -1))"
if cmp "$work/one.jsonl" "$work/spark.jsonl"; then
  echo "spark: PASS"
else
  echo "spark: FAIL"
  exit 1
fi
