// The encoder's fp32 work between the int8 matmuls: attention of one head, GELU, softmax's exp.
// One portable body per operation, written so the compiler vectorises it (fixed-width lane
// loops, no branches in the inner loops), instantiated twice: baseline (SSE2 / NEON) and, on
// x86, AVX2+FMA. The path is chosen once at first use. ek_*_ref in ops_f32.c are the twins
// (libm erff / expf), and the tests hold these within named tolerances of them.
#include <math.h>
#include <pthread.h>
#include <string.h>
#include "include/ckernels.h"

#include "vector_math.h"

// GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)). erf(z) = z P(z^2) / Q(z^2) on [-4, 4] (beyond, erf
// is +-1 to float precision), fitted by Tools/fit_erf.py: |error| < 6e-8 in exact arithmetic,
// < 4e-7 evaluated in float. 18 operations and one division a vector, no exp.
ALWAYS_INLINE float gelu_one(float x) {
    float z = x * 0.70710678118654752f;
    z = z < -4.0f ? -4.0f : (z > 4.0f ? 4.0f : z);
    const float t = z * z;
    float p = 1.9218535559777425e-08f;
    p = p * t - 1.990289246452508e-06f;
    p = p * t + 1.5551646653372462e-04f;
    p = p * t + 4.292137362686957e-03f;
    p = p * t + 5.243054329291795e-02f;
    p = p * t + 2.139227883061421e-01f;
    p = p * t + 1.1283786775956186f;
    float q = 1.0978214219262482e-03f;
    q = q * t + 1.5549217015269927e-02f;
    q = q * t + 1.2079054436567387e-01f;
    q = q * t + 5.229117952365627e-01f;
    q = q * t + 1.0f;
    const float erf = z * p / q;
    const float h = 0.5f * x;
    return h + h * erf;
}

ALWAYS_INLINE void gelu_body(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = gelu_one(x[i]);
}

// LayerNorm of one row in place. The two sums may be reassociated (clang vectorises them;
// other compilers ignore the pragma and stay exact in order).
ALWAYS_INLINE void layernorm_row(float *row, int32_t n, const float *gamma, const float *beta, float eps) {
    float sum = 0.0f;
    {
#pragma clang fp reassociate(on)
        for (int32_t i = 0; i < n; i++) sum += row[i];
    }
    const float mean = sum / (float)n;
    float var = 0.0f;
    {
#pragma clang fp reassociate(on)
        for (int32_t i = 0; i < n; i++) {
            const float d = row[i] - mean;
            var += d * d;
        }
    }
    const float inv = 1.0f / sqrtf(var / (float)n + eps);
    for (int32_t i = 0; i < n; i++) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
}

#define NR 16

// Softmax of one row of scores (n valid of n16) in place, returning 1 / sum.
ALWAYS_INLINE float softmax_row(float *scores, int32_t n, int32_t n16) {
    // the sum over a lane array: vectorisable without reassociating a scalar reduction
    const float mx = row_max(scores, n);
    int32_t j;
    for (j = n; j < n16; j++) scores[j] = -1e30f;  // padding contributes exp(-huge) = 0
    float suml[NR] = {0};
    for (j = 0; j < n16; j += NR)
        for (int c = 0; c < NR; c++) {
            const float e = exp_poly(scores[j + c] - mx);
            scores[j + c] = e;
            suml[c] += e;
        }
    float sum = 0.0f;
    for (int c = 0; c < NR; c++) sum += suml[c];
    return 1.0f / sum;
}

