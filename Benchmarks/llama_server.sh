#!/usr/bin/env bash
# llama.cpp's `llama-server --embeddings` as a benchmark peer for `edgebert serve`, on the same
# model (all-MiniLM-L6-v2) quantised to q8_0 GGUF. Everything is cached under
# Benchmarks/out/llama/ (git-ignored); a step whose output is already there is skipped.
#
#   Benchmarks/llama_server.sh [setup]      llama.cpp source from the PyPI sdist of llama-cpp-python,
#                                           llama-server (CPU, Release, no network features),
#                                           the q8_0 GGUF via llama.cpp's convert_hf_to_gguf.py;
#                                           prints the binary and the GGUF paths
#   Benchmarks/llama_server.sh start PORT   start llama-server on 127.0.0.1:PORT in the background,
#                                           wait until GET /health is ok, print its PID
#   Benchmarks/llama_server.sh stop PID     stop a server started by `start`
#   Benchmarks/llama_server.sh check [PORT] start, compare /v1/embeddings with `edgebert embed`
#                                           (cosine) and a request of 32 texts, stop
#   Benchmarks/llama_server.sh accuracy [PORT]
#                                           start, embed Tests/Fixtures/corpus.txt from Hugging
#                                           Face's token ids (so that only the arithmetic differs,
#                                           not the tokenizer), stop, and score the vectors against
#                                           sentence-transformers' with Benchmarks/accuracy.py
#                                           (mean, min cosine, nearest-neighbour agreement)
#
# Only PyPI and Debian are used: pip (the sdist, the converter's Python packages) and apt-get
# (cmake, build-essential when missing). The llama.cpp build fetches nothing (no curl, no
# OpenSSL, no prebuilt web UI).
#
# Environment: LLAMA_CPP_PYTHON_VERSION (0.3.36), LLAMA_JOBS (build jobs, 2), LLAMA_THREADS (2),
# LLAMA_SERVER_ARGS (extra server flags), MODEL_NAME (all-MiniLM-L6-v2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/Benchmarks/out/llama"
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
jobs=${LLAMA_JOBS:-2}
threads=${LLAMA_THREADS:-2}
model_name=${MODEL_NAME:-all-MiniLM-L6-v2}

src="$out/src-$version"                 # the unpacked sdist
llama="$src/vendor/llama.cpp"
build="$out/build-$version"
server="$build/bin/llama-server"
venv="$out/venv"
gguf="$out/$model_name-q8_0.gguf"

log() { echo "llama_server: $*" >&2; }

need_apt() {  # need_apt COMMAND PACKAGE...
    command -v "$1" >/dev/null 2>&1 && return 0
    shift
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "$@" >&2
}

fetch_source() {
    [ -f "$llama/CMakeLists.txt" ] && return 0
    mkdir -p "$out/sdist"
    local tarball="$out/sdist/llama_cpp_python-$version.tar.gz"
    if [ ! -f "$tarball" ]; then
        log "downloading the llama-cpp-python==$version sdist from PyPI"
        # --no-binary for this package only: its build dependencies (scikit-build-core, ninja)
        # come as wheels for pip's metadata step; with cmake on PATH none is built.
        python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python \
            "llama-cpp-python==$version" -d "$out/sdist" >&2
    fi
    rm -rf "$src.partial"
    mkdir -p "$src.partial"
    tar -xzf "$tarball" -C "$src.partial" --strip-components=1
    [ -f "$src.partial/vendor/llama.cpp/CMakeLists.txt" ] || { log "no vendor/llama.cpp in the sdist"; exit 1; }
    rm -rf "$src"
    mv "$src.partial" "$src"
}

# The llama.cpp commit llama-cpp-python vendors, from its changelog (the sdist has no git data).
llama_commit() {
    awk -v v="## [$version]" '$0 == v {f=1; next} f && /^## \[/ {exit} f' "$src/CHANGELOG.md" \
        | grep -o 'llama.cpp@[0-9a-f]*' | head -1 | cut -d@ -f2
}

build_server() {
    [ -x "$server" ] && return 0
    need_apt cmake cmake
    need_apt g++ build-essential
    local commit; commit=$(llama_commit || true)
    log "building llama-server (llama.cpp ${commit:-unknown}) with -j$jobs"
    local t0=$SECONDS
    cmake -S "$llama" -B "$build" \
        -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_SHARED_LIBS=OFF \
        -DGGML_NATIVE=ON \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
        -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
        -DLLAMA_BUILD_COMMIT="${commit:-unknown}" \
        >"$out/cmake-configure.log" 2>&1 || { tail -30 "$out/cmake-configure.log" >&2; exit 1; }
    cmake --build "$build" --config Release --target llama-server -j "$jobs" \
        >"$out/cmake-build.log" 2>&1 || { tail -30 "$out/cmake-build.log" >&2; exit 1; }
    log "built $server in $((SECONDS - t0)) s"
}

