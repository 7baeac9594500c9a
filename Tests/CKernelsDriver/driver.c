// Test driver of the C kernels: every path this CPU supports against the scalar twin, on shapes
// chosen to break things. Built by SwiftPM's tests indirectly and, for ARM, by Tools/test-arm.sh
// with the aarch64 cross compiler and run under qemu. Prints one PASS/FAIL line per path.
//   driver [--expect NAME] [--also NAME]
//     --expect NAME: the path ek_kernel_select must pick on this CPU
//     --also NAME: test NAME even though this CPU's features do not list it (for a build whose
//                  NAME kernel was compiled to run here, e.g. AVX-VNNI in its EVEX form)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ckernels.h"

static uint32_t rng = 12345;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }
static int8_t rand_i8(int extreme) {
    if (extreme) return (next() & 1) ? 127 : -127;
    return (int8_t)((int32_t)(next() % 255) - 127);
}

typedef struct { int m, n, k; int extreme; } shape;

// Runs one shape through kernel `kern` and through ek_gemm_ref; returns mismatches (bitwise).
static int run_shape(const ek_kernel *kern, shape s, int with_bias, int with_residual, int offset) {
    const int np = (s.n + 15) / 16 * 16, kp = (s.k + 3) / 4 * 4;
    int8_t *w = malloc((size_t)s.n * s.k + 1), *bp = malloc((size_t)np * kp + 64);
    float *x = malloc(sizeof(float) * (size_t)s.m * s.k + 4);
    const int64_t lda = kp + offset;  // awkward alignment of a and its rows
    int8_t *abuf = malloc((size_t)s.m * lda + 64), *aref = malloc((size_t)s.m * lda + 64);
    float *sa = malloc(sizeof(float) * s.m), *sa2 = malloc(sizeof(float) * s.m);
    float *mn = malloc(sizeof(float) * s.m), *mn2 = malloc(sizeof(float) * s.m);
    float *sb = calloc(np, sizeof(float)), *bias = calloc(np, sizeof(float));
    int32_t *cs = calloc(np, sizeof(int32_t));
    const int64_t ldc = s.n + offset;
    float *c1 = malloc(sizeof(float) * s.m * ldc + 4), *c2 = malloc(sizeof(float) * s.m * ldc + 4);
    float *res = malloc(sizeof(float) * s.m * ldc + 4);
    for (int i = 0; i < s.n * s.k; i++) w[i] = rand_i8(s.extreme);
    for (int i = 0; i < s.m * s.k; i++) x[i] = s.extreme ? ((next() & 1) ? 1e3f : -1e3f) : (float)((int)(next() % 2001) - 1000) / 37.0f;
    for (int i = 0; i < s.m * ldc; i++) res[i] = (float)((int)(next() % 200) - 100) / 7.0f;
    for (int r = 0; r < s.n; r++) {
        int32_t sum = 0;
        for (int c = 0; c < s.k; c++) sum += w[r * s.k + c];
        cs[r] = sum; sb[r] = 0.001f * (float)(1 + r % 7); bias[r] = (float)(r % 5) - 2.0f;
    }
    ek_pack_b(w, s.n, s.k, bp);
    int bad = 0;
    float *sm = NULL;
    if (with_bias) {  // every other shape also smooths the activations per channel
        sm = malloc(sizeof(float) * s.k);
        for (int i = 0; i < s.k; i++) sm[i] = 0.25f + (float)(next() % 100) / 25.0f;
    }
    ek_quantize_rows_at(kern->level, x, s.k, s.m, s.k, kp, sm, abuf + offset, lda, sa, mn, kern->unsigned_a);  // at the path's level
    ek_quantize_rows_ref(x, s.k, s.m, s.k, kp, sm, aref + offset, lda, sa2, mn2, 0);
    free(sm);
    for (int r = 0; r < s.m; r++) {
        if (sa[r] != sa2[r] || mn[r] != mn2[r]) bad++;
        for (int c = 0; c < kp; c++)
            if ((int8_t)(abuf[offset + r * lda + c] ^ (kern->unsigned_a ? 0x80 : 0)) != aref[offset + r * lda + c]) bad++;
    }
    if (bad) { fprintf(stderr, "  quantize mismatch m=%d k=%d\n", s.m, s.k); }
    ek_gemm_params p = {0};
    p.b = bp; p.a_scale = sa2; p.a_min = mn2; p.b_scale = sb; p.b_colsum = cs;
    p.bias = with_bias ? bias : NULL; p.lda = lda; p.ldc = ldc; p.m = s.m; p.n = s.n; p.kp = kp;
    p.panel_begin = 0; p.panel_end = np / 16;
    memcpy(c1, res, sizeof(float) * s.m * ldc); memcpy(c2, res, sizeof(float) * s.m * ldc);
    p.a = aref + offset; p.c = c1; p.residual = with_residual ? c1 : NULL;
    ek_gemm_ref(&p);
    p.a = abuf + offset; p.c = c2; p.residual = with_residual ? c2 : NULL;
    kern->gemm(&p);
    for (int r = 0; r < s.m; r++)
        for (int c = 0; c < ldc; c++)
            if (memcmp(&c1[r * ldc + c], &c2[r * ldc + c], 4) != 0) {
                if (bad < 3) fprintf(stderr, "  %s m=%d n=%d k=%d: c[%d][%d] %g != ref %g\n", kern->name, s.m, s.n, s.k, r, c, c2[r * ldc + c], c1[r * ldc + c]);
                bad++;
            }
    free(w); free(bp); free(x); free(abuf); free(aref); free(sa); free(sa2); free(mn); free(mn2); free(sb); free(bias);
    free(cs); free(c1); free(c2); free(res);
    return bad;
}