// Scores and context of one head over n tokens, 4 query rows at a time.
//   q, k, v: [n][ld] (this head's d columns at offset 0); out: [n][ldo]
//   kt: scratch [d][n16] (keys transposed, zero padded), scores: scratch [4][n16]
//   mask: [n] additive (0 or a large negative), or NULL
#define MR 4
ALWAYS_INLINE void attention_body(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d,
                                  float scale, const float *mask, float *kt, float *scores, float *out, int64_t ldo) {
    const int32_t n16 = (n + NR - 1) / NR * NR;
    for (int32_t t = 0; t < d; t++) {
        float *row = kt + (int64_t)t * n16;
        for (int32_t j = 0; j < n; j++) row[j] = k[(int64_t)j * ld + t];
        for (int32_t j = n; j < n16; j++) row[j] = 0.0f;
    }
    for (int32_t i0 = 0; i0 < n; i0 += MR) {
        const int32_t rows = n - i0 < MR ? n - i0 : MR;
        const float *qr[MR];
        for (int r = 0; r < MR; r++) qr[r] = q + (int64_t)(r < rows ? i0 + r : i0) * ld;
        // S[r][j] = q[i0 + r] . k[j] * scale      [MR][n16]
        for (int32_t jb = 0; jb < n16; jb += NR) {
            float acc[MR][NR] = {{0}};
            for (int32_t t = 0; t < d; t++) {
                const float *kr = kt + (int64_t)t * n16 + jb;
                for (int r = 0; r < MR; r++) {
                    const float qv = qr[r][t];
                    for (int c = 0; c < NR; c++) acc[r][c] += qv * kr[c];
                }
            }
            for (int r = 0; r < MR; r++)
                for (int c = 0; c < NR; c++) scores[r * n16 + jb + c] = acc[r][c] * scale;
        }
        for (int32_t r = 0; r < MR; r++) {
            float *sr = scores + (int64_t)r * n16;
            if (r >= rows) {  // rows past the end: zero weights, so the block below stays uniform
                for (int32_t j = 0; j < n16; j++) sr[j] = 0.0f;
                continue;
            }
            if (mask)
                for (int32_t j = 0; j < n; j++) sr[j] += mask[j];
            const float inv = softmax_row(sr, n, n16);
            for (int32_t j = 0; j < n; j++) sr[j] *= inv;
        }
        // out[i0 + r] = sum_j p[r][j] v[j]: 16 columns x 4 rows in registers, two chains over j
        int32_t cb = 0;
        for (; cb + NR <= d; cb += NR) {
            float a0[MR][NR] = {{0}}, a1[MR][NR] = {{0}};
            int32_t j = 0;
            for (; j + 2 <= n; j += 2) {
                const float *v0 = v + (int64_t)j * ld + cb, *v1 = v0 + ld;
                for (int r = 0; r < MR; r++) {
                    const float p0 = scores[r * n16 + j], p1 = scores[r * n16 + j + 1];
                    for (int c = 0; c < NR; c++) { a0[r][c] += p0 * v0[c]; a1[r][c] += p1 * v1[c]; }
                }
            }
            if (j < n) {
                const float *v0 = v + (int64_t)j * ld + cb;
                for (int r = 0; r < MR; r++) {
                    const float p0 = scores[r * n16 + j];
                    for (int c = 0; c < NR; c++) a0[r][c] += p0 * v0[c];
                }
            }
            for (int32_t r = 0; r < rows; r++)
                for (int c = 0; c < NR; c++) out[(int64_t)(i0 + r) * ldo + cb + c] = a0[r][c] + a1[r][c];
        }
        for (; cb < d; cb++)
            for (int32_t r = 0; r < rows; r++) {
                float a = 0.0f;
                for (int32_t j = 0; j < n; j++) a += scores[r * n16 + j] * v[(int64_t)j * ld + cb];
                out[(int64_t)(i0 + r) * ldo + cb] = a;
            }
    }
}