# The converter imports torch, transformers (AutoConfig, AutoTokenizer), numpy and the gguf
# package of the source tree (gguf-py, put on sys.path by the script itself: it needs numpy, tqdm,
# pyyaml, requests). Pins follow the tree's requirements-convert_legacy_llama.txt, except torch:
# a CPU wheel the machine already offers (pip's find-links) is preferred to PyPI's CUDA build.
make_venv() {
    local stamp="$venv/.llama-convert-$version"
    [ -f "$stamp" ] && return 0
    local req="$llama/requirements/requirements-convert_legacy_llama.txt"
    local pins; pins=$(grep -E '^(numpy|transformers)[=~<>]' "$req" | tr '\n' ' ')
    local torch_spec=torch links cpu_wheel
    for links in ${PIP_FIND_LINKS:-} $(python3 -m pip config get global.find-links 2>/dev/null || true); do
        cpu_wheel=$(ls "$links"/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -1 || true)
        [ -n "$cpu_wheel" ] && { torch_spec="$cpu_wheel"; break; }
    done
    [ "$torch_spec" = torch ] && log "no local CPU torch wheel: installing PyPI's torch (large)"
    log "creating $venv: $torch_spec $pins tqdm pyyaml requests"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "$torch_spec" $pins tqdm pyyaml requests >&2
    touch "$stamp"
}

convert_model() {
    [ -s "$gguf" ] && return 0
    local hf_dir; hf_dir=$("$root/Tools/fetch_model.sh" "$model_name")
    make_venv
    log "converting $hf_dir to $gguf (q8_0)"
    local t0=$SECONDS
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$venv/bin/python" "$llama/convert_hf_to_gguf.py" \
        "$hf_dir" --outtype q8_0 --outfile "$gguf.partial" >"$out/convert.log" 2>&1 \
        || { tail -30 "$out/convert.log" >&2; rm -f "$gguf.partial"; exit 1; }
    mv "$gguf.partial" "$gguf"
    log "converted in $((SECONDS - t0)) s: $(du -h "$gguf" | cut -f1)"
}

setup() {
    mkdir -p "$out"
    fetch_source
    build_server
    convert_model
}

# Batches of 32 texts: each input of a request is one sequence on its own slot, and a non-causal
# (BERT) sequence must fit whole in one ubatch. 32 slots of 256 tokens (the context is split
# evenly and each slot is padded up to a multiple of 256; 256 is also the model's max length in
# edgebert) and a 4096-token batch/ubatch put 32 texts of up to 128 tokens through one forward
# pass. An input longer than 256 tokens is refused (HTTP 400), not truncated.
server_args() {
    echo -m "$gguf" --embeddings --pooling mean --host 127.0.0.1 --port "$1" \
        -t "$threads" -tb "$threads" -c 8192 -b 4096 -ub 4096 --parallel 32 --no-ui \
        ${LLAMA_SERVER_ARGS:-}
}

start() {
    local port=$1
    setup
    local logf="$out/server-$port.log"
    # shellcheck disable=SC2046
    setsid "$server" $(server_args "$port") >"$logf" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "llama-server exited; see $logf"; tail -20 "$logf" >&2; exit 1
        fi
        if curl -sf --max-time 2 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"ok"'; then
            echo "$pid"; return 0
        fi
        sleep 0.2
    done
    log "llama-server not healthy after 60 s; see $logf"
    kill "$pid" 2>/dev/null || true
    exit 1
}

