#!/usr/bin/env python3
"""Writes Tests/Fixtures/variants/<name>/: small random-weight BERT models saved by transformers,
one per architecture variant EdgeBERT must convert exactly (activations, head sizes, position
counts, `bert.` key prefix, cased vocabulary), with transformers' last hidden states.
Run by hand (needs torch + transformers):  python3 Tools/make_variants.py
"""
import json, os, shutil
import torch
from transformers import AutoTokenizer, BertConfig, BertModel, BertForMaskedLM

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "Tests", "Fixtures")
corpus = open(os.path.join(fixtures, "corpus.txt"), encoding="utf-8").read().split("\n")[:-1]
texts = corpus[20:36]  # sentences: prose, questions, numbers, URLs, accents

VARIANTS = [
    # name, vocab source, lowercase, config overrides, prefixed keys (saved as BertForMaskedLM)
    ("gelu-new-prefixed", "tokenizer/vocab-uncased.txt", True,
     dict(hidden_size=48, num_attention_heads=6, num_hidden_layers=3, intermediate_size=80,
          max_position_embeddings=128, hidden_act="gelu_new"), True),
    ("relu-cased-512", "tokenizer/vocab-cased.txt", False,
     dict(hidden_size=64, num_attention_heads=2, num_hidden_layers=2, intermediate_size=96,
          max_position_embeddings=512, hidden_act="relu"), False),
    ("tanh-one-head", "tokenizer/vocab-uncased.txt", True,
     dict(hidden_size=32, num_attention_heads=1, num_hidden_layers=4, intermediate_size=48,
          max_position_embeddings=128, hidden_act="gelu_pytorch_tanh"), False),
]

def main():
    root = os.path.join(fixtures, "variants")
    shutil.rmtree(root, ignore_errors=True)
    for seed, (name, vocab_src, lower, overrides, prefixed) in enumerate(VARIANTS):
        out = os.path.join(root, name)
        os.makedirs(out)
        vocab = open(os.path.join(fixtures, vocab_src), encoding="utf-8").read().split("\n")
        vocab = [v for v in vocab if v != ""][:1500]
        with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(vocab) + "\n")
        json.dump({"do_lower_case": lower, "tokenize_chinese_chars": True, "tokenizer_class": "BertTokenizer",
                   "model_max_length": overrides["max_position_embeddings"]},
                  open(os.path.join(out, "tokenizer_config.json"), "w"))
        torch.manual_seed(100 + seed)
        cfg = BertConfig(vocab_size=len(vocab), type_vocab_size=2, **overrides)
        model = (BertForMaskedLM(cfg) if prefixed else BertModel(cfg, add_pooling_layer=False)).eval()
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "LayerNorm" in pname:
                    p.add_(torch.randn_like(p) * 0.1)
        model.save_pretrained(out, safe_serialization=True)
        os.rename(os.path.join(out, "model.safetensors"), os.path.join(out, "model.safetensors.tiny"))
        bert = model.bert if prefixed else model
        tok = AutoTokenizer.from_pretrained(out)
        with open(os.path.join(out, "ids.jsonl"), "w") as fi, open(os.path.join(out, "last_hidden.f32"), "wb") as fh:
            for t in texts:
                enc = tok(t, truncation=True, max_length=overrides["max_position_embeddings"], return_tensors="pt")
                with torch.no_grad():
                    h = bert(**enc).last_hidden_state[0].numpy().astype("<f4")  # [tokens][hidden]
                fi.write(json.dumps({"ids": enc["input_ids"][0].tolist()}) + "\n")
                fh.write(h.tobytes())
        with open(os.path.join(out, "texts.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        print(name, "written")

if __name__ == "__main__":
    main()
