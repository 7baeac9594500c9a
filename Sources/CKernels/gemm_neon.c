// ARMv8.0 NEON int8 GEMM (Cortex-A53 / A72): SMULL + SMLAL over two K groups into int16, then
// SADALP into int32. Two int8 products in [-128, 127] x [-127, 127] sum to at most 32512: no int16
// overflow. 2 rows x 16 columns a block.
//
// Hot loop (per 2 K groups = 8 bytes of K): B is loaded as 8-byte halves (cols 4q, 4q+1 and
// 4q+2, 4q+3 of a group's [16][4] bytes), so every multiply is a plain SMULL/SMLAL on 64-bit
// operands (SMULL2 on a duplicated operand becomes EXT + SMULL in clang); each row's 4 A bytes of
// a group are broadcast to 8 by one load-and-replicate. 32 multiplies, 16 SADALPs, 8 pair loads
// of B and 4 of A an iteration; 16 accumulators + 4 A + B halves + int16 products fit the 32
// registers (no spills). The epilogue's per-column terms are computed once per panel.
#if defined(__aarch64__)
#include <arm_neon.h>
#include "epilogue.h"

#define MR 2

/// The per-column terms of the epilogue for one panel (16 columns, four vectors of 4).
typedef struct {
    int32x4_t cs128[4];  // 128 * colsum: sum (q + 128) * w = sum q * w + 128 * colsum
    float32x4_t sb[4];   // b_scale
    float32x4_t sbcs[4]; // b_scale * (float)colsum
    float32x4_t bias[4]; // bias, or -0.0f (the additive identity) without one
} panel_terms;

/// Out of line on purpose: the terms then live in memory, loaded where the epilogue needs them,
/// rather than held in 16 registers across the blocks (which costs moves around every block).
static __attribute__((noinline)) void terms(const int32_t *colsum, const float *scale, const float *bias,
                                           panel_terms *t) {
    for (int q = 0; q < 4; q++) {
        const int32x4_t cs = vld1q_s32(colsum + q * 4);  // [np]: whole panels are readable
        t->cs128[q] = vshlq_n_s32(cs, 7);
        t->sb[q] = vld1q_f32(scale + q * 4);
        t->sbcs[q] = vmulq_f32(t->sb[q], vcvtq_f32_s32(cs));
        t->bias[q] = bias ? vld1q_f32(bias + q * 4) : vdupq_n_f32(-0.0f);
    }
}

/// One row's 16 outputs from its 8 accumulators ([2q]: cols 4q, 4q+1; [2q + 1]: 4q+2, 4q+3; two
/// partial sums a column): the epilogue of ckernels.h.
static inline __attribute__((always_inline)) void store_row(const ek_gemm_params *p, int32_t m, int32_t n0,
                                                            const panel_terms *t, const int32x4_t *acc) {
    const float32x4_t sa = vdupq_n_f32(p->a_scale[m]), amin = vdupq_n_f32(p->a_min[m]);
    float32x4_t v[4];
    _Pragma("unroll") for (int q = 0; q < 4; q++) {
        const int32x4_t sums = vaddq_s32(vpaddq_s32(acc[2 * q], acc[2 * q + 1]), t->cs128[q]);
        const float32x4_t off = vfmaq_f32(t->bias[q], amin, t->sbcs[q]);
        v[q] = vfmaq_f32(off, vcvtq_f32_s32(sums), vmulq_f32(sa, t->sb[q]));
    }
    float *c = p->c + (int64_t)m * p->ldc + n0;
    if (p->n - n0 >= 16) {
        if (p->residual) {
            const float *res = p->residual + (int64_t)m * p->ldc + n0;  // may alias c: read first
            _Pragma("unroll") for (int q = 0; q < 4; q++) v[q] = vaddq_f32(v[q], vld1q_f32(res + q * 4));
        }
        _Pragma("unroll") for (int q = 0; q < 4; q++) vst1q_f32(c + q * 4, v[q]);
        return;
    }
    float lanes[16];  // the last panel: columns n0..n-1 only
    _Pragma("unroll") for (int q = 0; q < 4; q++) vst1q_f32(lanes + q * 4, v[q]);
    ek_store_partial(p, m, n0, lanes, p->n - n0);
}