// `bytes` bytes that end where an inaccessible page begins: a kernel reading past them faults.
static void *before_guard(size_t bytes, void **map, size_t *len) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *len = (bytes + page - 1) / page * page + page;
    uint8_t *base = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) { perror("mmap"); exit(1); }
    if (mprotect(base + *len - page, page, PROT_NONE) != 0) { perror("mprotect"); exit(1); }
    *map = base;
    return base + *len - page - bytes;
}

// The fp32 row passes at this CPU's best vector level against their scalar twins, on awkward
// widths: LayerNorm within LAYERNORM_REL x max(1, |exact|) of ek_layernorm_ref, GELU within
// GELU_ABS x max(1, |x|) of the erf form (libm), the tolerances the Swift tests hold the x86
// levels to (KernelTests); the fused passes (LayerNorm or GELU, then quantise each row, with and
// without SmoothQuant factors) bitwise equal to the pass followed by ek_quantize_rows_ref.
#define LAYERNORM_REL 1e-5f
#define GELU_ABS 2e-6f
static int run_row_passes(float *worst_ln, float *worst_gelu) {
    static const int widths[] = {1, 3, 4, 7, 15, 16, 17, 31, 33, 64, 100, 384, 1536};
    int bad = 0;
    for (int wi = 0; wi < 13; wi++) {
        const int n = widths[wi], m = 3, ld = n + 3, kp = (n + 3) / 4 * 4;
        float *x = malloc(sizeof(float) * m * ld), *y = malloc(sizeof(float) * m * ld), *z = malloc(sizeof(float) * m * ld);
        float *g = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *sm = malloc(sizeof(float) * n);
        int8_t *q1 = malloc((size_t)m * kp), *q2 = malloc((size_t)m * kp);
        float s1[3], s2[3], n1[3], n2[3];
        for (int i = 0; i < n; i++) {
            g[i] = 1.0f + (float)((int)(next() % 200) - 100) / 400.0f;
            b[i] = (float)((int)(next() % 200) - 100) / 300.0f;
            sm[i] = 0.25f + (float)(next() % 100) / 25.0f;
        }
        for (int pass = 0; pass < 2; pass++)
            for (int with_sm = 0; with_sm < 2; with_sm++) {
                for (int i = 0; i < m * ld; i++) x[i] = (float)((int)(next() % 4001) - 2000) / (pass ? 300.0f : 97.0f);
                memcpy(y, x, sizeof(float) * m * ld);
                memcpy(z, x, sizeof(float) * m * ld);
                const ek_quantize_to to = {q1, s1, n1, with_sm ? sm : NULL, kp, kp, 0};
                if (pass == 0) {
                    ek_layernorm_quantize_at(2, y, ld, m, n, g, b, 1e-12f, &to);
                    ek_layernorm_ref(z, ld, m, n, g, b, 1e-12f);
                } else {
                    ek_gelu_quantize_at(2, y, ld, m, n, &to);
                    for (int r = 0; r < m; r++) ek_activation(z + r * ld, n, 0);
                }
                for (int r = 0; r < m; r++)
                    for (int i = 0; i < n; i++) {
                        const float got = y[r * ld + i], want = z[r * ld + i];
                        const float err = fabsf(got - want) / fmaxf(1.0f, fabsf(pass ? x[r * ld + i] : want));
                        float *worst = pass ? worst_gelu : worst_ln;
                        if (err > *worst) *worst = err;
                        if (!(err <= (pass ? GELU_ABS : LAYERNORM_REL))) bad++;
                    }
                ek_quantize_rows_ref(y, ld, m, n, kp, with_sm ? sm : NULL, q2, kp, s2, n2, 0);
                if (memcmp(q1, q2, (size_t)m * kp) != 0 || memcmp(s1, s2, sizeof s1) != 0 || memcmp(n1, n2, sizeof n1) != 0) {
                    printf("  %s n %d sm %d: fused quantisation differs from the scalar twin's\n", pass ? "gelu" : "layernorm",
                           n, with_sm);
                    bad++;
                }
            }
        free(x); free(y); free(z); free(g); free(b); free(sm); free(q1); free(q2);
    }
    return bad;
}

