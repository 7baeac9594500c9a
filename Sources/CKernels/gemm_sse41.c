// SSE4.1 int8 GEMM, exact, for x86 CPUs without AVX2 (Celeron J4125 / N5105: Goldmont Plus and
// Tremont have SSE4.2 and no AVX): sign-extend to int16 (pmovsxbw) and multiply-add pairs into
// int32 (pmaddwd), as the AVX2 path does at half the width. Reads the same packed weights.
// - a block is 6 rows x 4 columns (a quarter panel): 12 accumulators, 2 sign-extended weight
//   vectors and 1 broadcast = 15 of the 16 xmm registers; 2 pmovsxbw per 12 pmaddwd;
// - the block's activation rows are sign-extended to int16 once per call into a stack buffer
//   interleaved by groups of 4 k ([kp/4][6][4]), so each broadcast is one load (movddup);
// - panels are taken in chunks of about 256 KiB of weights, which stay in L2 across row blocks.
// These CPUs have no FMA instruction, and libm's fmaf there is a software routine with rounding-
// mode switches: the epilogue computes the contract's two fused multiply-adds exactly in double
// instead (fma4 below), four outputs at a time, bitwise what fmaf returns.
#if defined(__x86_64__)
#include <immintrin.h>
#include "epilogue.h"

#define TGT __attribute__((target("sse4.1")))
#define INLINE static inline __attribute__((always_inline))
#define MR 6                // rows a block
#define KMAX 4096           // longest padded K whose rows are widened ahead: MR * KMAX * 2 = 48 KiB of stack
#define CHUNK_BYTES 262144  // packed weight bytes of the panels one pass over the rows takes

// Correctly rounded fmaf on four lanes without an FMA unit. In double, x * y is exact (24 + 24
// bits <= 53) and TwoSum gives s = RN(x * y + z) with its exact error e. Rounding s to odd
// (when e != 0 and s's last bit is 0, one ulp toward e) and then to float gives the correctly
// rounded float, as 53 >= 2 * 24 + 2; a plain RN to double then to float would round twice.
TGT INLINE __m128d fma_odd2(__m128d x, __m128d y, __m128d z) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
    const __m128d prod = _mm_mul_pd(x, y);
    const __m128d s = _mm_add_pd(prod, z);
    const __m128d zz = _mm_sub_pd(s, prod);  // TwoSum: e = (prod - (s - zz)) + (z - zz), exact
    const __m128d e = _mm_add_pd(_mm_sub_pd(prod, _mm_sub_pd(s, zz)), _mm_sub_pd(z, zz));
    const __m128i bits = _mm_castpd_si128(s), one = _mm_set1_epi64x(1);
    const __m128i inexact = _mm_castpd_si128(_mm_cmpneq_pd(e, _mm_setzero_pd()));
    const __m128i even = _mm_cmpeq_epi64(_mm_and_si128(bits, one), _mm_setzero_si128());
    // toward e: +1 on the bits when e and s have the same sign, else -1
    const __m128i opposite = _mm_srli_epi64(_mm_xor_si128(bits, _mm_castpd_si128(e)), 63);
    const __m128i step = _mm_sub_epi64(one, _mm_add_epi64(opposite, opposite));
    return _mm_castsi128_pd(_mm_add_epi64(bits, _mm_and_si128(step, _mm_and_si128(inexact, even))));
}

TGT INLINE __m128 fma4(__m128 x, __m128 y, __m128 z) {
    const __m128d lo = fma_odd2(_mm_cvtps_pd(x), _mm_cvtps_pd(y), _mm_cvtps_pd(z));
    const __m128d hi = fma_odd2(_mm_cvtps_pd(_mm_movehl_ps(x, x)), _mm_cvtps_pd(_mm_movehl_ps(y, y)),
                                _mm_cvtps_pd(_mm_movehl_ps(z, z)));
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

TGT void ek_fmaf4_sse41(const float *x, const float *y, const float *z, float *out) {
    _mm_storeu_ps(out, fma4(_mm_loadu_ps(x), _mm_loadu_ps(y), _mm_loadu_ps(z)));
}

// (a0..a3, a0..a3) from 4 int16 at p: one movddup, a load with no shuffle (compilers otherwise
// turn it into movq + pshufd, a shuffle-port uop a row and group).
TGT INLINE __m128i load_dup(const int16_t *p) {
    __m128d v;
    __asm__("movddup %1, %0" : "=x"(v) : "m"(*(const int64_t *)p));
    return _mm_castpd_si128(v);
}

// Sign-extends rows [m0, m0 + mr) of a (kp bytes each) to int16, interleaved: a16 [kp/4][MR][4].
TGT static void widen_rows(const ek_gemm_params *p, int32_t m0, int32_t mr, int16_t *a16) {
    const int32_t kp = p->kp;
    for (int32_t r = 0; r < mr; r++) {
        const int8_t *src = p->a + (int64_t)(m0 + r) * p->lda;  // [kp]
        int16_t *dst = a16 + r * 4;                            // group g at dst + g * MR * 4
        int32_t k = 0;
        for (; k + 8 <= kp; k += 8) {  // 2 groups: g in the low 64 bits, g + 1 in the high
            const __m128i w = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(src + k)));
            int16_t *d = dst + (k >> 2) * MR * 4;
            _mm_storel_epi64((__m128i *)d, w);
            _mm_storel_epi64((__m128i *)(d + MR * 4), _mm_unpackhi_epi64(w, w));
        }
        for (; k < kp; k++) dst[(k >> 2) * MR * 4 + (k & 3)] = src[k];
    }
}