stop() {
    local pid=$1
    if ! kill -0 "$pid" 2>/dev/null; then log "no process $pid"; return 0; fi
    local exe; exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    [ "${exe##*/}" = llama-server ] || { log "$pid is not llama-server ($exe)"; exit 1; }
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

check() {
    local port=${1:-18089}
    setup
    local edgebert="$root/.build/release/edgebert"
    if [ ! -x "$edgebert" ]; then
        (cd "$root" && swift build -c release --product edgebert -j 2 >&2)
    fi
    local ebm="$out/minilm.ebm"
    local hf_dir; hf_dir=$("$root/Tools/fetch_model.sh" "$model_name")
    [ -s "$ebm" ] || "$edgebert" quantize "$hf_dir" -o "$ebm" -q >&2
    [ -s "$out/minilm-f32.ebm" ] || "$edgebert" quantize "$hf_dir" -o "$out/minilm-f32.ebm" --dtype f32 -q >&2
    local pid; pid=$(start "$port")
    trap 'stop '"$pid" EXIT
    log "llama-server pid $pid on 127.0.0.1:$port: $(curl -s "http://127.0.0.1:$port/health")"
    "$edgebert" embed -m "$ebm" "A man is eating food." "Two dogs run in a park." >"$out/edgebert.jsonl"
    "$edgebert" embed -m "$out/minilm-f32.ebm" "A man is eating food." "Two dogs run in a park." >"$out/edgebert-f32.jsonl"
    curl -sf "http://127.0.0.1:$port/v1/embeddings" -H 'Content-Type: application/json' \
        -d '{"input": ["A man is eating food.", "Two dogs run in a park."]}' >"$out/llama-2.json"
    python3 - "$out/edgebert.jsonl" "$out/llama-2.json" "$port" "$out/edgebert-f32.jsonl" <<'PY'
import json, math, sys, urllib.request
ours = [json.loads(l)["embedding"] for l in open(sys.argv[1]) if l.strip()]
f32 = [json.loads(l)["embedding"] for l in open(sys.argv[4]) if l.strip()]
theirs = [d["embedding"] for d in sorted(json.load(open(sys.argv[2]))["data"], key=lambda d: d["index"])]
norm = lambda v: math.sqrt(sum(x * x for x in v))
cosine = lambda a, b: sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b))
for i, (a, b, f) in enumerate(zip(ours, theirs, f32)):
    print(f"text {i}: dim {len(a)}/{len(b)}  |edgebert| {norm(a):.4f}  |llama| {norm(b):.4f}  "
          f"cosine llama~edgebert-int8 {cosine(a, b):.5f}  llama~f32 {cosine(b, f):.5f}  edgebert-int8~f32 {cosine(a, f):.5f}")
# 32 texts of about 128 tokens each ("word" is one token; [CLS] and [SEP] make 128)
texts = [" ".join(["word"] * (126 - i % 3)) if i % 2 else f"sentence number {i} about dogs" for i in range(32)]
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[3]}/v1/embeddings",
                             json.dumps({"input": texts}).encode(), {"Content-Type": "application/json"})
resp = json.load(urllib.request.urlopen(req, timeout=120))
print(f"batch of 32: {len(resp['data'])} embeddings, usage {resp.get('usage')}")
PY
}

accuracy() {
    local port=${1:-18089}
    setup
    local hf_dir; hf_dir=$("$root/Tools/fetch_model.sh" "$model_name")
    local pid; pid=$(start "$port")
    trap 'stop '"$pid" EXIT
    # Hugging Face's ids, truncated to the model's 256 tokens as sentence-transformers does
    # (llama-server refuses a longer input rather than truncating it).
    "$venv/bin/python" - "$hf_dir" "$root/Tests/Fixtures/corpus.txt" "$port" "$out/corpus-q8_0.f32" <<'PY'
import json, sys, urllib.request
import numpy as np
from transformers import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])
vectors = []
for line in open(sys.argv[2], encoding="utf-8"):
    ids = tokenizer(line.rstrip("\n"), truncation=True, max_length=256)["input_ids"]
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[3]}/v1/embeddings",
                                 json.dumps({"input": [ids]}).encode(), {"Content-Type": "application/json"})
    vectors.append(json.load(urllib.request.urlopen(req, timeout=120))["data"][0]["embedding"])
np.array(vectors, dtype="<f4").tofile(sys.argv[4])
PY
    stop "$pid"; trap - EXIT
    (cd "$root" && "$venv/bin/python" Benchmarks/accuracy.py "$out/corpus-q8_0.f32")
}

case "${1:-setup}" in
    setup) setup; echo "$server"; echo "$gguf" ;;
    start) [ $# -eq 2 ] || { echo "usage: $0 start PORT" >&2; exit 2; }; start "$2" ;;
    stop) [ $# -eq 2 ] || { echo "usage: $0 stop PID" >&2; exit 2; }; stop "$2" ;;
    check) check "${2:-}" ;;
    accuracy) accuracy "${2:-}" ;;
    *) echo "usage: $0 [setup] | start PORT | stop PID | check [PORT] | accuracy [PORT]" >&2; exit 2 ;;
esac