// The last panel of B and the last row of A end at a guard page (lda = kp, no slack): a kernel
// that reads ahead past either (e.g. a software-pipelined loop's loads for one more iteration)
// crashes here. Returns mismatches against ref.
static int run_guarded(const ek_kernel *kern, int m, int n, int k) {
    const int np = (n + 15) / 16 * 16, kp = (k + 3) / 4 * 4;
    int8_t *w = malloc((size_t)n * k);
    void *bmap, *amap;
    size_t blen, alen;
    int8_t *bp = before_guard((size_t)np * kp, &bmap, &blen), *ak = before_guard((size_t)m * kp, &amap, &alen);
    int8_t *a = malloc((size_t)m * kp);  // ref's A; the kernel's (ak: uint8 if unsigned_a) ends at the guard
    float *sa = malloc(sizeof(float) * m), *mn = malloc(sizeof(float) * m), *sb = malloc(sizeof(float) * np);
    int32_t *cs = calloc(np, sizeof(int32_t));
    float *c1 = malloc(sizeof(float) * m * n), *c2 = malloc(sizeof(float) * m * n);
    for (int i = 0; i < n * k; i++) w[i] = rand_i8(0);
    for (int i = 0; i < m * kp; i++) {
        a[i] = rand_i8(0);
        ak[i] = (int8_t)(a[i] ^ (kern->unsigned_a ? 0x80 : 0));
    }
    for (int r = 0; r < np; r++) sb[r] = 0.001f;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < k; c++) cs[r] += w[r * k + c];
    for (int r = 0; r < m; r++) { sa[r] = 0.01f; mn[r] = -1.0f; }
    ek_pack_b(w, n, k, bp);
    ek_gemm_params p = {0};
    p.a = a; p.b = bp; p.a_scale = sa; p.a_min = mn; p.b_scale = sb; p.b_colsum = cs;
    p.lda = kp; p.ldc = n; p.m = m; p.n = n; p.kp = kp; p.panel_begin = 0; p.panel_end = np / 16;
    p.c = c1;
    ek_gemm_ref(&p);
    p.c = c2;
    p.a = ak;
    kern->gemm(&p);
    const int bad = memcmp(c1, c2, sizeof(float) * m * n) != 0;
    munmap(bmap, blen); munmap(amap, alen);
    free(w); free(a); free(sa); free(mn); free(sb); free(cs); free(c1); free(c2);
    return bad;
}