// The float matmul, NT layout: C[m][n] = A[m][:] . W[n][:] (+ bias, + residual), for columns
// [n0, n1). BLIS-style: W is read as 16-column panels, K-major ([K][16] floats each: the layout
// `quantize --dtype f32` stores, ek_pack_f32_panels; a row-major W is copied into that layout,
// one 256-deep K block at a time, on the stack). ROWS rows x COLS (16 or 32: one or two panels)
// columns of C stay in registers while each A element is broadcast against the panels' rows (one
// FMA a register and K step, no horizontal sums). K runs in blocks of SG_KC: the first block's
// sums get the bias and the residual and are stored; the later blocks load C and add to them.
// Each tile reads its residual just before writing the same elements, so residual may be c itself
// (the encoder's x += dense(h)). Every element is summed in the same order (K ascending within a
// block, blocks in order) at every ROWS and COLS, packed or not: the instantiations differ only by
// the fused multiply-adds their ISA contracts to. ROWS and COLS: SG_MR_*, SG_NR_* below.
#define SG_KC 256

// panel[t][c] = W[j0 + c][k0 + t] for c < cols (<= 16), 0 past them: the rows of W read side by
// side 16 floats at a time, written as 16 panel rows.
ALWAYS_INLINE void sgemm_pack16(const float *w, int64_t ldw, int32_t j0, int32_t cols, int32_t k0, int32_t kc,
                                float *restrict panel) {
    const float *src[16];
    for (int c = 0; c < 16; c++) src[c] = w + (int64_t)(j0 + (c < cols ? c : 0)) * ldw + k0;
    int32_t t = 0;
    for (; t + 16 <= kc; t += 16) {
        float block[16][16];
        for (int c = 0; c < 16; c++)
            for (int u = 0; u < 16; u++) block[c][u] = src[c][t + u];
        for (int u = 0; u < 16; u++)
            for (int c = 0; c < 16; c++) panel[(t + u) * 16 + c] = c < cols ? block[c][u] : 0.0f;
    }
    for (; t < kc; t++)
        for (int c = 0; c < 16; c++) panel[t * 16 + c] = c < cols ? src[c][t] : 0.0f;
}

// ROWS rows of C, columns [j0, j0 + cols), K block [k0, k0 + kc); p0, p1: the block's rows of
// the two panels ([kc][16] each; p1 read only when COLS is 32).
ALWAYS_INLINE void sgemm_tile(const float *a, int64_t lda, const float *restrict p0, const float *restrict p1,
                              int32_t kc, int32_t k0, int first, const float *bias, const float *residual, float *c,
                              int64_t ldc, int32_t j0, int32_t cols, const int ROWS, const int COLS) {
    float acc[ROWS][COLS];
    for (int r = 0; r < ROWS; r++)
        for (int l = 0; l < COLS; l++) acc[r][l] = 0.0f;
    const float *ar = a + k0;
    for (int32_t t = 0; t < kc; t++) {
        const float *q0 = p0 + t * 16, *q1 = p1 + t * 16;
        for (int r = 0; r < ROWS; r++) {
            const float av = ar[(int64_t)r * lda + t];
            for (int l = 0; l < 16; l++) acc[r][l] += av * q0[l];
            if (COLS == 32)
                for (int l = 0; l < 16; l++) acc[r][16 + l] += av * q1[l];
        }
    }
    for (int r = 0; r < ROWS; r++) {
        float *cr = c + (int64_t)r * ldc + j0;
        if (first) {  // (bias and residual tested outside the loops: a masked load of NULL is slow)
            float v[COLS];
            for (int l = 0; l < COLS; l++) v[l] = acc[r][l];
            if (bias)
                for (int32_t l = 0; l < cols; l++) v[l] += bias[j0 + l];
            if (residual)
                for (int32_t l = 0; l < cols; l++) v[l] += residual[(int64_t)r * ldc + j0 + l];
            for (int32_t l = 0; l < cols; l++) cr[l] = v[l];
        } else {
            for (int32_t l = 0; l < cols; l++) cr[l] += acc[r][l];
        }
    }
}

