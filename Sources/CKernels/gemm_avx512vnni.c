// AVX-512 VNNI int8 GEMM: vpdpbusd (u8 activations x s8 weights), 8 rows x 32 columns a block.
#if defined(__x86_64__)
#include <immintrin.h>
#include "epilogue.h"

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MR 8

TGT static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0, const int mr,
                                                            int32_t panel, const int npan, const int has_res) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b0 = p->b + (int64_t)panel * groups * 64;  // [npan][groups][16][4]
    const int8_t *a0 = p->a + (int64_t)m0 * p->lda;          // [mr][lda]
    const int64_t lda = p->lda;
    __m512i acc[MR][2];
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < npan; j++) acc[r][j] = _mm512_setzero_si512();
    // the next panel pair's weights, two lines a step, into L2 ahead of use (weights stream from
    // L3 or memory once per forward; harmless past the end: prefetches do not fault)
    const int8_t *bn = b0 + (int64_t)2 * groups * 64;
    for (int32_t g = 0; g < groups; g++) {
        __m512i bv[2];
        _mm_prefetch((const char *)(bn + (int64_t)g * 128), _MM_HINT_T1);
        _mm_prefetch((const char *)(bn + (int64_t)g * 128 + 64), _MM_HINT_T1);
        for (int j = 0; j < npan; j++) bv[j] = _mm512_loadu_si512(b0 + ((int64_t)j * groups + g) * 64);
        for (int r = 0; r < mr; r++) {
            const __m512i av = _mm512_set1_epi32(ek_load_i32(a0 + r * lda + g * 4));
            for (int j = 0; j < npan; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, bv[j]);
        }
    }
    // Epilogue, unrolled with everything in registers. A missing bias is -0.0f (see ckernels.h).
    const float *as = p->a_scale + m0, *am = p->a_min + m0;
    const int64_t ldc = p->ldc;
    float *c = p->c + (int64_t)m0 * ldc;
    const float *res = has_res ? p->residual + (int64_t)m0 * ldc : NULL;
#pragma clang loop unroll(full)
    for (int j = 0; j < npan; j++) {
        // no early exit: a panel past n gets an empty mask (an exit would keep acc in memory)
        const int32_t n0 = (panel + j) * 16, cols = p->n - n0;
        const __mmask16 mask = cols >= 16 ? (__mmask16)0xFFFF : cols <= 0 ? (__mmask16)0 : (__mmask16)((1u << cols) - 1);
        const __m512 sb = _mm512_maskz_loadu_ps(mask, p->b_scale + n0);
        const __m512 wsum = _mm512_mul_ps(sb, _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(mask, p->b_colsum + n0)));
        const __m512 bias = p->bias ? _mm512_maskz_loadu_ps(mask, p->bias + n0) : _mm512_set1_ps(-0.0f);
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            // acc = sum (q + 128) * w: exactly what vpdpbusd sums over the uint8 activations
            const __m512 off = _mm512_fmadd_ps(_mm512_set1_ps(am[r]), wsum, bias);
            __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][j]), _mm512_mul_ps(_mm512_set1_ps(as[r]), sb), off);
            if (has_res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, res + r * ldc + n0));
            _mm512_mask_storeu_ps(c + r * ldc + n0, mask, v);
        }
    }
}

TGT static void rows(const ek_gemm_params *p, int32_t m0, int mr, int32_t panel, int npan) {
#define CASE(R) case R:                                                                  \
        if (p->residual) {                                                               \
            if (npan == 2) block(p, m0, R, panel, 2, 1); else block(p, m0, R, panel, 1, 1); \
        } else {                                                                         \
            if (npan == 2) block(p, m0, R, panel, 2, 0); else block(p, m0, R, panel, 1, 0); \
        }                                                                                \
        break;
    switch (mr) { CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) default: break; }
#undef CASE
}

TGT void ek_gemm_avx512vnni(const ek_gemm_params *p) {
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel += 2) {
        const int npan = (p->panel_end - panel >= 2) ? 2 : 1;
        for (int32_t m0 = 0; m0 < p->m; m0 += MR) {
            const int mr = (p->m - m0 >= MR) ? MR : p->m - m0;
            rows(p, m0, mr, panel, npan);
        }
    }
}
// The int8 peak of this core for the avx512vnni path (KernelBench): 12 independent vpdpbusd zmm
// chains on registers only (64 multiply-adds each), the loop in asm so that its layout does not
// depend on the compiler. Zen 4 retires one a cycle, Intel's server cores two.
TGT int64_t ek_avx512vnni_peak(int64_t iterations) {
    if (iterations <= 0) return 0;
    int64_t n = iterations;
#define VNNI_PEAK(i) "vpdpbusd %%zmm12, %%zmm13, %%zmm" #i "\n\t"
    __asm__ volatile("vpxord %%zmm12, %%zmm12, %%zmm12\n\tvpxord %%zmm13, %%zmm13, %%zmm13\n\t"
                     ".p2align 6\n"
                     "1:\n\t"
                     VNNI_PEAK(0) VNNI_PEAK(1) VNNI_PEAK(2) VNNI_PEAK(3) VNNI_PEAK(4) VNNI_PEAK(5)
                     VNNI_PEAK(6) VNNI_PEAK(7) VNNI_PEAK(8) VNNI_PEAK(9) VNNI_PEAK(10) VNNI_PEAK(11)
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm12", "xmm13", "cc");
#undef VNNI_PEAK
    return iterations * 12 * 64;
}
#else
#include <stdint.h>
int64_t ek_avx512vnni_peak(int64_t iterations);
int64_t ek_avx512vnni_peak(int64_t iterations) { (void)iterations; return 0; }
#endif