// Int8 attention of one head on `kern`'s GEMM against the same on the ref GEMM, both with the
// best vector passes this CPU has (bitwise: the GEMMs are bitwise equal and the rest is shared
// code), against the scalar bodies of those passes on the same GEMM (level 0, within
// ATTN_LEVELS_REL x max |v|: only the softmax's float sum may differ), and against the fp32 twin,
// within `tol` x max |v|.
#define ATTN_LEVELS_REL 1e-5f
// Returns mismatches; *worst gets the largest error seen, relative to max |v|.
static int run_attention(const ek_kernel *kern, int n, int d, float tol, float *worst) {
    const int ld = 3 * d + 5;  // q, k, v side by side with an odd stride
    float *x = malloc(sizeof(float) * n * ld), *o1 = malloc(sizeof(float) * n * d);
    float *o2 = malloc(sizeof(float) * n * d), *o3 = malloc(sizeof(float) * n * d);
    float *scores = malloc(sizeof(float) * (n + 16));
    void *s1 = malloc((size_t)ek_attention_i8_scratch(n, d)), *s2 = malloc((size_t)ek_attention_i8_scratch(n, d));
    float vmax = 0.0f;
    for (int i = 0; i < n * ld; i++) x[i] = (float)((int32_t)(next() % 2001) - 1000) / 300.0f;
    for (int j = 0; j < n; j++)
        for (int c = 0; c < d; c++) vmax = fmaxf(vmax, fabsf(x[j * ld + 2 * d + c]));
    const float scale = 1.0f / sqrtf((float)d);
    ek_attention_head_i8_at(2, kern, x, x + d, x + 2 * d, ld, n, d, scale, s1, o1, d);
    ek_attention_head_i8_at(2, ek_kernel_named("ref"), x, x + d, x + 2 * d, ld, n, d, scale, s2, o2, d);
    // the scalar bodies (level 0) on the same GEMM: the vector packing and softmax give the same
    // bytes, the softmax's float sum aside (any order)
    float *o4 = malloc(sizeof(float) * n * d);
    ek_attention_head_i8_at(0, kern, x, x + d, x + 2 * d, ld, n, d, scale, s2, o4, d);
    ek_attention_head_ref(x, x + d, x + 2 * d, ld, n, d, scale, NULL, scores, o3, d);
    int bad = 0;
    for (int i = 0; i < n * d; i++) {
        if (memcmp(&o1[i], &o2[i], 4) != 0) bad++;
        const float err = fabsf(o1[i] - o3[i]) / vmax;
        if (err > *worst) *worst = err;
        if (!(err <= tol)) bad++;
        if (!(fabsf(o1[i] - o4[i]) <= ATTN_LEVELS_REL * vmax)) {
            if (bad < 3) printf("  attention %s n %d d %d [%d]: %g at the best level, %g by the scalar bodies\n", kern->name,
                                n, d, i, o1[i], o4[i]);
            bad++;
        }
    }
    free(o4);
    if (bad) printf("  attention %s n %d d %d: %d mismatches\n", kern->name, n, d, bad);
    free(x); free(o1); free(o2); free(o3); free(scores); free(s1); free(s2);
    return bad;
}

// The dispatch choice as a pure function of the CPU's feature bits, on CPUs we do not have
// (x86: AVX-512 VNNI > AVX-VNNI > AVX2 > SSE4.1 > ref; ARM: SDOT > NEON). Returns mismatches.
static int check_dispatch_choice(void) {
    typedef struct { int32_t features; const char *want; } pick;
#if defined(__x86_64__)
    static const pick picks[] = {
        {0, "ref"},
        {EK_X86_SSE41, "sse41"},  // Celeron J4125 / N5105: SSE4.2, no AVX
        {EK_X86_SSE41 | EK_X86_AVX2, "avx2"},
        {EK_X86_SSE41 | EK_X86_AVX2 | EK_X86_AVXVNNI, "avxvnni"},
        {EK_X86_SSE41 | EK_X86_AVX2 | EK_X86_AVX512VNNI, "avx512vnni"},
        {EK_X86_SSE41 | EK_X86_AVX2 | EK_X86_AVXVNNI | EK_X86_AVX512VNNI, "avx512vnni"},
    };
#elif defined(__aarch64__)
    static const pick picks[] = {{0, "neon"}, {EK_ARM_DOTPROD, "neondot"}};
#else
    static const pick picks[] = {{0, "ref"}};
#endif
    int bad = 0;
    for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
        const char *got = ek_kernel_best_for(picks[i].features)->name;
        if (strcmp(got, picks[i].want) != 0) {
            fprintf(stderr, "  features 0x%x: dispatch picks %s, want %s\n", (unsigned)picks[i].features, got, picks[i].want);
            bad++;
        }
    }
    if (strcmp(ek_kernel_best_for(ek_cpu_features())->name, ek_kernel_select(NULL)->name) != 0) bad++;
    printf("%s: dispatch choice on %d feature sets\n", bad ? "FAIL" : "PASS", (int)(sizeof(picks) / sizeof(picks[0])));
    return bad;
}

