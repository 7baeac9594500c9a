// ARMv8.0 NEON int8 GEMM (Cortex-A53 / A72): SMULL + SMLAL over two K groups into int16, then
// SADALP into int32. Two int8 products in [-127, 127] sum to at most 32258: no int16 overflow.
// 2 rows x 16 columns a block.
#if defined(__aarch64__)
#include <arm_neon.h>
#include "epilogue.h"

#define MR 2

static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0,
                                                        const int mr, int32_t panel) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b0 = p->b + (int64_t)panel * groups * 64;  // [groups][16][4]
    const int8_t *a0 = p->a + (int64_t)m0 * p->lda;
    int32x4_t acc[MR][8];  // [row][chunk q: lo half (cols 4q, 4q+1), hi half (4q+2, 4q+3)]
    for (int r = 0; r < mr; r++)
        for (int q = 0; q < 8; q++) acc[r][q] = vdupq_n_s32(0);
    int32_t g = 0;
    for (; g + 2 <= groups; g += 2) {
        int8x16_t av0[MR], av1[MR];
        for (int r = 0; r < mr; r++) {
            av0[r] = vreinterpretq_s8_s32(vdupq_n_s32(ek_load_i32(a0 + r * p->lda + g * 4)));
            av1[r] = vreinterpretq_s8_s32(vdupq_n_s32(ek_load_i32(a0 + r * p->lda + g * 4 + 4)));
        }
        for (int q = 0; q < 4; q++) {
            const int8x16_t bg0 = vld1q_s8(b0 + (int64_t)g * 64 + q * 16);
            const int8x16_t bg1 = vld1q_s8(b0 + (int64_t)(g + 1) * 64 + q * 16);
            for (int r = 0; r < mr; r++) {
                int16x8_t lo = vmull_s8(vget_low_s8(bg0), vget_low_s8(av0[r]));
                lo = vmlal_s8(lo, vget_low_s8(bg1), vget_low_s8(av1[r]));
                int16x8_t hi = vmull_high_s8(bg0, av0[r]);
                hi = vmlal_high_s8(hi, bg1, av1[r]);
                acc[r][2 * q] = vpadalq_s16(acc[r][2 * q], lo);
                acc[r][2 * q + 1] = vpadalq_s16(acc[r][2 * q + 1], hi);
            }
        }
    }
    if (g < groups) {
        for (int q = 0; q < 4; q++) {
            const int8x16_t bg0 = vld1q_s8(b0 + (int64_t)g * 64 + q * 16);
            for (int r = 0; r < mr; r++) {
                const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(ek_load_i32(a0 + r * p->lda + g * 4)));
                acc[r][2 * q] = vpadalq_s16(acc[r][2 * q], vmull_s8(vget_low_s8(bg0), vget_low_s8(av)));
                acc[r][2 * q + 1] = vpadalq_s16(acc[r][2 * q + 1], vmull_high_s8(bg0, av));
            }
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
            // cols nb..nb+3: sum q * w + 128 * colsum = sum (q + 128) * w
            const int32x4_t sums = vaddq_s32(vpaddq_s32(acc[r][2 * q], acc[r][2 * q + 1]), vshlq_n_s32(cs, 7));
            const float32x4_t bias = p->bias ? vld1q_f32(p->bias + nb) : vdupq_n_f32(-0.0f);
            const float32x4_t off = vfmaq_f32(bias, vdupq_n_f32(p->a_min[m]), vmulq_f32(sb, vcvtq_f32_s32(cs)));
            float32x4_t v = vfmaq_f32(off, vcvtq_f32_s32(sums), vmulq_f32(sa, sb));
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

void ek_gemm_neon(const ek_gemm_params *p) {
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        int32_t m0 = 0;
        for (; m0 + 2 <= p->m; m0 += 2) block(p, m0, 2, panel);
        if (m0 < p->m) block(p, m0, 1, panel);
    }
}
#endif
