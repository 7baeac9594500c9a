#!/usr/bin/env bash
# EdgeBERT vs ONNX Runtime (dynamic int8, per-channel) on the same weights and the same input.
#
#   Benchmarks/compare.sh MODEL_DIR [--bert-base]
#
# MODEL_DIR is a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors), e.g.
# all-MiniLM-L6-v2. With --bert-base, a random-weight BERT-base (768 hidden, 12 layers) is written
# to Benchmarks/out/bert-base-random (vocab.txt and tokenizer_config.json taken from MODEL_DIR)
# and both engines run on that folder instead.
#
# Steps: a venv at Benchmarks/.venv (made once: torch, transformers, onnx, onnxruntime, numpy,
# safetensors from PyPI, several GB), `swift build -c release --product edgebert`,
# `edgebert quantize`, then for each seq x threads `edgebert bench --json` and
# Benchmarks/ort_bench.py (each timing in its own process), and a table of both.
#
# Environment: SEQS (default "16 128 256"), THREADS (default "1 2"), RUNS (default 50), ROUNDS
# (default 3: EdgeBERT and ORT alternate, and each row reports the median over the rounds),
# PYTHON (the interpreter that makes the venv; default python3.11, else python3), FLOAT=1 (both
# engines in fp32: `quantize --dtype f32` against ONNX Runtime's fp32 graph).
set -euo pipefail

