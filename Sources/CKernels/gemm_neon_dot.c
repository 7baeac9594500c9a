// ARMv8.2 NEON dotprod int8 GEMM (Cortex-A76 / Pi 5): SDOT, 4 rows x 16 columns a block.
#if defined(__aarch64__)
#include <arm_neon.h>
#include "epilogue.h"

#define TGT __attribute__((target("arch=armv8.2-a+dotprod")))
#define MR 4

TGT static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0,
                                                            const int mr, int32_t panel) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b0 = p->b + (int64_t)panel * groups * 64;  // [groups][16][4]
    const int8_t *a0 = p->a + (int64_t)m0 * p->lda;
    int32x4_t acc[MR][4];  // [row][cols 4q..4q+3]
    for (int r = 0; r < mr; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_s32(0);
    for (int32_t g = 0; g < groups; g++) {
        int8x16_t bv[4];
        for (int q = 0; q < 4; q++) bv[q] = vld1q_s8(b0 + (int64_t)g * 64 + q * 16);
        for (int r = 0; r < mr; r++) {
            const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(ek_load_i32(a0 + r * p->lda + g * 4)));
            for (int q = 0; q < 4; q++) acc[r][q] = vdotq_s32(acc[r][q], bv[q], av);
        }
    }
    const int32_t n0 = panel * 16;
    for (int r = 0; r < mr; r++) {
        const int32_t m = m0 + r;
        const float32x4_t sa = vdupq_n_f32(p->a_scale[m]);
        for (int q = 0; q < 4; q++) {
            const int32_t nb = n0 + q * 4;
            if (nb >= p->n) break;
            const int32x4_t cs = vld1q_s32(p->b_colsum + nb);
            const float32x4_t sb = vld1q_f32(p->b_scale + nb);
            // sum q * w + 128 * colsum = sum (q + 128) * w
            const float32x4_t bias = p->bias ? vld1q_f32(p->bias + nb) : vdupq_n_f32(-0.0f);
            const float32x4_t off = vfmaq_f32(bias, vdupq_n_f32(p->a_min[m]), vmulq_f32(sb, vcvtq_f32_s32(cs)));
            float32x4_t v = vfmaq_f32(off, vcvtq_f32_s32(vaddq_s32(acc[r][q], vshlq_n_s32(cs, 7))), vmulq_f32(sa, sb));
            if (p->n - nb >= 4) {
                if (p->residual) v = vaddq_f32(v, vld1q_f32(p->residual + (int64_t)m * p->ldc + nb));
                vst1q_f32(p->c + (int64_t)m * p->ldc + nb, v);
            } else {
                float lanes[4];
                vst1q_f32(lanes, v);
                ek_store_partial(p, m, nb, lanes, p->n - nb);
            }
        }
    }
}

TGT void ek_gemm_neondot(const ek_gemm_params *p) {
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        for (int32_t m0 = 0; m0 < p->m; m0 += MR) {
            switch ((p->m - m0 >= MR) ? MR : p->m - m0) {
            case 1: block(p, m0, 1, panel); break;
            case 2: block(p, m0, 2, panel); break;
            case 3: block(p, m0, 3, panel); break;
            default: block(p, m0, 4, panel); break;
            }
        }
    }
}
#endif
