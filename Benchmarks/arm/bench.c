// The workload of the ARM speed model: each pass of an int8 encoder forward on the shapes of
// MiniLM-L6 (hidden 384, intermediate 1536, 12 heads of 32) at 16 and 128 tokens and of bert-base
// (768, 3072, 12 heads of 64) at 128, one call each between two marker calls that the qemu plugin
// (qemu_count.c) turns into per-region instruction counts. Prints one line per region, in the
// order the plugin numbers them:  <region> <pass> <m> <n> <k> <int8 MACs>
// Built by model.sh with the Swift toolchain's clang and SwiftPM's flags, run under qemu-aarch64.
//   bench KERNEL [--only minilm]      KERNEL: neon or neondot
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ckernels.h"

/// Opens or closes a counted region: `hint #100` is the plugin's marker (a NOP on the core).
__attribute__((naked, noinline)) static void mark(void) { __asm__ volatile("hint #100\n\tret"); }

static uint32_t rng = 2463534242u;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }
static float rand_f(void) { return (float)((int32_t)(next() % 2001) - 1000) / 300.0f; }
static void *alloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) { fprintf(stderr, "bench: out of memory\n"); exit(1); }
    memset(p, 0, bytes);
    return p;
}

static int region;
static const ek_kernel *kern;

/// C [m][n] = A [m][k] . W [n][k]^T + bias on the kernel path, weights packed as the model file holds them.
static void gemm(int m, int n, int k) {
    const int np = (n + 15) / 16 * 16, kp = (k + 3) / 4 * 4;
    int8_t *w = alloc((size_t)n * k), *bp = alloc((size_t)np * kp), *a = alloc((size_t)m * kp);
    float *x = alloc(sizeof(float) * (size_t)m * k), *c = alloc(sizeof(float) * (size_t)m * n);
    float *sa = alloc(sizeof(float) * m), *mn = alloc(sizeof(float) * m);
    float *sb = alloc(sizeof(float) * np), *bias = alloc(sizeof(float) * np);
    int32_t *cs = alloc(sizeof(int32_t) * np);
    for (int64_t i = 0; i < (int64_t)n * k; i++) w[i] = (int8_t)((int32_t)(next() % 255) - 127);
    for (int64_t i = 0; i < (int64_t)m * k; i++) x[i] = rand_f();
    for (int r = 0; r < n; r++) {
        int32_t s = 0;
        for (int j = 0; j < k; j++) s += w[(int64_t)r * k + j];
        cs[r] = s; sb[r] = 0.001f; bias[r] = 0.5f;
    }
    ek_pack_b(w, n, k, bp);
    ek_quantize_rows_at(kern->level, x, k, m, k, kp, NULL, a, kp, sa, mn, kern->unsigned_a);
    ek_gemm_params p = {0};
    p.a = a; p.b = bp; p.a_scale = sa; p.a_min = mn; p.b_scale = sb; p.b_colsum = cs; p.bias = bias;
    p.c = c; p.lda = kp; p.ldc = n; p.m = m; p.n = n; p.kp = kp; p.panel_begin = 0; p.panel_end = np / 16;
    mark();
    kern->gemm(&p);
    mark();
    printf("%d gemm %d %d %d %lld\n", region++, m, n, k, (long long)m * n * k);
    free(w); free(bp); free(a); free(x); free(c); free(sa); free(mn); free(sb); free(bias); free(cs);
}

/// The row passes on x [m][n]: quantise, LayerNorm + quantise, GELU + quantise.
static void rows(int m, int n) {
    const int kp = (n + 3) / 4 * 4;
    float *x = alloc(sizeof(float) * (size_t)m * n), *g = alloc(sizeof(float) * n), *b = alloc(sizeof(float) * n);
    float *sa = alloc(sizeof(float) * m), *mn = alloc(sizeof(float) * m);
    int8_t *q = alloc((size_t)m * kp);
    for (int i = 0; i < n; i++) { g[i] = 1.0f + rand_f() / 10.0f; b[i] = rand_f() / 10.0f; }
    const ek_quantize_to to = {q, sa, mn, NULL, kp, kp, kern->unsigned_a};
    for (int i = 0; i < m * n; i++) x[i] = rand_f();
    mark();
    ek_quantize_rows_at(kern->level, x, n, m, n, kp, NULL, q, kp, sa, mn, kern->unsigned_a);
    mark();
    printf("%d quantize %d %d 0 0\n", region++, m, n);
    mark();
    ek_layernorm_quantize_at(kern->level, x, n, m, n, g, b, 1e-12f, &to);
    mark();
    printf("%d layernorm %d %d 0 0\n", region++, m, n);
    for (int i = 0; i < m * n; i++) x[i] = rand_f();
    mark();
    ek_gelu_quantize_at(kern->level, x, n, m, n, &to);
    mark();
    printf("%d gelu %d %d 0 0\n", region++, m, n);
    free(x); free(g); free(b); free(sa); free(mn); free(q);
}

/// One head of int8 self-attention over n tokens of width d (scores, softmax, context).
static void attention(int n, int d) {
    const int ld = 3 * d;
    float *x = alloc(sizeof(float) * (size_t)n * ld), *out = alloc(sizeof(float) * (size_t)n * d);
    void *scratch = alloc((size_t)ek_attention_i8_scratch(n, d));
    for (int i = 0; i < n * ld; i++) x[i] = rand_f();
    mark();
    ek_attention_head_i8_at(kern->level, kern, x, x + d, x + 2 * d, ld, n, d, 0.125f, scratch, out, d);
    mark();
    printf("%d attention %d %d %d %lld\n", region++, n, n, d, 2LL * n * n * d);
    free(x); free(out); free(scratch);
}

/// Every pass of one model at m tokens.
static void model(int m, int hidden, int inter, int head) {
    gemm(m, hidden, hidden);
    gemm(m, inter, hidden);
    gemm(m, hidden, inter);
    rows(m, hidden);
    rows(m, inter);
    attention(m, head);
}

int main(int argc, char **argv) {
    kern = argc > 1 ? ek_kernel_named(argv[1]) : NULL;
    if (!kern || !ek_kernel_supported(kern)) {
        fprintf(stderr, "bench: no kernel path %s on this CPU\n", argc > 1 ? argv[1] : "(none)");
        return 2;
    }
    const int only_minilm = argc > 2 && strcmp(argv[2], "--only") == 0;
    model(16, 384, 1536, 32);
    model(128, 384, 1536, 32);
    if (!only_minilm) model(128, 768, 3072, 64);
    return 0;
}
