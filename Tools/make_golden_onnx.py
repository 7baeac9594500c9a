#!/usr/bin/env python3
"""Writes the golden files of the second real model, paraphrase-MiniLM-L3-v2 as a float ONNX export,
from ONNX Runtime running that graph. Run by hand, not in CI (needs onnxruntime, transformers, numpy):

    python3 Tools/make_golden_onnx.py MODEL.onnx MINILM_L6_DIR
      MODEL.onnx     Models/paraphrase-MiniLM-L3-v2/paraphrase-MiniLM-L3-v2.onnx (Tools/fetch_model.sh)
      MINILM_L6_DIR  the fetched all-MiniLM-L6-v2 folder: its tokenizer is bert-base-uncased's
                     WordPiece, which the ONNX export (no tokenizer of its own) was trained with

Outputs, under Tests/Fixtures/minilm-l3/:
  ids.jsonl        token ids per corpus line (max_length 128, truncated: sentence-transformers'
                   max_seq_length for this model)
  embeddings.f32   [texts][384] little-endian float32: the graph's own mean-pooled output `461`,
                   one text per run (no padding), not normalised (the model has no Normalize module)
"""
import json, os, sys
import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "Tests", "Fixtures")
MAX_LENGTH = 128

def main(model_path, tokenizer_dir):
    corpus = open(os.path.join(fixtures, "corpus.txt"), encoding="utf-8").read().split("\n")[:-1]
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the graph as written
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    out = os.path.join(fixtures, "minilm-l3")
    os.makedirs(out, exist_ok=True)
    rows = []
    with open(os.path.join(out, "ids.jsonl"), "w", encoding="utf-8") as f:
        for t in corpus:
            ids = tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"]
            f.write(json.dumps({"ids": ids}) + "\n")
            feed = {"input_ids": np.array([ids], dtype=np.int64),
                    "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
            feed = {k: v for k, v in feed.items() if k in names}
            (pooled,) = sess.run(["461"], feed)
            rows.append(pooled[0].astype("<f4"))
    emb = np.stack(rows)
    emb.tofile(os.path.join(out, "embeddings.f32"))
    print("minilm-l3:", emb.shape, "inputs", names, "onnxruntime", ort.__version__)

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
