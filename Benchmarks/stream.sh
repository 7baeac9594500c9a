#!/usr/bin/env bash
# Streaming embed: memory against input length, time to the first record of a co-process, and
# corpus throughput, optionally beside another edgebert binary (the build before a change).
#
#   Benchmarks/stream.sh [OTHER_EDGEBERT]
#
# Steps: build in release, quantize all-MiniLM-L6-v2 (Tools/fetch_model.sh) to Benchmarks/out,
# write 2,000 and 200,000 lines (Tests/Fixtures/corpus.txt repeated) and report the peak RSS of
# `embed --threads 1` over each (GNU time's %M), the wall time of 200,000 lines, and the time from
# writing one line to reading its record while stdin stays open. With OTHER_EDGEBERT, the corpus
# throughput of both binaries, alternating, ROUNDS (default 3) times over the 2,000 lines.
# The model file format changed in v0.2 (v2 header): OTHER_EDGEBERT gets a model it can read,
# made with its own quantize.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/Benchmarks/out/stream
mkdir -p "$OUT"
swift build -c release --product edgebert >/dev/null
EB=$(swift build -c release --show-bin-path)/edgebert
MODEL_DIR=$("$ROOT/Tools/fetch_model.sh" all-MiniLM-L6-v2)
[ -f "$OUT/minilm.ebm" ] || "$EB" quantize "$MODEL_DIR" -o "$OUT/minilm.ebm" -q
ROUNDS=${ROUNDS:-3}

make_lines() {  # N FILE
    [ -f "$2" ] && [ "$(wc -l < "$2")" -eq "$1" ] && return
    python3 - "$1" "$2" "$ROOT/Tests/Fixtures/corpus.txt" <<'PY'
import sys
n, out, corpus = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lines = open(corpus, encoding="utf-8").read().split("\n")[:-1]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        f.write(lines[i % len(lines)] + "\n")
PY
}
make_lines 2000 "$OUT/2k.txt"
make_lines 200000 "$OUT/200k.txt"

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; kernel $("$EB" bench -m "$OUT/minilm.ebm" --seq 16 --runs 1 --json | sed -E 's/.*"kernel":"([^"]+)".*/\1/')"
for n in 2k 200k; do
    /usr/bin/time -f "%M %e" -o "$OUT/time.txt" "$EB" embed -m "$OUT/minilm.ebm" --threads 1 -i "$OUT/$n.txt" -o "$OUT/$n.jsonl"
    read -r kb secs < "$OUT/time.txt"
    printf "embed --threads 1, %-5s lines: peak RSS %6.1f MiB, %7.2f s, %s records\n" "$n" "$(echo "$kb / 1024" | bc -l)" "$secs" "$(wc -l < "$OUT/$n.jsonl")"
done

python3 - "$EB" "$OUT/minilm.ebm" <<'PY'
import subprocess, sys, time
eb, model = sys.argv[1:]
p = subprocess.Popen([eb, "embed", "-m", model, "--threads", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
times = []
for i in range(20):
    t = time.perf_counter()
    p.stdin.write(b"A man is eating food.\n"); p.stdin.flush()
    line = p.stdout.readline()
    times.append((time.perf_counter() - t) * 1000)
    assert line.startswith(b'{"embedding":[')
p.stdin.close(); p.wait()
times.sort()
print(f"co-process: line in -> record out while stdin stays open: median {times[10]:.2f} ms, max {times[-1]:.2f} ms (20 lines)")
PY

if [ $# -ge 1 ]; then
    OTHER=$1
    [ -f "$OUT/other.ebm" ] || "$OTHER" quantize "$MODEL_DIR" -o "$OUT/other.ebm" -q
    for r in $(seq "$ROUNDS"); do
        for who in this other; do
            if [ $who = this ]; then bin=$EB; m=$OUT/minilm.ebm; else bin=$OTHER; m=$OUT/other.ebm; fi
            /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$bin" embed -m "$m" --threads 1 -i "$OUT/2k.txt" -o "$OUT/$who.jsonl"
            read -r secs kb < "$OUT/time.txt"
            printf "round %d %-5s 2,000 lines: %6.2f s (%5.0f texts/s), peak RSS %5.1f MiB\n" "$r" "$who" "$secs" "$(echo "2000 / $secs" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
        done
    done
fi
