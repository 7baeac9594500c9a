#!/usr/bin/env python3
"""Fits the table GELU of the AVX-512 fused GELU->quantise pass (Sources/CKernels/ops_vector.c):
Phi(x) (the normal CDF, so GELU(x) = x Phi(x)) as one cubic in x per segment, 32 segments of
width 10/32 over [-5, 5), each a least-squares fit on Chebyshev nodes with Lawson reweighting
toward the largest error. The kernel clamps x to [-5, 5 - 1/32] for Phi only, picks the segment
with vpermt2ps and evaluates c0 + x (c1 + x (c2 + x c3)) with fused multiply-adds. Prints the C
tables and the error of x Phi(x) against erf GELU, in float64 and evaluated in float32 as the
kernel does. Needs numpy only.
    python3 Tools/fit_gelu_table.py
"""
from math import erf, sqrt

import numpy as np

SEG, LO, HI = 32, -5.0, 5.0
W = (HI - LO) / SEG


def phi(v):
    return 0.5 * (1.0 + erf(v / sqrt(2.0)))


coef = np.zeros((SEG, 4))
for s in range(SEG):
    a, b = LO + s * W, LO + (s + 1) * W
    nodes = (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (np.arange(64) + 0.5) / 64)
    f = np.array([phi(v) for v in nodes])
    A = np.stack([nodes**i for i in range(4)], 1)
    w = np.ones_like(nodes)
    for _ in range(20):
        c, *_ = np.linalg.lstsq(A * w[:, None], f * w, rcond=None)
        e = A @ c - f
        w = w * (1 + 3 * np.abs(e) / np.abs(e).max())
        w /= w.max()
    coef[s] = c
c32 = coef.astype(np.float32)

x = np.linspace(-12, 12, 400001)
exact = np.array([v * phi(v) for v in x])
x32 = x.astype(np.float32)
xc = np.minimum(np.maximum(x32, np.float32(LO)), np.float32(HI - 1 / 32))  # index stays < 32
idx = (xc.astype(np.float64) * np.float32(1 / W) + np.float32(-LO / W)).astype(np.float32)  # one rounding: fmaf
idx = np.trunc(idx).astype(np.int64)
p = c32[idx, 3]
for d in (2, 1, 0):
    p = (p * xc + c32[idx, d]).astype(np.float32)
g32 = (x32 * p).astype(np.float32)
err = np.abs(g32.astype(np.float64) - exact) / np.maximum(1, np.abs(x))
e64 = max(np.abs(np.polyval(coef[s][::-1], xs) - np.array([phi(v) for v in xs])).max()
          for s in range(SEG) for xs in [np.linspace(LO + s * W, LO + (s + 1) * W, 201)])
for d in range(4):
    print(f"static const float gelu_c{d}[32] = {{" + ", ".join(f"{float(v)!r}f" for v in c32[:, d]) + "};")
print(f"max |Phi error| float64 {e64:.3g}; max |GELU error| / max(1, |x|) float32 {err.max():.3g}")