// All rows of C for one column group and K block: tiles of ROWS, then of 4, then single rows.
ALWAYS_INLINE void sgemm_rows(const float *a, int64_t lda, const float *p0, const float *p1, int32_t kc, int32_t k0,
                              const float *bias, const float *residual, float *c, int64_t ldc, int32_t m, int32_t j0,
                              int32_t cols, const int ROWS, const int COLS) {
    const int first = k0 == 0;
    int32_t i = 0;
    for (; i + ROWS <= m; i += ROWS)
        sgemm_tile(a + (int64_t)i * lda, lda, p0, p1, kc, k0, first, bias, residual ? residual + (int64_t)i * ldc : NULL,
                   c + (int64_t)i * ldc, ldc, j0, cols, ROWS, COLS);
    for (; i + 4 <= m; i += 4)
        sgemm_tile(a + (int64_t)i * lda, lda, p0, p1, kc, k0, first, bias, residual ? residual + (int64_t)i * ldc : NULL,
                   c + (int64_t)i * ldc, ldc, j0, cols, 4, COLS);
    for (; i < m; i++)
        sgemm_tile(a + (int64_t)i * lda, lda, p0, p1, kc, k0, first, bias, residual ? residual + (int64_t)i * ldc : NULL,
                   c + (int64_t)i * ldc, ldc, j0, cols, 1, COLS);
}

// W row-major [n][ldw]: each 256-deep block of a column group packed on the stack (32 KiB).
ALWAYS_INLINE void sgemm_body(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                              const float *residual, float *c, int64_t ldc, int32_t m, int32_t k,
                              int32_t n0, int32_t n1, const int ROWS, const int COLS) {
    float panel[2 * SG_KC * 16] __attribute__((aligned(64)));
    for (int32_t j0 = n0; j0 < n1; j0 += COLS) {
        const int32_t cols = n1 - j0 < COLS ? n1 - j0 : COLS;
        for (int32_t k0 = 0; k0 < k || k0 == 0; k0 += SG_KC) {
            const int32_t kc = k - k0 < SG_KC ? k - k0 : SG_KC;
            sgemm_pack16(w, ldw, j0, cols, k0, kc, panel);
            if (COLS == 32 && cols > 16) {
                sgemm_pack16(w, ldw, j0 + 16, cols - 16, k0, kc, panel + SG_KC * 16);
                sgemm_rows(a, lda, panel, panel + SG_KC * 16, kc, k0, bias, residual, c, ldc, m, j0, cols, ROWS, COLS);
            } else {
                sgemm_rows(a, lda, panel, panel, kc, k0, bias, residual, c, ldc, m, j0, cols, ROWS, 16);
            }
        }
    }
}

// W packed ([ceil(n/16)][k][16], zero past n); n0 a multiple of 16.
ALWAYS_INLINE void sgemm_packed_body(const float *a, int64_t lda, const float *wp, const float *bias,
                                     const float *residual, float *c, int64_t ldc, int32_t m, int32_t k,
                                     int32_t n0, int32_t n1, const int ROWS, const int COLS) {
    for (int32_t j0 = n0; j0 < n1; j0 += COLS) {
        const int32_t cols = n1 - j0 < COLS ? n1 - j0 : COLS;
        const float *p0 = wp + (int64_t)(j0 / 16) * k * 16;
        for (int32_t k0 = 0; k0 < k || k0 == 0; k0 += SG_KC) {
            const int32_t kc = k - k0 < SG_KC ? k - k0 : SG_KC;
            const float *b0 = p0 + (int64_t)k0 * 16;
            if (COLS == 32 && cols > 16)
                sgemm_rows(a, lda, b0, b0 + (int64_t)k * 16, kc, k0, bias, residual, c, ldc, m, j0, cols, ROWS, COLS);
            else
                sgemm_rows(a, lda, b0, b0, kc, k0, bias, residual, c, ldc, m, j0, cols, ROWS, 16);
        }
    }
}