#if defined(__x86_64__)
// The SSE4.1 epilogue's fmaf (in double, rounded to odd) against libm's fmaf: cases where rounding
// twice would be wrong (x * y on a float midpoint, z a tiny nudge), subnormal results,
// cancellation, and random triples over a wide exponent range. Returns mismatches.
static int check_fma_sse41(void) {
    const float h = 1.0f + 0x1p-12f;  // h * h = 1 + 2^-11 + 2^-24: a midpoint between two floats
    float x[4096], y[4096], z[4096];
    int n = 0;
    const float nudges[] = {0x1p-80f, -0x1p-80f, 0x1p-149f, -0x1p-149f, 0.0f, -0.0f, 0x1p-30f, -0x1p-30f};
    for (int sx = 0; sx < 2; sx++)
        for (int e = -70; e <= 60; e += 10)
            for (int t = 0; t < 8; t++) {
                x[n] = ldexpf(sx ? -h : h, e); y[n] = ldexpf(h, e < -60 ? -80 : 0);
                z[n] = ldexpf(nudges[t], e < -60 ? e - 80 : e); n++;
            }
    while (n < 4096) {
        const float a = ldexpf(1.0f + (float)(next() & 0xFFFFFF) * 0x1p-24f, (int)(next() % 80) - 40);
        const float b = ldexpf(1.0f + (float)(next() & 0xFFFFFF) * 0x1p-24f, (int)(next() % 80) - 40);
        x[n] = (next() & 1) ? -a : a; y[n] = b;
        // half of them cancel: z = -round(x * y) leaves the product's rounding error
        z[n] = (n & 1) ? -(x[n] * y[n]) : ldexpf((float)(int32_t)next(), (int)(next() % 60) - 60);
        n++;
    }
    int bad = 0;
    for (int i = 0; i < n; i += 4) {
        float got[4];
        ek_fmaf4_sse41(x + i, y + i, z + i, got);
        for (int t = 0; t < 4; t++) {
            const float want = fmaf(x[i + t], y[i + t], z[i + t]);
            if (memcmp(&got[t], &want, 4) != 0) {
                if (bad < 3) fprintf(stderr, "  fma(%a, %a, %a) = %a, fmaf %a\n", x[i + t], y[i + t], z[i + t], got[t], want);
                bad++;
            }
        }
    }
    printf("%s: sse41 epilogue fma (double, rounded to odd) equal to fmaf on %d cases\n", bad ? "FAIL" : "PASS", n);
    return bad;
}
#endif

// ek_outliers_add at every vector level (capped at this CPU's) against its scalar twin, bit for
// bit: awkward row, column and outlier counts, partial column ranges. Returns mismatches.
static int check_outliers_add(void) {
    static const int ms[] = {1, 3, 17}, ns[] = {1, 15, 33, 384, 1537}, counts[] = {1, 2, 5, 16};
    int bad = 0, cases = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 4; c++) {
                const int m = ms[a], n = ns[b], count = counts[c], k = 40;
                float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * count * n);
                float *y0 = malloc(sizeof(float) * m * n), *y1 = malloc(sizeof(float) * m * n);
                int32_t index[16];
                for (int j = 0; j < count; j++) index[j] = j * (k / count);
                for (int i = 0; i < m * k; i++) x[i] = (float)((int)(next() % 20001) - 10000) / 37.0f;
                for (int i = 0; i < count * n; i++) w[i] = (float)((int)(next() % 2001) - 1000) / 3001.0f;
                const int c0 = n / 3, c1 = n - n / 5;
                for (int level = 0; level <= 2; level++, cases++) {
                    for (int i = 0; i < m * n; i++) y0[i] = y1[i] = (float)((int)(next() % 200) - 100) / 7.0f;
                    ek_outliers_add_ref(x, k, index, w, n, count, y0, n, m, c0, c1);
                    ek_outliers_add_at(level, x, k, index, w, n, count, y1, n, m, c0, c1);
                    bad += memcmp(y0, y1, sizeof(float) * m * n) != 0;
                }
                free(x); free(w); free(y0); free(y1);
            }
    printf("%s: outlier side product, %d cases, bitwise equal to ref at every vector level\n", bad ? "FAIL" : "PASS", cases);
    return bad;
}

