#!/usr/bin/env bash
# `edgebert serve` against real clients, on the real model, on loopback only (run by Tools/test.sh):
# the OpenAI Python SDK (from PyPI, in a venv under .build) calls client.embeddings.create with a
# string, a list, token ids and arrays of them, as floats and as base64, and concurrently from
# threads; curl posts to /embed. Every vector must equal what `edgebert embed` prints for the same
# text, float for float. Then SIGTERM: the server must finish and exit 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
model_dir=$("$root/Tools/fetch_model.sh" all-MiniLM-L6-v2)
out=$root/.build/serve-test
mkdir -p "$out"
venv=$root/.build/serve-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import openai, numpy" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "openai==2.8.1" "numpy<3" >&2
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >&2; }
swift build -c release --product edgebert >/dev/null
eb=$(swift build -c release --show-bin-path)/edgebert
"$eb" quantize "$model_dir" -o "$out/minilm.ebm" -q

"$eb" serve -m "$out/minilm.ebm" --port 0 --api-key test-key > "$out/serve.out" 2> "$out/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "serving on" "$out/serve.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -E 's|.*http://||' "$out/serve.out" | head -1)
[ -n "$addr" ] || { echo "test-serve: the server did not start: $(cat "$out/serve.err")" >&2; exit 1; }

"$venv/bin/python" - "$eb" "$out/minilm.ebm" "$addr" <<'PY'
import base64, json, subprocess, sys, concurrent.futures as cf
import numpy as np
from openai import OpenAI, AuthenticationError, BadRequestError

eb, model, addr = sys.argv[1:]
texts = ["A man is eating food.", "", "Naïve café, 東京!", "the " * 400, "Two dogs run in a park."]

def cli(ts):
    out = subprocess.run([eb, "embed", "-m", model, "--threads", "1"], input="\n".join(ts).encode() + b"\n",
                         capture_output=True, check=True).stdout.decode().splitlines()
    return [np.array(json.loads(l)["embedding"], dtype=np.float32) for l in out]

want = cli(texts)
passed = 0
def check(name, got, expected):
    global passed
    got = [np.asarray(g, dtype=np.float32) for g in got]
    assert len(got) == len(expected), f"{name}: {len(got)} vectors, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape and np.array_equal(g, e), f"{name}: vector {i} differs (max {np.abs(g - e).max()})"
    passed += 1
    print(f"PASS: {name}")

client = OpenAI(base_url=f"http://{addr}/v1", api_key="test-key")
r = client.embeddings.create(model="minilm", input=texts[0], encoding_format="float")
check("openai string, float", [r.data[0].embedding], want[:1])
assert r.usage.prompt_tokens == 8, r.usage
r = client.embeddings.create(model="minilm", input=texts, encoding_format="float")
check("openai list, float", [d.embedding for d in r.data], want)
r = client.embeddings.create(model="minilm", input=texts, encoding_format="base64")
check("openai list, base64", [np.frombuffer(base64.b64decode(d.embedding), dtype="<f4") for d in r.data], want)
r = client.embeddings.create(model="minilm", input=texts)  # the SDK's default (base64, decoded by the SDK)
check("openai list, SDK default", [d.embedding for d in r.data], want)
ids = [json.loads(l)["ids"] for l in subprocess.run([eb, "tokenize", "-m", model], input=(texts[0] + "\n" + texts[4] + "\n").encode(),
                                                     capture_output=True, check=True).stdout.decode().splitlines()]
r = client.embeddings.create(model="minilm", input=ids[0], encoding_format="float")
check("openai token ids", [r.data[0].embedding], [want[0]])
r = client.embeddings.create(model="minilm", input=[ids[0][1:-1], ids[1]], encoding_format="float")
check("openai arrays of token ids", [d.embedding for d in r.data], [want[0], want[4]])
with cf.ThreadPoolExecutor(8) as pool:
    many = [f"sentence number {i} about {'cats' if i % 2 else 'boats'} " + "x " * (i % 13) for i in range(64)]
    exp = cli(many)
    got = list(pool.map(lambda t: client.embeddings.create(model="minilm", input=t, encoding_format="float").data[0].embedding, many))
    check("openai, 8 concurrent clients, 64 requests", got, exp)
try:
    OpenAI(base_url=f"http://{addr}/v1", api_key="wrong").embeddings.create(model="minilm", input="x")
    raise AssertionError("a wrong key was accepted")
except AuthenticationError:
    passed += 1; print("PASS: openai wrong key is 401")
try:
    client.embeddings.create(model="minilm", input="x", dimensions=128)
    raise AssertionError("dimensions 128 was accepted")
except BadRequestError as e:
    passed += 1; print("PASS: openai dimensions 128 is 400:", e.body["message"][:60])
body = json.dumps({"inputs": texts}).encode()
tei = json.loads(subprocess.run(["curl", "-sf", "-H", "Authorization: Bearer test-key", "-H", "Content-Type: application/json",
                                 "--data-binary", "@-", f"http://{addr}/embed"], input=body, capture_output=True, check=False).stdout or b"null")
assert tei is None, "TEI without truncate must refuse the 400-word text"
body = json.dumps({"inputs": texts, "truncate": True}).encode()
tei = json.loads(subprocess.run(["curl", "-sf", "-H", "Authorization: Bearer test-key", "--data-binary", "@-", f"http://{addr}/embed"],
                                input=body, capture_output=True, check=True).stdout)
check("curl /embed (TEI)", tei, want)
print(f"{passed} client checks passed")
PY

kill -TERM $pid
status=0
wait $pid || status=$?
trap - EXIT
[ "$status" -eq 0 ] || { echo "test-serve: the server exited $status after SIGTERM" >&2; exit 1; }
echo "PASS: serve exits 0 on SIGTERM"
