#!/usr/bin/env bash
# edgebert search vs faiss-cpu IndexFlatIP (exact f32 inner product) on the same unit vectors:
# single-query top-10 latency, one thread, over 100,000 and 1,000,000 vectors of 384 dimensions;
# edgebert's recall@10 against faiss's exact results; memory; and `index` throughput beside `embed`.
#
#   Benchmarks/search.sh MODEL.ebm          (a MiniLM-L6 model file: its identity labels the index)
#
# Environment: SIZES (default "100000 1000000"), QUERIES (default 200), ROUNDS (default 3: the two
# engines alternate, each row reports the median over the rounds), PYTHON (default python3).
# A venv with numpy and faiss-cpu is made once at Benchmarks/out/search-venv (PyPI).
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: Benchmarks/search.sh MODEL.ebm" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODEL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$ROOT"
OUT=$ROOT/Benchmarks/out/search
VENV=$ROOT/Benchmarks/out/search-venv
SIZES=${SIZES:-100000 1000000}
QUERIES=${QUERIES:-200}
ROUNDS=${ROUNDS:-3}
mkdir -p "$OUT"
if [[ ! -x $VENV/bin/python ]]; then
    ${PYTHON:-python3} -m venv "$VENV"
    "$VENV/bin/pip" install -q numpy==2.4.6 faiss-cpu==1.15.1
fi
PY=$VENV/bin/python
swift build -c release --product edgebert >/dev/null
EB=$ROOT/.build/release/edgebert
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), faiss-cpu $($PY -c 'import faiss; print(faiss.__version__)')"
printf "%-10s %-8s %12s %12s %10s %12s %14s %10s\n" vectors index "edgebert ms" "faiss ms" ratio recall@10 "anon RSS MiB" "file MiB"
for n in $SIZES; do
    [[ -f $OUT/base-$n.npy ]] || $PY Benchmarks/search_peer.py make "$OUT" "$n" 384 "$QUERIES" 42
    for kind in f32 int8; do
        idx=$OUT/base-$n-$kind.idx
        [[ -f $idx ]] || "$EB" index -m "$MODEL" --from-npy "$OUT/base-$n.npy" -o "$idx" --vectors "$kind" >/dev/null
        "$EB" search --index "$idx" --query-npy "$OUT/queries.npy" -k 10 --json > "$OUT/results-$n-$kind.jsonl"
        recall=$($PY Benchmarks/search_peer.py recall "$OUT/base-$n.npy" "$OUT/queries.npy" 10 "$OUT/results-$n-$kind.jsonl" | field recall_at_k)
        eb=(); fa=(); anon=0
        for _ in $(seq "$ROUNDS"); do
            j=$("$EB" bench --index "$idx" --query-npy "$OUT/queries.npy" -k 10 --json)
            eb+=("$(echo "$j" | field median_ms)"); anon=$(echo "$j" | field anon_rss_bytes)
            fa+=("$($PY Benchmarks/search_peer.py faiss "$OUT/base-$n.npy" "$OUT/queries.npy" 10 | field median_ms)")
        done
        e=$(printf "%s\n" "${eb[@]}" | median); f=$(printf "%s\n" "${fa[@]}" | median)
        printf "%-10s %-8s %12.3f %12.3f %9.2fx %12s %14.1f %10.0f\n" "$n" "$kind" "$e" "$f" "$(echo "$f / $e" | bc -l)" "$recall" \
            "$(echo "$anon / 1048576" | bc -l)" "$(echo "$(stat -c %s "$idx") / 1048576" | bc -l)"
    done
done

# index throughput beside embed on the same lines (the test corpus x 10), one thread, alternating.
lines=$OUT/lines.txt
for _ in $(seq 10); do cat Tests/Fixtures/corpus.txt; done > "$lines"
ti=(); te=()
for _ in $(seq "$ROUNDS"); do
    t0=$(date +%s.%N); "$EB" embed -m "$MODEL" -i "$lines" --threads 1 --batch 16 -o /dev/null; t1=$(date +%s.%N)
    "$EB" index -m "$MODEL" -i "$lines" --threads 1 --batch 16 -o "$OUT/lines.idx" >/dev/null; t2=$(date +%s.%N)
    te+=("$(echo "$t1 - $t0" | bc -l)"); ti+=("$(echo "$t2 - $t1" | bc -l)")
done
e=$(printf "%s\n" "${te[@]}" | median); i=$(printf "%s\n" "${ti[@]}" | median)
printf "throughput: %d lines, one thread, --batch 16: embed %.2f s, index %.2f s (index/embed %.3f)\n" "$(wc -l < "$lines")" "$e" "$i" "$(echo "$i / $e" | bc -l)"
