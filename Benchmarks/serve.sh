#!/usr/bin/env bash
# edgebert serve under load, beside llama.cpp's llama-server --embeddings on the same model as
# q8_0 GGUF (when Benchmarks/llama_server.sh has built it), in the same run, loopback only.
#
#   Benchmarks/serve.sh            (DURATION=10 seconds a point, ROUNDS=1)
#
# For each server, concurrency 1, 4 and 16 (wrk connections), requests of 1 text and of 32 texts
# to POST /v1/embeddings: requests/s, texts/s, p50 and p99 latency (wrk --latency), then the
# server's peak RSS (VmHWM). The two servers alternate per point, so load bursts from the
# machine's other tenants hit both.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/Benchmarks/out/serve
mkdir -p "$OUT"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >&2; }
swift build -c release --product edgebert >/dev/null
EB=$(swift build -c release --show-bin-path)/edgebert
MODEL_DIR=$("$ROOT/Tools/fetch_model.sh" all-MiniLM-L6-v2)
[ -f "$OUT/minilm.ebm" ] || "$EB" quantize "$MODEL_DIR" -o "$OUT/minilm.ebm" -q

# Request bodies: one short text; 32 corpus lines of at most 200 characters.
python3 - "$ROOT/Tests/Fixtures/corpus.txt" "$OUT" <<'PY'
import json, sys
corpus, out = sys.argv[1:]
lines = [l for l in open(corpus, encoding="utf-8").read().split("\n") if 20 <= len(l) <= 200 and l.isprintable()]
for name, texts in [("one", "A man is eating food."), ("batch32", lines[:32])]:
    open(f"{out}/{name}.json", "w").write(json.dumps({"model": "minilm", "input": texts, "encoding_format": "float"}))
PY
for name in one batch32; do
cat > "$OUT/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$OUT/$name.json", "r"); wrk.body = f:read("*a"); f:close()
LUA
done

start_edgebert() {
    "$EB" serve -m "$OUT/minilm.ebm" --port 18181 ${SERVE_FLAGS:-} > "$OUT/edgebert.log" 2>&1 &
    echo $! > "$OUT/edgebert.pid"
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18181/health >/dev/null 2>&1 && return; sleep 0.1; done
    echo "serve.sh: edgebert serve did not start" >&2; exit 1
}
LLAMA=0
if [ -x "$ROOT/Benchmarks/llama_server.sh" ] && pid=$("$ROOT/Benchmarks/llama_server.sh" start 18182 2>"$OUT/llama.err"); then
    LLAMA=1
    echo "$pid" > "$OUT/llama.pid"
fi
start_edgebert
trap 'kill $(cat "$OUT/edgebert.pid") 2>/dev/null || true; [ $LLAMA = 1 ] && "$ROOT/Benchmarks/llama_server.sh" stop $(cat "$OUT/llama.pid") || true' EXIT

point() {  # NAME PORT CONNECTIONS BODY TEXTS
    local threads=$(( $3 < 2 ? 1 : 2 ))
    wrk -t"$threads" -c"$3" -d"${DURATION}s" --latency -s "$OUT/$4.lua" "http://127.0.0.1:$2/v1/embeddings" > "$OUT/wrk.txt" 2>&1
    python3 - "$OUT/wrk.txt" "$1" "$3" "$4" "$5" <<'PY'
import re, sys
text, who, conns, body, texts = open(sys.argv[1]).read(), *sys.argv[2:]
def lat(p):
    m = re.search(rf"^\s*{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
    if not m: return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"| {who} | {conns} | {body} | {rps:.1f} | {rps * int(texts):.0f} | {lat(50):.2f} | {lat(99):.2f} | {errors.group(1) if errors else 0} |")
PY
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; wrk ${DURATION}s a point"
echo
echo "| server | connections | request | req/s | texts/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---:|---|---:|---:|---:|---:|---:|"
for r in $(seq "$ROUNDS"); do
    for c in 1 4 16; do
        for body in one batch32; do
            texts=$([ $body = one ] && echo 1 || echo 32)
            point edgebert 18181 "$c" "$body" "$texts"
            [ $LLAMA = 1 ] && point llama-server 18182 "$c" "$body" "$texts"
        done
    done
done
echo
echo "edgebert serve peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$(cat "$OUT/edgebert.pid")/status)"
[ $LLAMA = 1 ] && echo "llama-server peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$(cat "$OUT/llama.pid")/status)"
true
