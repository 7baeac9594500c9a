#!/usr/bin/env python3
"""Fits the rational erf(z) = z P(z^2) / Q(z^2) on [0, 4] used by the GELU in
Sources/CKernels/ops_vector.c: linearised least squares (x P - f Q) / Q_prev with Lawson
reweighting toward the largest errors. Prints the coefficients and the error in float64 and when
evaluated in float32 as the kernel does. Needs numpy only.
    python3 Tools/fit_erf.py
"""
from math import erf

import numpy as np

NP, NQ = 7, 5  # numerator coefficients (in z^2, times z), denominator (in z^2, q0 = 1)
x = np.linspace(0, 4, 20001)
f = np.array([erf(v) for v in x])
t = x * x
Q = np.ones_like(x)
w = np.ones_like(x)
for _ in range(30):
    cols = [x * t**i for i in range(NP)] + [-f * t**j for j in range(1, NQ)]
    A = np.stack(cols, 1) / Q[:, None] * w[:, None]
    c, *_ = np.linalg.lstsq(A, f / Q * w, rcond=None)
    p, q = c[:NP], np.concatenate([[1.0], c[NP:]])
    P = sum(p[i] * t**i for i in range(NP))
    Q = sum(q[j] * t**j for j in range(NQ))
    e = x * P / Q - f
    w = w * (1 + 3 * np.abs(e) / np.abs(e).max())
    w /= w.max()

x32, t32 = x.astype(np.float32), (x * x).astype(np.float32)
P32 = np.float32(p[-1])
for coef in p[-2::-1]:
    P32 = P32 * t32 + np.float32(coef)
Q32 = np.float32(q[-1])
for coef in q[-2::-1]:
    Q32 = Q32 * t32 + np.float32(coef)
print("P (z^0 first):", [repr(float(v)) for v in p])
print("Q (z^0 first):", [repr(float(v)) for v in q])
print(f"max |error| float64 {np.abs(e).max():.3g}, float32 {np.abs(x32 * P32 / Q32 - f).max():.3g}")