void ek_pack_f32_panels(const float *w, int32_t n, int32_t k, float *out) {
    for (int32_t j0 = 0; j0 < n; j0 += 16) {
        const int32_t cols = n - j0 < 16 ? n - j0 : 16;
        for (int32_t k0 = 0; k0 < k; k0 += SG_KC)
            sgemm_pack16(w, k, j0, cols, k0, k - k0 < SG_KC ? k - k0 : SG_KC, out + (int64_t)(j0 / 16) * k * 16 + (int64_t)k0 * 16);
    }
}

// Tile shapes (rows x columns): the accumulators take 12 of SSE2's and AVX2's 16 registers, 16 of
// AVX-512's 32 (two panel loads a K step for eight broadcasts), 24 of NEON's 32.
#if defined(__aarch64__)
#define SG_MR_BASE 6   // 16 columns = 4 q registers
#else
#define SG_MR_BASE 3   // SSE2: 4 xmm a row
#endif
#define SG_NR_BASE 16
#define SG_MR_AVX2 6
#define SG_NR_AVX2 16
#define SG_MR_AVX512 8  // 2 zmm a row (32 registers)
#define SG_NR_AVX512 32

// ek_outliers_add: row by row, one outlier input at a time over the columns (j in order, as the
// scalar twin); contraction off so that the AVX2 / AVX-512 builds of this body round as it does.
ALWAYS_INLINE void outliers_body(const float *x, int64_t ldx, const int32_t *index, const float *restrict w, int64_t ldw,
                                 int32_t count, float *restrict y, int64_t ldy, int32_t m, int32_t c0, int32_t c1) {
#pragma clang fp contract(off)
    for (int32_t r = 0; r < m; r++) {
        float *restrict yr = y + (int64_t)r * ldy;
        const float *xr = x + (int64_t)r * ldx;
        for (int32_t j = 0; j < count; j++) {
            const float a = xr[index[j]];
            const float *restrict wj = w + (int64_t)j * ldw;
            for (int32_t c = c0; c < c1; c++) yr[c] += a * wj[c];
        }
    }
}

static void outliers_base(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw, int32_t count,
                          float *y, int64_t ldy, int32_t m, int32_t c0, int32_t c1) {
    outliers_body(x, ldx, index, w, ldw, count, y, ldy, m, c0, c1);
}

static void sgemm_base(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias, const float *residual,
                       float *c, int64_t ldc, int32_t m, int32_t k, int32_t n0, int32_t n1) {
    sgemm_body(a, lda, w, ldw, bias, residual, c, ldc, m, k, n0, n1, SG_MR_BASE, SG_NR_BASE);
}
static void sgemm_packed_base(const float *a, int64_t lda, const float *wp, const float *bias, const float *residual,
                              float *c, int64_t ldc, int32_t m, int32_t k, int32_t n0, int32_t n1) {
    sgemm_packed_body(a, lda, wp, bias, residual, c, ldc, m, k, n0, n1, SG_MR_BASE, SG_NR_BASE);
}

// One embedding row (ek_embed_row): plain element-wise loops the compiler vectorises.
ALWAYS_INLINE void embed_body(const int8_t *word8, float word_scale, const float *word32, const float *pos,
                              const float *typ, float *out, int32_t n) {
#pragma clang fp contract(off)  // the same roundings as the Swift loop this replaced: no fused multiply-add
    if (word8)
        for (int32_t i = 0; i < n; i++) out[i] = (float)word8[i] * word_scale + pos[i] + typ[i];
    else
        for (int32_t i = 0; i < n; i++) out[i] = word32[i] + pos[i] + typ[i];
}

static void gelu_base(float *x, int64_t n) { gelu_body(x, n); }
static void embed_base(const int8_t *w8, float ws, const float *w32, const float *pos, const float *typ, float *out,
                       int32_t n) {
    embed_body(w8, ws, w32, pos, typ, out, n);
}
static void layernorm_base(float *row, int32_t n, const float *gamma, const float *beta, float eps) {
    layernorm_row(row, n, gamma, beta, eps);
}
static void attention_base(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d,
                           float scale, const float *mask, float *kt, float *scores, float *out, int64_t ldo) {
    attention_body(q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo);
}

