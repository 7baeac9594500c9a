// AVX2 int8 GEMM, exact: sign-extend to int16 (vpmovsxbw) and multiply-add pairs into int32
// (vpmaddwd). vpmaddubsw would saturate int16 on full-range u8 x s8 and is not used.
// 2 rows x 16 columns a block; each accumulator holds two partial sums per column.
#if defined(__x86_64__)
#include <immintrin.h>
#include "epilogue.h"

#define TGT __attribute__((target("avx2,fma")))
#define MR 2

TGT static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0,
                                                            const int mr, int32_t panel) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b0 = p->b + (int64_t)panel * groups * 64;  // [groups][16][4]
    const int8_t *a0 = p->a + (int64_t)m0 * p->lda;
    __m256i acc[MR][4];  // [row][chunk of 4 columns]: lanes (c, k01), (c, k23) per column
    for (int r = 0; r < mr; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = _mm256_setzero_si256();
    for (int32_t g = 0; g < groups; g++) {
        __m256i bw[4];
        for (int q = 0; q < 4; q++)
            bw[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + (int64_t)g * 64 + q * 16)));
        for (int r = 0; r < mr; r++) {
            const __m128i a8 = _mm_cvtsi32_si128(ek_load_i32(a0 + r * p->lda + g * 4));
            const __m256i aw = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(a8));  // (a0..a3) x 4
            for (int q = 0; q < 4; q++) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(bw[q], aw));
        }
    }
    const int32_t n0 = panel * 16;
    for (int r = 0; r < mr; r++) {
        const int32_t m = m0 + r;
        // hadd pairs: [c0 c1 c4 c5 | c2 c3 c6 c7] -> permute to c0..c7
        __m256i lo = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xD8);
        __m256i hi = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][2], acc[r][3]), 0xD8);
        __m256i sums[2] = {lo, hi};
        for (int h = 0; h < 2; h++) {
            const int32_t nb = n0 + h * 8;
            if (nb >= p->n) break;
            const __m256i cs = _mm256_loadu_si256((const __m256i *)(p->b_colsum + nb));
            const __m256 sb = _mm256_loadu_ps(p->b_scale + nb);
            // sum q * w + 128 * colsum = sum (q + 128) * w
            const __m256 bias = p->bias ? _mm256_loadu_ps(p->bias + nb) : _mm256_set1_ps(-0.0f);
            const __m256 off = _mm256_fmadd_ps(_mm256_set1_ps(p->a_min[m]), _mm256_mul_ps(sb, _mm256_cvtepi32_ps(cs)), bias);
            __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(sums[h], _mm256_slli_epi32(cs, 7)));
            v = _mm256_fmadd_ps(v, _mm256_mul_ps(_mm256_set1_ps(p->a_scale[m]), sb), off);
            if (p->n - nb >= 8) {
                if (p->residual) v = _mm256_add_ps(v, _mm256_loadu_ps(p->residual + (int64_t)m * p->ldc + nb));
                _mm256_storeu_ps(p->c + (int64_t)m * p->ldc + nb, v);
            } else {
                float lanes[8];
                _mm256_storeu_ps(lanes, v);
                ek_store_partial(p, m, nb, lanes, p->n - nb);
            }
        }
    }
}

TGT void ek_gemm_avx2(const ek_gemm_params *p) {
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        int32_t m0 = 0;
        for (; m0 + 2 <= p->m; m0 += 2) block(p, m0, 2, panel);
        if (m0 < p->m) block(p, m0, 1, panel);
    }
}
#endif