/// Row r's 4 A bytes of group g, twice: [a0 a1 a2 a3 a0 a1 a2 a3].
static inline int8x8_t a_pair(const int8_t *a) { return vreinterpret_s8_s32(vdup_n_s32(ek_load_i32(a))); }

static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0, const int mr,
                                                        int32_t panel, const panel_terms *t) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b = p->b + (int64_t)panel * groups * 64;  // [groups][16][4]
    const int8_t *a[MR];                                    // [mr][kp]
    _Pragma("unroll") for (int r = 0; r < mr; r++) a[r] = p->a + (int64_t)(m0 + r) * p->lda;
    int32x4_t acc[MR][8];  // [row][chunk], see store_row
    _Pragma("unroll") for (int r = 0; r < mr; r++)
        _Pragma("unroll") for (int q = 0; q < 8; q++) acc[r][q] = vdupq_n_s32(0);
    int32_t g = 0;
    for (; g + 2 <= groups; g += 2, b += 128) {
        int8x8_t a0[MR], a1[MR];  // groups g and g + 1
        _Pragma("unroll") for (int r = 0; r < mr; r++) {
            a0[r] = a_pair(a[r] + g * 4);
            a1[r] = a_pair(a[r] + g * 4 + 4);
        }
        _Pragma("unroll") for (int q = 0; q < 4; q++) {
            const int8x8_t b0l = vld1_s8(b + q * 16), b0h = vld1_s8(b + q * 16 + 8);
            const int8x8_t b1l = vld1_s8(b + 64 + q * 16), b1h = vld1_s8(b + 64 + q * 16 + 8);
            int16x8_t lo[MR], hi[MR];
            _Pragma("unroll") for (int r = 0; r < mr; r++) {
                lo[r] = vmull_s8(b0l, a0[r]);
                hi[r] = vmull_s8(b0h, a0[r]);
            }
            _Pragma("unroll") for (int r = 0; r < mr; r++) {
                lo[r] = vmlal_s8(lo[r], b1l, a1[r]);
                hi[r] = vmlal_s8(hi[r], b1h, a1[r]);
            }
            _Pragma("unroll") for (int r = 0; r < mr; r++) {
                acc[r][2 * q] = vpadalq_s16(acc[r][2 * q], lo[r]);
                acc[r][2 * q + 1] = vpadalq_s16(acc[r][2 * q + 1], hi[r]);
            }
        }
    }
    if (g < groups) {  // an odd group count: the last group alone
        _Pragma("unroll") for (int q = 0; q < 4; q++) {
            const int8x8_t bl = vld1_s8(b + q * 16), bh = vld1_s8(b + q * 16 + 8);
            _Pragma("unroll") for (int r = 0; r < mr; r++) {
                const int8x8_t av = a_pair(a[r] + g * 4);
                acc[r][2 * q] = vpadalq_s16(acc[r][2 * q], vmull_s8(bl, av));
                acc[r][2 * q + 1] = vpadalq_s16(acc[r][2 * q + 1], vmull_s8(bh, av));
            }
        }
    }
    _Pragma("unroll") for (int r = 0; r < mr; r++) store_row(p, m0 + r, panel * 16, t, acc[r]);
}

void ek_gemm_neon(const ek_gemm_params *p) {
    // (No local copy of *p here, unlike gemm_neon_dot.c: with one, clang -O2 schedules this hot
    // loop 84 cycles an iteration on llvm-mca's Cortex-A53 instead of 78; same instructions.)
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        panel_terms t;
        const int32_t n0 = panel * 16;
        terms(p->b_colsum + n0, p->b_scale + n0, p->bias ? p->bias + n0 : NULL, &t);
        int32_t m0 = 0;
        for (; m0 + 2 <= p->m; m0 += 2) block(p, m0, 2, panel, &t);
        if (m0 < p->m) block(p, m0, 1, panel, &t);
    }
}
#endif
