#!/usr/bin/env python3
"""Fits the table GELU of the AVX-512 path (Sources/CKernels/gelu_avx512.c). With a = |x| and
R(a) = Phi(a) - 1/2 (Phi the normal CDF), GELU(x) = x Phi(x) = x / 2 + a R(a) for either sign.
R is one cubic in a per segment, 16 segments of width 5/16 over [0, 5), each a least-squares fit
on Chebyshev nodes with Lawson reweighting toward the largest error. The kernel clamps a to
5 - 1/32 for R only, picks the segment with vpermps and evaluates c0 + a (c1 + a (c2 + a c3))
with fused multiply-adds. Prints the C tables and the error against erf GELU, in float64 and
evaluated in float32 as the kernel does. Needs numpy only.
    python3 Tools/fit_gelu_table.py
"""
from math import erf, sqrt

import numpy as np

SEG, LO, HI = 16, 0.0, 5.0
W = (HI - LO) / SEG


def phi(v):
    return 0.5 * (1.0 + erf(v / sqrt(2.0)))


def R(v):
    return 0.5 * erf(v / sqrt(2.0))


coef = np.zeros((SEG, 4))
for s in range(SEG):
    a, b = LO + s * W, LO + (s + 1) * W
    nodes = (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (np.arange(64) + 0.5) / 64)
    f = np.array([R(v) for v in nodes])
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
a32 = np.abs(x32)
ac = np.minimum(a32, np.float32(HI - 1 / 32))  # index stays < 16
idx = np.trunc((ac * np.float32(1 / W)).astype(np.float32)).astype(np.int64)
p = c32[idx, 3]
for d in (2, 1, 0):
    p = (p.astype(np.float64) * ac + c32[idx, d]).astype(np.float32)  # one rounding: fmaf
g32 = (a32.astype(np.float64) * p + (x32 * np.float32(0.5)).astype(np.float64)).astype(np.float32)
err = np.abs(g32.astype(np.float64) - exact) / np.maximum(1, np.abs(x))
e64 = max(np.abs(np.polyval(coef[s][::-1], xs) - np.array([R(v) for v in xs])).max()
          for s in range(SEG) for xs in [np.linspace(LO + s * W, LO + (s + 1) * W, 201)])
for d in range(4):
    print(f"static const float gelu_c{d}[16] = {{" + ", ".join(f"{float(v)!r}f" for v in c32[:, d]) + "};")
print(f"max |R error| float64 {e64:.3g}; max |GELU error| / max(1, |x|) float32 {err.max():.3g}")
