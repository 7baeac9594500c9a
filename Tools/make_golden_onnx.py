#!/usr/bin/env python3
"""Writes the golden files of the second real model, paraphrase-MiniLM-L3-v2 as a float ONNX export,
from ONNX Runtime running that graph. Run by hand, not in CI (needs onnxruntime, transformers, numpy):

    python3 Tools/make_golden_onnx.py MODEL.onnx MINILM_L6_DIR
      MODEL.onnx     Models/paraphrase-MiniLM-L3-v2/paraphrase-MiniLM-L3-v2.onnx (Tools/fetch_model.sh)
      MINILM_L6_DIR  the fetched all-MiniLM-L6-v2 folder: its tokenizer is bert-base-uncased's
                     WordPiece, which the ONNX export (no tokenizer of its own) was trained with

    python3 Tools/make_golden_onnx.py tiny
      exports Tests/Fixtures/tiny-bert (random weights, 2 layers) with torch.onnx.export at opsets 14
      (LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div) and 17 (LayerNormalization), eager
      attention, inputs input_ids and attention_mask, outputs the hidden states and their mean
      pooling, to Tests/Fixtures/tiny-bert-onnx/opset{14,17}.onnx.tiny (needs torch and onnx)

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

def tiny():
    import shutil, tempfile, torch
    from transformers import BertModel
    src = os.path.join(fixtures, "tiny-bert")
    tmp = tempfile.mkdtemp()
    for f in ("config.json", "vocab.txt"):
        shutil.copy(os.path.join(src, f), tmp)
    shutil.copy(os.path.join(src, "model.safetensors.tiny"), os.path.join(tmp, "model.safetensors"))
    bert = BertModel.from_pretrained(tmp, attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):  # what sentence-transformers exports: BERT, then mean pooling
        def __init__(self, m):
            super().__init__()
            self.m = m
        def forward(self, input_ids, attention_mask):
            h = self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).expand(h.size()).float()
            return h, torch.sum(h * mask, 1) / torch.clamp(mask.sum(1), min=1e-9)

    out = os.path.join(fixtures, "tiny-bert-onnx")
    os.makedirs(out, exist_ok=True)
    ids = torch.tensor([[2, 100, 200, 3]])
    for opset in (14, 17):
        path = os.path.join(out, f"opset{opset}.onnx.tiny")
        torch.onnx.export(MeanPooled(bert), (ids, torch.ones_like(ids)), path,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state", "pooled"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
                          opset_version=opset, dynamo=False)
        print("tiny:", path, os.path.getsize(path), "bytes")
    shutil.rmtree(tmp)

if __name__ == "__main__":
    if sys.argv[1:] == ["tiny"]:
        tiny()
        sys.exit(0)
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
