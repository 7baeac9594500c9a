#!/usr/bin/env python3
"""How close can 8-bit arithmetic get to float MiniLM's nearest neighbours? An emulation.

    Benchmarks/int8_bound.py [HF_DIR]      (default Models/all-MiniLM-L6-v2; needs torch and
                                            sentence-transformers, e.g. /work/venv)

Runs sentence-transformers' float MiniLM on the test corpus with every dense layer's weights
and/or inputs rounded in torch (fake quantisation), then scores each variant like
Benchmarks/accuracy.py against Tests/Fixtures/minilm/embeddings.f32: cosine mean, min and the
nearest-neighbour agreement (top-1 over the corpus; 320 texts, so one text is 0.003).

Roundings:
  weights  symmetric int8 per output channel (wN: N bits), or per block of G input channels
           (`g32`: llama.cpp's q8_0 blocks); `gptq`: rounded column by column with error feedback
           on the inputs (H = X^T X, dampening 0.1) as `edgebert quantize` does, but calibrated
           on the corpus itself (an optimistic bound: the converter uses its own texts).
  inputs   asymmetric per row (aN: N bits, 2^N levels), or per block of G input channels; the
           widest calibration channels (1, 1, 1, 4 for attention input, context, FFN input,
           FFN hidden; EdgeBERT's default) kept in float.
Attention (softmax, the two products) stays float throughout: these are lower bounds on the
error of any engine that rounds its dense layers so.
"""
import sys
import numpy as np
import torch
import torch.nn as nn
from sentence_transformers import SentenceTransformer

torch.set_num_threads(2)
root = __file__.rsplit("/Benchmarks/", 1)[0] if "/Benchmarks/" in __file__ else "."
model = SentenceTransformer(sys.argv[1] if len(sys.argv) > 1 else f"{root}/Models/all-MiniLM-L6-v2", device="cpu")
texts = [line.rstrip("\n") for line in open(f"{root}/Tests/Fixtures/corpus.txt", encoding="utf-8")]
ref = np.fromfile(f"{root}/Tests/Fixtures/minilm/embeddings.f32", dtype="<f4").astype(np.float64).reshape(len(texts), -1)
ref /= np.linalg.norm(ref, axis=1, keepdims=True)


def similarities(v):
    s = v @ v.T
    np.fill_diagonal(s, -np.inf)
    return s


ref_sims = similarities(ref)


def score(e):
    """mean, min cosine and nearest-neighbour agreement as Benchmarks/accuracy.py computes them."""
    e = e.astype(np.float64)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    cos = (e * ref).sum(1)
    picked = ref_sims[np.arange(len(e)), similarities(e).argmax(1)]
    agree = picked >= ref_sims.max(1) - 1e-5
    return f"mean {cos.mean():.5f}  min {cos.min():.5f}  nn {agree.mean():.4f} ({(~agree).sum()} differ)"


def round_inputs(x, bits, group, outliers):
    """x [..., k] -> x rounded asymmetrically per row (or per block of `group`), outliers exact."""
    k = x.shape[-1]
    kept = x[..., outliers].clone()
    x = x.clone()
    x[..., outliers] = 0  # out of the range too
    g = group or k
    blocks = x.reshape(-1, k // g, g)
    lo, hi = blocks.amin(-1, keepdim=True), blocks.amax(-1, keepdim=True)
    levels = 2 ** bits - 1
    step = torch.where(hi > lo, (hi - lo) / levels, torch.ones_like(lo))
    y = (torch.round((blocks - lo) / step).clamp(0, levels) * step + lo).reshape(x.shape)
    y[..., outliers] = kept
    return y


def round_weights(w, bits=8, group=None, hessian=None):
    """w [n, k] -> symmetric per output channel (or per block of `group`), optionally GPTQ."""
    levels = 2 ** (bits - 1) - 1
    n, k = w.shape
    g = group or k
    if hessian is None:
        blocks = w.reshape(n, k // g, g)
        scale = blocks.abs().amax(-1, keepdim=True) / levels
        return (torch.round(blocks / scale).clamp(-levels, levels) * scale).reshape(n, k)
    w = w.double().clone()
    h = hessian.clone()
    h += 0.1 * torch.diag(h).mean() * torch.eye(k, dtype=h.dtype)
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    out = torch.zeros_like(w)
    for j in range(k):
        if j % g == 0:
            scale = w[:, j:j + g].abs().amax(1, keepdim=True) / levels
        q = torch.round(w[:, j:j + 1] / scale).clamp(-levels, levels) * scale
        out[:, j:j + 1] = q
        w[:, j:] -= ((w[:, j:j + 1] - q) / hinv[j, j]) @ hinv[j:j + 1, j:]
    return out.float()


linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
float_weights = {name: m.weight.data.clone() for name, m in linears}
OUTLIERS = {"qkv": 1, "context": 1, "ffn_input": 1, "ffn_hidden": 4}


def kind(name):
    if "attention.self" in name:
        return "qkv"
    if "attention.output" in name:
        return "context"
    return "ffn_input" if "intermediate" in name else "ffn_hidden"


# Calibration statistics on the corpus: each input's widest channels and H = X^T X.
absmax, hessians = {}, {}


def observe(name):
    def hook(_, inputs):
        x = inputs[0].detach().reshape(-1, inputs[0].shape[-1])
        a = x.abs().amax(0)
        absmax[name] = torch.maximum(absmax[name], a) if name in absmax else a
        hessians[name] = hessians.get(name, 0) + x.double().T @ x.double()
    return hook


handles = [m.register_forward_pre_hook(observe(name)) for name, m in linears]
model.encode(texts, batch_size=32)
for h in handles:
    h.remove()
gptq_cache = {}


def run(label, wbits=None, wgroup=None, gptq=False, abits=None, agroup=None):
    handles = []
    for name, m in linears:
        w = float_weights[name]
        if wbits and gptq:
            key = (name, wbits, wgroup)
            if key not in gptq_cache:
                gptq_cache[key] = round_weights(w, wbits, wgroup, hessians[name])
            w = gptq_cache[key]
        elif wbits:
            w = round_weights(w, wbits, wgroup)
        m.weight.data = w.clone()
        if abits:
            outliers = absmax[name].topk(OUTLIERS[kind(name)]).indices

            def pre(_, inputs, outliers=outliers):
                return (round_inputs(inputs[0], abits, agroup, outliers),)
            handles.append(m.register_forward_pre_hook(pre))
    e = model.encode(texts, batch_size=32, convert_to_numpy=True)
    for h in handles:
        h.remove()
    for name, m in linears:
        m.weight.data = float_weights[name].clone()
    print(f"{label:58s} {score(e)}", flush=True)


run("float (this emulation's own float)")
run("weights w8 per channel", wbits=8)
run("weights w8 per channel, gptq", wbits=8, gptq=True)
run("weights w8 g32 (q8_0 blocks), gptq", wbits=8, wgroup=32, gptq=True)
run("weights w10 per channel", wbits=10)
run("inputs a8 per row", abits=8)
run("inputs a8 g32", abits=8, agroup=32)
run("inputs a10 per row", abits=10)
run("w8 + a8 per channel/row, gptq (EdgeBERT without smoothing)", wbits=8, gptq=True, abits=8)
run("w8 g32 + a8 g32, gptq (q8_0 blocks on both sides)", wbits=8, wgroup=32, gptq=True, abits=8, agroup=32)
run("w8 g32 gptq + a16 per row", wbits=8, wgroup=32, gptq=True, abits=16)
run("w10 + a10 per channel/row", wbits=10, abits=10)
