#!/usr/bin/env python3
"""Accuracy of embeddings against a float reference, on the test corpus.

    Benchmarks/accuracy.py CANDIDATE.f32 [REFERENCE.f32] [--dim 384]

Both files are raw little-endian f32 vectors, one per corpus line (`edgebert embed --format f32`);
the reference defaults to sentence-transformers' embeddings in Tests/Fixtures/minilm. Prints the
cosine mean, min, 1st percentile, and the nearest-neighbour agreement: for each text, whether its
top-1 neighbour over the corpus (itself excluded) is the same in both sets (the metric
RealModelTests holds), and for those that differ the largest float gap: how much closer, by the
reference, a text's own nearest was than the candidate's pick. Needs numpy.
"""
import sys
import numpy as np

args = [a for a in sys.argv[1:] if not a.startswith("--")]
dim = int(sys.argv[sys.argv.index("--dim") + 1]) if "--dim" in sys.argv else 384
if "--dim" in sys.argv:
    args.remove(str(dim))
if not args:
    sys.exit(__doc__)
ref_path = args[1] if len(args) > 1 else "Tests/Fixtures/minilm/embeddings.f32"

def load(path):
    v = np.fromfile(path, dtype="<f4").astype(np.float64).reshape(-1, dim)
    return v / np.linalg.norm(v, axis=1, keepdims=True)

a, r = load(args[0]), load(ref_path)
assert a.shape == r.shape, (a.shape, r.shape)
cos = (a * r).sum(1)

def similarities(v):
    s = v @ v.T
    np.fill_diagonal(s, -np.inf)
    return s

# A text's neighbour agrees when the candidate's top-1 is, by the reference, as close as the
# reference's own top-1 (to 1e-5): texts with the same token ids (several emoji lines are all
# [UNK]) tie exactly in float, and any of them is the right answer.
sr, sa = similarities(r), similarities(a)
picked = sr[np.arange(len(r)), sa.argmax(1)]
gap = sr.max(1) - picked  # how much closer, by the reference, its own nearest was than the pick
agree = gap <= 1e-5
nn = agree.mean()
worst = cos.argmin()
print(f"mean {cos.mean():.5f}  min {cos.min():.5f} (line {worst + 1})  p1 {np.percentile(cos, 1, method='lower'):.5f}  "
      f"nn {nn:.4f} ({(~agree).sum()} of {len(cos)} differ"
      + (f", largest float gap {gap.max():.4f})" if (~agree).any() else ")"))
