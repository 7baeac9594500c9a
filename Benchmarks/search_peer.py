#!/usr/bin/env python3
"""The search benchmark's Python side (Benchmarks/search.sh): synthetic vectors, faiss, recall.

    search_peer.py make OUT N DIMS QUERIES SEED     # OUT/base-N.npy, OUT/queries.npy (float32, unit rows)
    search_peer.py faiss BASE.npy QUERIES.npy K     # IndexFlatIP, one query at a time, one thread: JSON
    search_peer.py recall BASE.npy QUERIES.npy K RESULTS.jsonl   # edgebert search --json vs exact

Vectors: 256 cluster centres plus noise of the same size, as sentence embeddings bunch by topic;
queries drawn from the same distribution. IndexFlatIP on unit vectors is exact cosine search: it
is both the speed peer and the reference for recall.
"""
import json, os, resource, sys, time
import numpy as np

def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

def make(out, n, dims, queries, seed):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((256, dims), dtype=np.float32)
    def sample(m):
        x = np.empty((m, dims), dtype=np.float32)
        for s in range(0, m, 100_000):
            e = min(m, s + 100_000)
            x[s:e] = centres[rng.integers(0, 256, e - s)] + rng.standard_normal((e - s, dims), dtype=np.float32)
        return unit(x)
    np.save(os.path.join(out, f"base-{n}.npy"), sample(n))
    np.save(os.path.join(out, "queries.npy"), sample(queries))

def faiss_bench(base, queries, k):
    import faiss
    faiss.omp_set_num_threads(1)
    xb, xq = np.load(base), np.load(queries)
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    for q in xq:                                   # warm-up: pages in, caches warm
        index.search(q[None, :], k)
    times = []
    for q in xq:
        t0 = time.perf_counter()
        index.search(q[None, :], k)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"median_ms": times[len(times) // 2], "p90_ms": times[len(times) * 9 // 10],
                      "vectors": xb.shape[0], "peak_rss_bytes": rss, "faiss": faiss.__version__}))

def recall(base, queries, k, results):
    import faiss
    xb, xq = np.load(base), np.load(queries)
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    _, exact = index.search(xq, k)
    found = 0
    with open(results) as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == len(xq), (len(rows), len(xq))
    for i, row in enumerate(rows):
        got = {r["line"] - 1 for r in row["results"]}
        found += len(got & set(exact[i].tolist()))
    print(json.dumps({"recall_at_k": found / (k * len(xq))}))

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "faiss":
        faiss_bench(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "recall":
        recall(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