#if defined(__x86_64__)
#define AVX2 EK_AVX2
AVX2 static void gelu_avx2(float *x, int64_t n) { gelu_body(x, n); }
AVX2 static void embed_avx2(const int8_t *w8, float ws, const float *w32, const float *pos, const float *typ, float *out,
                            int32_t n) {
    embed_body(w8, ws, w32, pos, typ, out, n);
}
AVX2 static void layernorm_avx2(float *row, int32_t n, const float *gamma, const float *beta, float eps) {
    layernorm_row(row, n, gamma, beta, eps);
}
AVX2 static void sgemm_avx2(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                            const float *residual, float *c, int64_t ldc, int32_t m, int32_t k, int32_t n0, int32_t n1) {
    sgemm_body(a, lda, w, ldw, bias, residual, c, ldc, m, k, n0, n1, SG_MR_AVX2, SG_NR_AVX2);
}
AVX2 static void sgemm_packed_avx2(const float *a, int64_t lda, const float *wp, const float *bias,
                                   const float *residual, float *c, int64_t ldc, int32_t m, int32_t k, int32_t n0,
                                   int32_t n1) {
    sgemm_packed_body(a, lda, wp, bias, residual, c, ldc, m, k, n0, n1, SG_MR_AVX2, SG_NR_AVX2);
}
AVX2 static void outliers_avx2(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw,
                               int32_t count, float *y, int64_t ldy, int32_t m, int32_t c0, int32_t c1) {
    outliers_body(x, ldx, index, w, ldw, count, y, ldy, m, c0, c1);
}
AVX2 static void attention_avx2(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d,
                                float scale, const float *mask, float *kt, float *scores, float *out, int64_t ldo) {
    attention_body(q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo);
}
#define AVX512 EK_AVX512
AVX512 static void sgemm_avx512(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                                const float *residual, float *c, int64_t ldc, int32_t m, int32_t k, int32_t n0, int32_t n1) {
    sgemm_body(a, lda, w, ldw, bias, residual, c, ldc, m, k, n0, n1, SG_MR_AVX512, SG_NR_AVX512);
}
AVX512 static void sgemm_packed_avx512(const float *a, int64_t lda, const float *wp, const float *bias,
                                       const float *residual, float *c, int64_t ldc, int32_t m, int32_t k, int32_t n0,
                                       int32_t n1) {
    sgemm_packed_body(a, lda, wp, bias, residual, c, ldc, m, k, n0, n1, SG_MR_AVX512, SG_NR_AVX512);
}
AVX512 static void outliers_avx512(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw,
                                   int32_t count, float *y, int64_t ldy, int32_t m, int32_t c0, int32_t c1) {
    outliers_body(x, ldx, index, w, ldw, count, y, ldy, m, c0, c1);
}
AVX512 static void attention_avx512(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d,
                                    float scale, const float *mask, float *kt, float *scores, float *out, int64_t ldo) {
    attention_body(q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo);
}
static int vector_level;
static pthread_once_t vector_level_once = PTHREAD_ONCE_INIT;
static void find_vector_level(void) {
    const ek_kernel *k512 = ek_kernel_named("avx512vnni"), *k2 = ek_kernel_named("avx2");
    vector_level = (k512 && ek_kernel_supported(k512)) ? 2 : (k2 && ek_kernel_supported(k2)) ? 1 : 0;
}
int ek_vector_level(void) {
    pthread_once(&vector_level_once, find_vector_level);
    return vector_level;
}
#elif defined(__aarch64__)
int ek_vector_level(void) { return 1; }  // NEON is part of ARMv8-A
#else
int ek_vector_level(void) { return 0; }
#endif

// A requested level, capped at what this CPU runs.
static inline int32_t cap(int32_t level) {
    const int32_t v = ek_vector_level();
    return level < v ? level : v;
}