// ek_sgemm_nt at every vector level (capped at this CPU's) against its scalar twin: row counts
// around every tile height, column tails of the 16- and 32-wide panels, K past one 256-deep
// block, partial column ranges, with and without bias, the residual the output itself (as the
// encoder calls it). Other summation orders: within 1e-4 relative (sums of |terms| about 1). The
// same on weights packed as the model file stores them (ek_pack_f32_panels): bit for bit.
static int check_sgemm(float *worst) {
    static const int ms[] = {1, 3, 7, 9, 13, 128}, ns[] = {1, 15, 33, 47}, ks[] = {1, 17, 256, 600};
    int bad = 0, cases = 0;
    *worst = 0.0f;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++) {
                const int m = ms[a], n = ns[b], k = ks[c];
                float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * n * k);
                float *bias = malloc(sizeof(float) * n), *y0 = malloc(sizeof(float) * m * n);
                float *y1 = malloc(sizeof(float) * m * n), *res = malloc(sizeof(float) * m * n);
                for (int i = 0; i < m * k; i++) x[i] = (float)((int)(next() % 2001) - 1000) / 1000.0f;
                for (int i = 0; i < n * k; i++) w[i] = (float)((int)(next() % 2001) - 1000) / (1000.0f * (float)k);
                for (int i = 0; i < n; i++) bias[i] = (float)((int)(next() % 200) - 100) / 70.0f;
                for (int i = 0; i < m * n; i++) res[i] = (float)((int)(next() % 200) - 100) / 7.0f;
                float *panels = malloc(sizeof(float) * (size_t)((n + 15) / 16 * 16) * (size_t)k);
                ek_pack_f32_panels(w, n, k, panels);
                const int c0 = n / 3, c1 = n - n / 5;
                for (int level = 0; level <= 2; level++)
                    for (int with_bias = 0; with_bias <= 1; with_bias++, cases++) {
                        memcpy(y0, res, sizeof(float) * m * n);
                        memcpy(y1, res, sizeof(float) * m * n);
                        ek_sgemm_nt_ref(x, k, w, k, with_bias ? bias : NULL, res, y0, n, m, n, k, c0, c1);
                        ek_sgemm_nt_at(level, x, k, w, k, with_bias ? bias : NULL, y1, y1, n, m, n, k, c0, c1);
                        for (int i = 0; i < m * n; i++) {
                            const float d = fabsf(y0[i] - y1[i]) / (fabsf(y0[i]) > 1.0f ? fabsf(y0[i]) : 1.0f);
                            if (d > *worst) *worst = d;
                            if (!(d <= 1e-4f)) { bad++; break; }
                        }
                        // the weights in the model file's panels: bit for bit the row-major result
                        const int p0 = n > 16 ? 16 : 0;
                        memcpy(y0, res, sizeof(float) * m * n);
                        memcpy(y1, res, sizeof(float) * m * n);
                        ek_sgemm_nt_at(level, x, k, w, k, with_bias ? bias : NULL, res, y0, n, m, n, k, p0, n);
                        ek_sgemm_packed_at(level, x, k, panels, with_bias ? bias : NULL, y1, y1, n, m, n, k, p0, n);
                        bad += memcmp(y0, y1, sizeof(float) * m * n) != 0;
                    }
                free(x); free(w); free(bias); free(y0); free(y1); free(res); free(panels);
            }
    printf("%s: float matmul, %d cases at every vector level, within 1e-4 of ref (worst %.1e), packed = row-major\n", bad ? "FAIL" : "PASS",
           cases, *worst);
    return bad;
}