usage() { echo "usage: Benchmarks/compare.sh MODEL_DIR [--bert-base]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
MODEL_ARG=$1
BERT_BASE=0
if [[ $# -eq 2 ]]; then
    [[ $2 == --bert-base ]] || usage
    BERT_BASE=1
fi
[[ -d $MODEL_ARG ]] || { echo "compare.sh: $MODEL_ARG is not a directory" >&2; exit 2; }
MODEL_DIR=$(cd "$MODEL_ARG" && pwd)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH=$ROOT/Benchmarks
OUT=$BENCH/out
VENV=$BENCH/.venv
SEQS=${SEQS:-16 128 256}
THREADS=${THREADS:-1 2}
RUNS=${RUNS:-50}
ROUNDS=${ROUNDS:-3}  # EdgeBERT and ORT alternate this many times per row: load bursts hit both
mkdir -p "$OUT"

say() { echo "== $*" >&2; }

# --- venv -------------------------------------------------------------------------------------
# Only PyPI is reachable, and PyPI has no CPU-only torch under its own name (the CPU wheels live
# on PyTorch's own index), so this installs plain `torch`; on Linux x86_64 that also pulls the
# CUDA runtime wheels (a few GB), which are never loaded here. The marker file is written last,
# so an interrupted install is redone on the next run.
if [[ ! -f $VENV/.ready ]]; then
    PY=${PYTHON:-}
    if [[ -z $PY ]]; then
        if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
    fi
    say "creating $VENV with $($PY --version 2>&1)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet torch transformers onnx onnxruntime numpy safetensors
    touch "$VENV/.ready"
fi
VPY=$VENV/bin/python

# --- EdgeBERT ---------------------------------------------------------------------------------
say "swift build -c release --product edgebert"
swift build -c release --product edgebert >&2
EDGEBERT=$ROOT/.build/release/edgebert

if [[ $BERT_BASE -eq 1 ]]; then
    say "writing the random BERT-base folder (and its ONNX files)"
    MODEL_DIR=$("$VPY" "$BENCH/ort_bench.py" --random-bert-base --model-dir "$MODEL_DIR" --work "$OUT" --prepare-only | tail -n 1)
    EBM=$OUT/bert-base-random.ebm
else
    EBM=$OUT/model.ebm
fi
FLOAT=${FLOAT:-0}
dtype=(); ort_float=()
if [[ $FLOAT -eq 1 ]]; then
    EBM=${EBM%.ebm}-f32.ebm; dtype=(--dtype f32); ort_float=(--float)
fi

say "edgebert quantize $MODEL_DIR -o $EBM ${dtype[*]}"
"$EDGEBERT" quantize "$MODEL_DIR" -o "$EBM" "${dtype[@]}" > "${EBM%.ebm}.quantize.log"
tail -n 1 "${EBM%.ebm}.quantize.log" >&2

say "ONNX export and int8 quantization (cached in $OUT)"
"$VPY" "$BENCH/ort_bench.py" --model-dir "$MODEL_DIR" --work "$OUT" --prepare-only >/dev/null

# --- timing -----------------------------------------------------------------------------------
# Two cores: any other busy process (a build, say) skews the 2-thread rows most. Sample the CPU
# for a second now that nothing of ours runs (the load average would still count the export).
cpu_ticks() { awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat; }
if [[ -r /proc/stat ]]; then
    read -r t0 i0 < <(cpu_ticks); sleep 1; read -r t1 i1 < <(cpu_ticks)
    busy=$(( t1 > t0 ? 100 * ((t1 - t0) - (i1 - i0)) / (t1 - t0) : 0 ))
    if (( busy > 20 )); then
        say "warning: the CPU is ${busy}% busy with other work; timings may be skewed"
    fi
fi
RESULTS=$OUT/compare-$(basename "$MODEL_DIR")$([[ $FLOAT -eq 1 ]] && echo -f32).jsonl
: > "$RESULTS"
for seq in $SEQS; do
    for t in $THREADS; do
        for round in $(seq "$ROUNDS"); do
            say "seq $seq, threads $t, round $round of $ROUNDS"
            eb=$("$EDGEBERT" bench -m "$EBM" --seq "$seq" --threads "$t" --runs "$RUNS" --json | tail -n 1)
            ort=$("$VPY" "$BENCH/ort_bench.py" --model-dir "$MODEL_DIR" --work "$OUT" \
                    --seq "$seq" --threads "$t" --runs "$RUNS" --quiet "${ort_float[@]}" | tail -n 1)
            printf '{"seq":%s,"threads":%s,"round":%s,"edgebert":%s,"ort":%s}\n' "$seq" "$t" "$round" "$eb" "$ort" >> "$RESULTS"
        done
    done
done

# --- table ------------------------------------------------------------------------------------
python3 - "$RESULTS" "$MODEL_DIR" "$RUNS" "$ROUNDS" <<'EOF'
import json, statistics, sys

path, model, runs, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
lines = [json.loads(line) for line in open(path) if line.strip()]
# one row per (seq, threads): the median over the rounds of each side's median, and the range of
# the per-round ratios
groups = {}
for r in lines:
    groups.setdefault((r["seq"], r["threads"]), []).append(r)
rows = []
for (seq, t), rs in groups.items():
    med = lambda side, key: statistics.median(r[side].get(key, 0) for r in rs)
    ratios = [r["edgebert"]["median_ms"] / r["ort"]["median_ms"] for r in rs]
    rows.append({"seq": seq, "threads": t, "ratios": ratios,
                 "edgebert": {"median_ms": med("edgebert", "median_ms"), "peak_rss_bytes": max(r["edgebert"].get("peak_rss_bytes", 0) for r in rs),
                              "kernel": rs[0]["edgebert"].get("kernel", "?")},
                 "ort": {"median_ms": med("ort", "median_ms"), "peak_rss_bytes": max(r["ort"].get("peak_rss_bytes", 0) for r in rs)}})

def mib(b):
    return f"{b / 1048576:.1f}" if b else "n/a"

kernels = sorted({r["edgebert"].get("kernel", "?") for r in rows})
print(f"model {model}; {rounds} alternating rounds of {runs} timed runs; EdgeBERT kernel {', '.join(kernels)}; "
      + ("ORT fp32 graph" if lines and lines[0]["ort"].get("engine") == "onnxruntime-fp32" else "ORT dynamic int8 per-channel"))
head = ("seq", "threads", "EdgeBERT ms", "ORT ms", "ratio EB/ORT", "per-round ratios", "EB peak RSS MiB", "ORT peak RSS MiB")
table = []
for r in rows:
    eb, ort = r["edgebert"], r["ort"]
    table.append((str(r["seq"]), str(r["threads"]),
                  f"{eb['median_ms']:.3f}", f"{ort['median_ms']:.3f}",
                  f"{eb['median_ms'] / ort['median_ms']:.2f}",
                  f"{min(r['ratios']):.2f}-{max(r['ratios']):.2f}",
                  mib(eb.get("peak_rss_bytes", 0)), mib(ort.get("peak_rss_bytes", 0))))
widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(head)]
print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
print("  ".join("-" * w for w in widths))
for row in table:
    print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
print(f"(medians over the rounds; ratio < 1: EdgeBERT faster; raw results in {path})")
EOF
