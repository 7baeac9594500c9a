// AVX-VNNI int8 GEMM (256-bit vpdpbusd, as on Alder Lake / N100): 6 rows x 16 columns a block.
#if defined(__x86_64__)
#include <immintrin.h>
#include "epilogue.h"

#ifdef EK_TEST_AVXVNNI_AS_EVEX
// Test builds only (Tools/test.sh): the same kernel with the EVEX form of the instruction, so a
// CPU with AVX-512 VNNI but no AVX-VNNI (this project's machine) can check its logic.
#define TGT __attribute__((target("avx2,fma,avx512vl,avx512vnni")))
#define DPBUSD _mm256_dpbusd_epi32
#else
#define TGT __attribute__((target("avx2,fma,avxvnni")))
#define DPBUSD _mm256_dpbusd_avx_epi32
#endif
#define MR 6

TGT static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0,
                                                            const int mr, int32_t panel) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b0 = p->b + (int64_t)panel * groups * 64;  // [groups][16][4]
    const int8_t *a0 = p->a + (int64_t)m0 * p->lda;
    __m256i acc[MR][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int32_t g = 0; g < groups; g++) {
        const __m256i blo = _mm256_loadu_si256((const __m256i *)(b0 + (int64_t)g * 64));       // cols 0..7
        const __m256i bhi = _mm256_loadu_si256((const __m256i *)(b0 + (int64_t)g * 64 + 32));  // cols 8..15
        for (int r = 0; r < mr; r++) {
            const __m256i av = _mm256_set1_epi32(ek_load_i32(a0 + r * p->lda + g * 4));
            acc[r][0] = DPBUSD(acc[r][0], av, blo);
            acc[r][1] = DPBUSD(acc[r][1], av, bhi);
        }
    }
    const int32_t n0 = panel * 16;
    for (int h = 0; h < 2; h++) {
        const int32_t nb = n0 + h * 8;
        if (nb >= p->n) break;
        const __m256 sb = _mm256_loadu_ps(p->b_scale + nb);
        const __m256 wsum = _mm256_mul_ps(sb, _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(p->b_colsum + nb))));
        const __m256 bias = p->bias ? _mm256_loadu_ps(p->bias + nb) : _mm256_set1_ps(-0.0f);
        for (int r = 0; r < mr; r++) {
            const int32_t m = m0 + r;
            const __m256 off = _mm256_fmadd_ps(_mm256_set1_ps(p->a_min[m]), wsum, bias);
            __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][h]), _mm256_mul_ps(_mm256_set1_ps(p->a_scale[m]), sb), off);
            if (p->n - nb >= 8) {
                float *c = p->c + (int64_t)m * p->ldc + nb;
                if (p->residual) v = _mm256_add_ps(v, _mm256_loadu_ps(p->residual + (int64_t)m * p->ldc + nb));
                _mm256_storeu_ps(c, v);
            } else {
                float lanes[8];
                _mm256_storeu_ps(lanes, v);
                ek_store_partial(p, m, nb, lanes, p->n - nb);
            }
        }
    }
}

TGT void ek_gemm_avxvnni(const ek_gemm_params *p) {
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        for (int32_t m0 = 0; m0 < p->m; m0 += MR) {
            switch ((p->m - m0 >= MR) ? MR : p->m - m0) {
            case 1: block(p, m0, 1, panel); break;
            case 2: block(p, m0, 2, panel); break;
            case 3: block(p, m0, 3, panel); break;
            case 4: block(p, m0, 4, panel); break;
            case 5: block(p, m0, 5, panel); break;
            default: block(p, m0, 6, panel); break;
            }
        }
    }
}
// The avxvnni path's peak (KernelBench): 12 independent vpdpbusd ymm chains on registers only
// (32 multiply-adds each), through the same intrinsic as the kernel.
TGT int64_t ek_avxvnni_peak(int64_t iterations) {
    __m256i acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_setzero_si256();
    __m256i a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(1);
    __asm__ volatile("" : "+x"(a), "+x"(b));
    for (int64_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = DPBUSD(acc[i], a, b);
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]), "+x"(acc[5]),
                         "+x"(acc[6]), "+x"(acc[7]), "+x"(acc[8]), "+x"(acc[9]), "+x"(acc[10]), "+x"(acc[11]));
    }
    return iterations > 0 ? iterations * 12 * 32 : 0;
}
#else
#include <stdint.h>
int64_t ek_avxvnni_peak(int64_t iterations);
int64_t ek_avxvnni_peak(int64_t iterations) { (void)iterations; return 0; }
#endif