int main(int argc, char **argv) {
    const char *expect = NULL, *also = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) expect = argv[++i];
        else if (strcmp(argv[i], "--also") == 0 && i + 1 < argc) also = argv[++i];
    }
    static const int dims[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17, 31, 33, 63, 65};
    shape shapes[512]; int ns = 0;
    for (int i = 0; i < 16; i += 3)
        for (int j = 0; j < 16; j += 2)
            for (int l = 0; l < 16; l += 3) shapes[ns++] = (shape){dims[i], dims[j], dims[l], 0};
    const shape big[] = {{1, 384, 384, 0}, {128, 1152, 384, 0}, {7, 1536, 384, 0}, {9, 384, 1536, 0},
                         {1, 17, 32767, 0}, {3, 385, 383, 0}, {13, 383, 385, 0}, {10, 48, 64, 1},
                         {1, 1, 1, 1}, {17, 33, 1537, 1}, {257, 16, 12, 0}};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) shapes[ns++] = big[i];
    int failed = check_dispatch_choice() != 0;
    failed |= check_outliers_add() != 0;
    {
        float ws = 0.0f;
        failed |= check_sgemm(&ws) != 0;
    }
#if defined(__x86_64__)
    if (ek_kernel_supported(ek_kernel_named("sse41"))) failed |= check_fma_sse41() != 0;
#endif
    {
        float wl = 0.0f, wg = 0.0f;
        const int rbad = run_row_passes(&wl, &wg);
        printf("%s: row passes (best vector level): LayerNorm within %.0e (worst %.1e), GELU within %.0e (worst %.1e) of "
               "the scalar twins, fused quantisation bitwise equal\n", rbad ? "FAIL" : "PASS", LAYERNORM_REL, wl, GELU_ABS, wg);
        failed |= rbad != 0;
    }
    const ek_kernel *chosen = ek_kernel_select(NULL);
    if (expect) {
        const int ok = strcmp(chosen->name, expect) == 0;
        printf("%s: dispatch picks %s (expected %s)\n", ok ? "PASS" : "FAIL", chosen->name, expect);
        failed |= !ok;
    }
    for (int32_t i = 0; i < ek_kernel_count(); i++) {
        const ek_kernel *k = ek_kernel_at(i);
        const int forced = also && strcmp(also, k->name) == 0;
        if (!ek_kernel_supported(k) && !forced) { printf("SKIP: %s (not supported by this CPU)\n", k->name); continue; }
        int bad = 0;
        for (int s = 0; s < ns; s++)
            bad += run_shape(k, shapes[s], s % 2, s % 3 == 0, s % 4);
        printf("%s: %s kernel%s, %d shapes, bitwise equal to ref\n", bad ? "FAIL" : "PASS", k->name,
               forced ? " (EVEX build)" : "", ns);
        failed |= bad != 0;
        static const int guarded[][3] = {{1, 16, 48}, {3, 32, 96}, {2, 17, 100}, {5, 48, 384}, {1, 16, 52},
                                         {2, 16, 16}, {1, 32, 32}, {1, 16, 80}, {3, 16, 128}, {2, 16, 13}};
        int gbad = 0;
        for (int g = 0; g < 10; g++) gbad += run_guarded(k, guarded[g][0], guarded[g][1], guarded[g][2]);
        printf("%s: %s kernel, 10 shapes ending at a guard page (no reads past B or A)\n", gbad ? "FAIL" : "PASS", k->name);
        failed |= gbad != 0;
        // int8 attention: awkward token counts and head widths; tolerance of the 8-bit scheme
        static const int tokens[] = {1, 2, 3, 5, 16, 17, 31, 33, 64, 100, 128, 130, 257, 512};
        static const int widths[] = {4, 8, 12, 20, 32, 64};
        const float tol = 0.05f;
        float worst = 0.0f;
        int abad = 0, cases = 0;
        for (int t = 0; t < 14; t++)
            for (int w = 0; w < 6; w++, cases++) abad += run_attention(k, tokens[t], widths[w], tol, &worst);
        printf("%s: %s int8 attention, %d shapes, bitwise equal to ref, within %.0e of the scalar passes, within %.3f of fp32 (worst %.4f) x max |v|\n",
               abad ? "FAIL" : "PASS", k->name, cases, ATTN_LEVELS_REL, tol, worst);
        failed |= abad != 0;
    }
    return failed ? 1 : 0;
}