void ek_embed_row(const int8_t *word8, float word_scale, const float *word32, const float *pos, const float *typ,
                  float *out, int32_t n) {
    ek_embed_row_at(2, word8, word_scale, word32, pos, typ, out, n);
}

void ek_embed_row_at(int32_t level, const int8_t *word8, float word_scale, const float *word32, const float *pos,
                     const float *typ, float *out, int32_t n) {
    (void)level;
#if defined(__x86_64__)
    if (cap(level) >= 1) {  // AVX2 is wide enough for a 384-float row
        embed_avx2(word8, word_scale, word32, pos, typ, out, n);
        return;
    }
#endif
    embed_base(word8, word_scale, word32, pos, typ, out, n);
}

void ek_gelu(float *x, int64_t n) { ek_gelu_at(2, x, n); }

void ek_gelu_at(int32_t level, float *x, int64_t n) {
    (void)level;
#if defined(__x86_64__)
    switch (cap(level)) {
    case 2: ek_gelu_table_avx512(x, n); return;
    case 1: gelu_avx2(x, n); return;
    default: break;
    }
#elif defined(__aarch64__)
    if (cap(level) >= 1) { ek_gelu_neon(x, n); return; }
#endif
    gelu_base(x, n);
}

void ek_attention_head(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d, float scale,
                       const float *mask, float *kt, float *scores, float *out, int64_t ldo) {
    ek_attention_head_at(2, q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo);
}

void ek_attention_head_at(int32_t level, const float *q, const float *k, const float *v, int64_t ld, int32_t n,
                          int32_t d, float scale, const float *mask, float *kt, float *scores, float *out, int64_t ldo) {
    (void)level;
#if defined(__x86_64__)
    switch (cap(level)) {
    case 2: attention_avx512(q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo); return;
    case 1: attention_avx2(q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo); return;
    default: break;
    }
#endif
    attention_base(q, k, v, ld, n, d, scale, mask, kt, scores, out, ldo);
}

void ek_sgemm_nt(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                 const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k,
                 int32_t n_begin, int32_t n_end) {
    ek_sgemm_nt_at(2, a, lda, w, ldw, bias, residual, c, ldc, m, n, k, n_begin, n_end);
}

void ek_sgemm_nt_at(int32_t level, const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                    const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k,
                    int32_t n_begin, int32_t n_end) {
    (void)n;
    (void)level;
#if defined(__x86_64__)
    switch (cap(level)) {
    case 2: sgemm_avx512(a, lda, w, ldw, bias, residual, c, ldc, m, k, n_begin, n_end); return;
    case 1: sgemm_avx2(a, lda, w, ldw, bias, residual, c, ldc, m, k, n_begin, n_end); return;
    default: break;
    }
#endif
    sgemm_base(a, lda, w, ldw, bias, residual, c, ldc, m, k, n_begin, n_end);
}

void ek_sgemm_packed_at(int32_t level, const float *a, int64_t lda, const float *wp, const float *bias,
                        const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k, int32_t n_begin,
                        int32_t n_end) {
    (void)n;
    (void)level;
#if defined(__x86_64__)
    switch (cap(level)) {
    case 2: sgemm_packed_avx512(a, lda, wp, bias, residual, c, ldc, m, k, n_begin, n_end); return;
    case 1: sgemm_packed_avx2(a, lda, wp, bias, residual, c, ldc, m, k, n_begin, n_end); return;
    default: break;
    }
#endif
    sgemm_packed_base(a, lda, wp, bias, residual, c, ldc, m, k, n_begin, n_end);
}

void ek_outliers_add(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw, int32_t count,
                     float *y, int64_t ldy, int32_t m, int32_t c_begin, int32_t c_end) {
    ek_outliers_add_at(2, x, ldx, index, w, ldw, count, y, ldy, m, c_begin, c_end);
}