// Rows [m0, m0 + mr) x the 4 columns of quarter q of `panel`. a16 [kp/4][MR][4] holds the rows
// widened (wide = 1), or they are read from p->a and widened in the loop (wide = 0, K > KMAX).
TGT INLINE void block(const ek_gemm_params *p, const int16_t *a16, const int wide, int32_t m0, const int mr,
                      int32_t panel, int q) {
    const int32_t nb = panel * EK_PANEL + q * 4;  // first column of the block
    if (nb >= p->n) return;
    const int32_t groups = p->kp >> 2;
    const int8_t *b = p->b + (int64_t)panel * groups * 64 + q * 16;  // [groups][16][4], this quarter at +0..15
    const int8_t *a = p->a + (int64_t)m0 * p->lda;                   // [mr][lda] when !wide
    __m128i acc[MR][2];  // [row][columns 0-1, 2-3]: int32 lanes (c, k0+k1), (c, k2+k3) per column
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm_setzero_si128();
    for (int32_t g = 0; g < groups; g++) {
        // 2 columns x 4 k as int16: (c0 k0..k3, c1 k0..k3)
        const __m128i b0 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b + (int64_t)g * 64)));
        const __m128i b1 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b + (int64_t)g * 64 + 8)));
        for (int r = 0; r < mr; r++) {
            __m128i av;  // (a k0..k3) x 2, int16
            if (wide) {
                av = load_dup(a16 + ((int64_t)g * MR + r) * 4);
            } else {
                const __m128i a4 = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(ek_load_i32(a + r * p->lda + g * 4)));
                av = _mm_unpacklo_epi64(a4, a4);
            }
            acc[r][0] = _mm_add_epi32(acc[r][0], _mm_madd_epi16(b0, av));
            acc[r][1] = _mm_add_epi32(acc[r][1], _mm_madd_epi16(b1, av));
        }
    }
    // Per column, once for the block: the contract's b_scale * colsum, bias, and 128 * colsum
    // (sum q * w + 128 * colsum = sum (q + 128) * w, exact in int32).
    const __m128i cs = _mm_loadu_si128((const __m128i *)(p->b_colsum + nb));
    const __m128 sb = _mm_loadu_ps(p->b_scale + nb);
    const __m128 wsum = _mm_mul_ps(sb, _mm_cvtepi32_ps(cs));
    const __m128 bias = p->bias ? _mm_loadu_ps(p->bias + nb) : _mm_set1_ps(-0.0f);
    const __m128i cs128 = _mm_slli_epi32(cs, 7);
    for (int r = 0; r < mr; r++) {
        const int32_t m = m0 + r;
        const __m128i sum = _mm_add_epi32(_mm_hadd_epi32(acc[r][0], acc[r][1]), cs128);  // columns nb..nb+3
        const __m128 off = fma4(_mm_set1_ps(p->a_min[m]), wsum, bias);
        __m128 v = fma4(_mm_cvtepi32_ps(sum), _mm_mul_ps(_mm_set1_ps(p->a_scale[m]), sb), off);
        if (p->n - nb >= 4) {
            if (p->residual) v = _mm_add_ps(v, _mm_loadu_ps(p->residual + (int64_t)m * p->ldc + nb));
            _mm_storeu_ps(p->c + (int64_t)m * p->ldc + nb, v);
        } else {
            float lanes[4];
            _mm_storeu_ps(lanes, v);
            ek_store_partial(p, m, nb, lanes, p->n - nb);
        }
    }
}

// Rows [m0, m0 + mr) x panels [p0, p1); mr a constant in each instantiation.
TGT INLINE void rows(const ek_gemm_params *p, const int16_t *a16, const int wide, int32_t m0, const int mr,
                     int32_t p0, int32_t p1) {
    for (int32_t panel = p0; panel < p1; panel++)
        for (int q = 0; q < 4; q++) block(p, a16, wide, m0, mr, panel, q);
}

TGT INLINE void all_rows(const ek_gemm_params *p, int16_t *a16, const int wide, int32_t p0, int32_t p1) {
    for (int32_t m0 = 0; m0 < p->m; m0 += MR) {
        const int32_t mr = p->m - m0 < MR ? p->m - m0 : MR;
        if (wide) widen_rows(p, m0, mr, a16);
        switch (mr) {
        case 1: rows(p, a16, wide, m0, 1, p0, p1); break;
        case 2: rows(p, a16, wide, m0, 2, p0, p1); break;
        case 3: rows(p, a16, wide, m0, 3, p0, p1); break;
        case 4: rows(p, a16, wide, m0, 4, p0, p1); break;
        case 5: rows(p, a16, wide, m0, 5, p0, p1); break;
        default: rows(p, a16, wide, m0, 6, p0, p1); break;
        }
    }
}

TGT void ek_gemm_sse41(const ek_gemm_params *p) {
    int16_t a16[KMAX * MR] __attribute__((aligned(16)));  // [kp/4][MR][4] widened rows of one block
    const int64_t panel_bytes = (int64_t)p->kp * EK_PANEL;
    int32_t chunk = (int32_t)(CHUNK_BYTES / (panel_bytes > 0 ? panel_bytes : 1));
    if (chunk < 1) chunk = 1;
    for (int32_t p0 = p->panel_begin; p0 < p->panel_end; p0 += chunk) {
        const int32_t p1 = p->panel_end - p0 < chunk ? p->panel_end : p0 + chunk;
        if (p->kp <= KMAX) all_rows(p, a16, 1, p0, p1);
        else all_rows(p, a16, 0, p0, p1);
    }
}
#endif
