// ARMv8.2 NEON dotprod int8 GEMM (Cortex-A76 / Pi 5): by-element SDOT, 4 rows x 16 columns a block.
//
// Hot loop (per 4 K groups = 16 bytes of K): one plain 16-byte load of A per row, 16 B vectors
// [4 groups][16 cols][4 k], and 64 `sdot v.4s, b.16b, a.4b[j]`: lane j of a row's load is its
// group g + j, so no broadcast (LD1R / DUP) takes a vector-pipe slot. 16 accumulators + 4 A + 4 B
// fit the 32 registers with room for the next loads (no spills). The epilogue's per-column terms
// are computed once per panel (panel_terms), and the accumulators start at 128 * colsum.
#if defined(__aarch64__)
#include <arm_neon.h>
#include "epilogue.h"

#define TGT __attribute__((target("arch=armv8.2-a+dotprod")))
#define MR 4

/// The per-column terms of the epilogue for one panel (16 columns, four vectors of 4).
typedef struct {
    int32x4_t cs128[4];  // 128 * colsum: sum (q + 128) * w = sum q * w + 128 * colsum
    float32x4_t sb[4];   // b_scale
    float32x4_t sbcs[4]; // b_scale * (float)colsum
    float32x4_t bias[4]; // bias, or -0.0f (the additive identity) without one
} panel_terms;

/// Out of line on purpose: the terms then live in memory, loaded where the epilogue needs them,
/// rather than held in 16 registers across the blocks (which costs moves around every block).
TGT static __attribute__((noinline)) void terms(const int32_t *colsum, const float *scale, const float *bias,
                                               panel_terms *t) {
    for (int q = 0; q < 4; q++) {
        const int32x4_t cs = vld1q_s32(colsum + q * 4);  // [np]: whole panels are readable
        t->cs128[q] = vshlq_n_s32(cs, 7);
        t->sb[q] = vld1q_f32(scale + q * 4);
        t->sbcs[q] = vmulq_f32(t->sb[q], vcvtq_f32_s32(cs));
        t->bias[q] = bias ? vld1q_f32(bias + q * 4) : vdupq_n_f32(-0.0f);
    }
}

/// Row m's 16 outputs v (the epilogue applied) into C, with the residual when there is one.
TGT static inline __attribute__((always_inline)) void store_row(const ek_gemm_params *p, int32_t m, int32_t n0,
                                                                float32x4_t v0, float32x4_t v1, float32x4_t v2,
                                                                float32x4_t v3) {
    float32x4_t v[4] = {v0, v1, v2, v3};
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

TGT static inline __attribute__((always_inline)) void block(const ek_gemm_params *p, int32_t m0, const int mr,
                                                            int32_t panel, const panel_terms *t) {
    const int32_t groups = p->kp >> 2;
    const int8_t *b = p->b + (int64_t)panel * groups * 64;  // [groups][16][4]
    const int8_t *a[MR];                                    // [mr][kp]
    for (int r = 0; r < mr; r++) a[r] = p->a + (int64_t)(m0 + r) * p->lda;
    int32x4_t acc[MR][4];  // [row][cols 4q..4q+3]
    for (int r = 0; r < mr; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = t->cs128[q];
    int32_t g = 0;
    for (; g + 4 <= groups; g += 4, b += 256) {
        int8x16_t av[MR];  // groups g..g+3 of each row, one per 32-bit lane
        _Pragma("unroll") for (int r = 0; r < mr; r++) av[r] = vld1q_s8(a[r] + g * 4);
#define EK_DOT_GROUP(j)                                                                              \
        {                                                                                            \
            int8x16_t bv[4];                                                                         \
            _Pragma("unroll") for (int q = 0; q < 4; q++) bv[q] = vld1q_s8(b + (j) * 64 + q * 16);   \
            _Pragma("unroll") for (int r = 0; r < mr; r++)                                           \
                _Pragma("unroll") for (int q = 0; q < 4; q++) acc[r][q] = vdotq_laneq_s32(acc[r][q], bv[q], av[r], j); \
        }
        EK_DOT_GROUP(0)
        EK_DOT_GROUP(1)
        EK_DOT_GROUP(2)
        EK_DOT_GROUP(3)
#undef EK_DOT_GROUP
    }
    for (; g < groups; g++, b += 64) {  // K groups left over (kp / 4 not a multiple of 4)
        int8x16_t bv[4];
        for (int q = 0; q < 4; q++) bv[q] = vld1q_s8(b + q * 16);
        for (int r = 0; r < mr; r++) {
            const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(ek_load_i32(a[r] + g * 4)));
            for (int q = 0; q < 4; q++) acc[r][q] = vdotq_s32(acc[r][q], bv[q], av);
        }
    }
    // The epilogue of ckernels.h, a column vector at a time (its terms loaded once for all rows):
    //   off = fma(a_min[m], sbcs, bias); C = fma((float)acc, a_scale[m] * b_scale, off)
    float32x4_t sa4 = vdupq_n_f32(0.0f), amin4 = vdupq_n_f32(0.0f);  // [row] a_scale, a_min
    if (mr == 4) {
        sa4 = vld1q_f32(p->a_scale + m0);
        amin4 = vld1q_f32(p->a_min + m0);
    } else {  // the last rows of a: never read past row m - 1
        float sa[4] = {0}, amin[4] = {0};
        _Pragma("unroll") for (int r = 0; r < mr; r++) {
            sa[r] = p->a_scale[m0 + r];
            amin[r] = p->a_min[m0 + r];
        }
        sa4 = vld1q_f32(sa);
        amin4 = vld1q_f32(amin);
    }
    float32x4_t v[MR][4];
    _Pragma("unroll") for (int q = 0; q < 4; q++) {
        const float32x4_t sb = t->sb[q], sbcs = t->sbcs[q], bias = t->bias[q];
#define EK_ROW(r)                                                                              \
        if ((r) < mr) {                                                                        \
            const float32x4_t off = vfmaq_laneq_f32(bias, sbcs, amin4, (r));                   \
            v[(r)][q] = vfmaq_f32(off, vcvtq_f32_s32(acc[(r)][q]), vmulq_laneq_f32(sb, sa4, (r))); \
        }
        EK_ROW(0) EK_ROW(1) EK_ROW(2) EK_ROW(3)
#undef EK_ROW
    }
    _Pragma("unroll") for (int r = 0; r < mr; r++) store_row(p, m0 + r, panel * 16, v[r][0], v[r][1], v[r][2], v[r][3]);
}

TGT void ek_gemm_neondot(const ek_gemm_params *params) {
    // A local copy: the stores to C then cannot be taken to change the parameters, which would
    // otherwise be reloaded after every row's stores.
    const ek_gemm_params local = *params, *p = &local;
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        panel_terms t;
        const int32_t n0 = panel * 16;
        terms(p->b_colsum + n0, p->b_scale + n0, p->bias ? p->bias + n0 : NULL, &t);
        for (int32_t m0 = 0; m0 < p->m; m0 += MR) {
            switch ((p->m - m0 >= MR) ? MR : p->m - m0) {
            case 1: block(p, m0, 1, panel, &t); break;
            case 2: block(p, m0, 2, panel, &t); break;
            case 3: block(p, m0, 3, panel, &t); break;
            default: block(p, m0, 4, panel, &t); break;
            }
        }
    }
}
#endif