void ek_outliers_add_at(int32_t level, const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw,
                        int32_t count, float *y, int64_t ldy, int32_t m, int32_t c_begin, int32_t c_end) {
    (void)level;
#if defined(__x86_64__)
    switch (cap(level)) {
    case 2: outliers_avx512(x, ldx, index, w, ldw, count, y, ldy, m, c_begin, c_end); return;
    case 1: outliers_avx2(x, ldx, index, w, ldw, count, y, ldy, m, c_begin, c_end); return;
    default: break;
    }
#endif
    outliers_base(x, ldx, index, w, ldw, count, y, ldy, m, c_begin, c_end);
}

float ek_exp_approx(float x) { return exp_poly(x); }

typedef void (*layernorm_fn)(float *, int32_t, const float *, const float *, float);
static layernorm_fn layernorm_path(int32_t level) {
    (void)level;
#if defined(__x86_64__)
    switch (cap(level)) {
    case 1: return layernorm_avx2;
    default: break;
    }
#endif
    return layernorm_base;
}

// Row r of n values into `to` (nothing when to is NULL).
static inline void quantize_row(int32_t level, const float *row, int64_t ld, int32_t r, int32_t n,
                                const ek_quantize_to *to) {
    if (to)
        ek_quantize_rows_at(level, row, ld, 1, n, to->kp, to->sm, to->q + (int64_t)r * to->ldq, to->ldq, to->scales + r,
                         to->mins + r, to->unsigned_a);
}

// Row by row, so each row is quantised while it is still in L1.
void ek_layernorm_quantize(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                           float eps, const ek_quantize_to *to) {
    ek_layernorm_quantize_at(2, x, ld, m, n, gamma, beta, eps, to);
}

void ek_layernorm_quantize_at(int32_t level, float *x, int64_t ld, int32_t m, int32_t n, const float *gamma,
                              const float *beta, float eps, const ek_quantize_to *to) {
#if defined(__x86_64__)
    if (cap(level) == 2) {  // sixteen rows at a time, the range taken in the normalising pass
        ek_layernorm_rows_avx512(x, ld, m, n, gamma, beta, eps, to);
        return;
    }
#elif defined(__aarch64__)
    if (cap(level) >= 1) {  // the range taken in the normalising pass
        ek_layernorm_rows_neon(x, ld, m, n, gamma, beta, eps, to);
        return;
    }
#endif
    const layernorm_fn ln = layernorm_path(level);
    for (int32_t r = 0; r < m; r++) {
        float *row = x + (int64_t)r * ld;
        ln(row, n, gamma, beta, eps);
        quantize_row(level, row, ld, r, n, to);
    }
}

void ek_layernorm(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta, float eps) {
    ek_layernorm_quantize(x, ld, m, n, gamma, beta, eps, NULL);
}

void ek_gelu_quantize(float *x, int64_t ld, int32_t m, int32_t n, const ek_quantize_to *to) {
    ek_gelu_quantize_at(2, x, ld, m, n, to);
}

void ek_gelu_quantize_at(int32_t level, float *x, int64_t ld, int32_t m, int32_t n, const ek_quantize_to *to) {
#if defined(__x86_64__)
    if (to && cap(level) == 2) {  // the row's range taken in the GELU pass: one pass less
        for (int32_t r = 0; r < m; r++) {
            float *row = x + (int64_t)r * ld, lo, hi;
            ek_gelu_range_avx512(row, n, to->sm, &lo, &hi);
            ek_quantize_row_range_avx512(row, n, to->kp, to->sm, lo, hi, to->q + (int64_t)r * to->ldq, to->scales + r,
                                         to->mins + r, to->unsigned_a);
        }
        return;
    }
#elif defined(__aarch64__)
    if (cap(level) >= 1) {  // the range taken in the GELU pass
        ek_gelu_rows_neon(x, ld, m, n, to);
        return;
    }
#endif
    for (int32_t r = 0; r < m; r++) {
        float *row = x + (int64_t)r * ld;
        ek_gelu_at(level, row, n);
        quantize_row(level, row, ld, r, n, to);
    }
}
