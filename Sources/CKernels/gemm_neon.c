// ARMv8.0 NEON int8 GEMM (Cortex-A53 / A72): SMULL + SMLAL over two K groups into int16, then
// SADALP into int32. Two int8 products in [-128, 127] x [-127, 127] sum to at most 32512: no int16
// overflow. Every (row, column) sum is exact in int32, so any order of these steps is bitwise the
// scalar twin's.
//
// From 8 K groups (32 bytes of K) up, a row at a time against a panel's 16 columns, in a loop
// written in assembly (`row_loop`) for the in-order Cortex-A53; below that, and for the 0-3 groups
// left over, the same steps in intrinsics (`block`: 2 rows x 16 columns; the end of `row`). Both keep the accumulators as
// store_row wants them.
//
// The row loop, 12 groups (768 MACs) an iteration, scheduled for llvm-mca's Cortex-A53 model
// (in order, two instructions a cycle, one NEON pipe, and an instruction may not finish before
// the one issued just before it):
//   - 144 SMULL/SMLAL/SADALP back to back, one a cycle: per pair of groups, 8 SMULL(2) (even
//     group), 8 SMLAL(2) (odd group) into the same 8 int16 products, 8 SADALP into the 8
//     accumulators; each step's input is 8 cycles old (latency 6).
//   - Loads only in forms that take 5 or more cycles (LD1 of four registers, LD4R), so each
//     pairs with a multiply without a stall: a pair's B (64 bytes a group) is loaded during the
//     previous pair, A as four groups broadcast at once (LD4R: 4 bytes -> 16, per group). These
//     forms have no offset, so each load has its own base register, and all bases advance
//     together at the end of the iteration with the loop counter (2 ALU operations a cycle,
//     where the NEON pipe idles anyway while the branch waits).
//   - The last 4, 8 or 12 groups are peeled, without the loads for groups that do not exist (no
//     reads past the row or the panel).
// On llvm-mca-19: 156 cycles an iteration on cortex-a53 (4.9 MACs a cycle, 62% of 8), 96 on
// cortex-a72 and neoverse-n1 (100%). The intrinsic loop it replaces scheduled at 78 cycles per
// 256 MACs (41%) on the A53.
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

/// mr (1 or 2) rows x 16 columns below 8 groups, in intrinsics: per 2 groups, B as 8-byte halves
/// (cols 4q, 4q+1 and 4q+2, 4q+3 of a group's [16][4] bytes), so every multiply is a plain
/// SMULL/SMLAL on 64-bit operands (SMULL2 on a duplicated operand becomes EXT + SMULL in clang),
/// each row's 4 A bytes of a group broadcast to 8 (a_pair).
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

// One pair of groups (even, odd): A of the even group in AE, of the odd in AO; B in v16-v19 and
// v20-v23. LD_EVEN, LD_A, LD_ODD: the next pair's even B, the next four groups' A, the next
// pair's odd B (each after the last use of the registers it fills, 7, 5 and 7 cycles ahead).
#define EK_PAIR(AE, AO, LD_EVEN, LD_A, LD_ODD)                                                       \
    "smull  v24.8h, v16.8b,  " AE ".8b\n\t"                                                         \
    "smull2 v25.8h, v16.16b, " AE ".16b\n\t"                                                        \
    "smull  v26.8h, v17.8b,  " AE ".8b\n\t"                                                         \
    "smull2 v27.8h, v17.16b, " AE ".16b\n\t"                                                        \
    "smull  v28.8h, v18.8b,  " AE ".8b\n\t"                                                         \
    "smull2 v29.8h, v18.16b, " AE ".16b\n\t"                                                        \
    "smull  v30.8h, v19.8b,  " AE ".8b\n\t"                                                         \
    "smull2 v31.8h, v19.16b, " AE ".16b\n\t"                                                        \
    "smlal  v24.8h, v20.8b,  " AO ".8b\n\t"                                                         \
    "smlal2 v25.8h, v20.16b, " AO ".16b\n\t"                                                        \
    LD_EVEN                                                                                          \
    "smlal  v26.8h, v21.8b,  " AO ".8b\n\t"                                                         \
    "smlal2 v27.8h, v21.16b, " AO ".16b\n\t"                                                        \
    "smlal  v28.8h, v22.8b,  " AO ".8b\n\t"                                                         \
    "smlal2 v29.8h, v22.16b, " AO ".16b\n\t"                                                        \
    "smlal  v30.8h, v23.8b,  " AO ".8b\n\t"                                                         \
    "smlal2 v31.8h, v23.16b, " AO ".16b\n\t"                                                        \
    LD_A                                                                                             \
    "sadalp v0.4s, v24.8h\n\t"                                                                      \
    "sadalp v1.4s, v25.8h\n\t"                                                                      \
    "sadalp v2.4s, v26.8h\n\t"                                                                      \
    LD_ODD                                                                                           \
    "sadalp v3.4s, v27.8h\n\t"                                                                      \
    "sadalp v4.4s, v28.8h\n\t"                                                                      \
    "sadalp v5.4s, v29.8h\n\t"                                                                      \
    "sadalp v6.4s, v30.8h\n\t"                                                                      \
    "sadalp v7.4s, v31.8h\n\t"
#define EK_LD_EVEN(x) "ld1 {v16.16b, v17.16b, v18.16b, v19.16b}, [" x "]\n\t"
#define EK_LD_ODD(x) "ld1 {v20.16b, v21.16b, v22.16b, v23.16b}, [" x "]\n\t"
#define EK_LD_A(x) "ld4r {v8.4s, v9.4s, v10.4s, v11.4s}, [" x "]\n\t"
// Groups 0..11 of an iteration; the last pair loads the next iteration's first pair and A (bases
// x0, x1, x14).
#define EK_ITERATION                                                                                  \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x2"), "", EK_LD_ODD("x3"))                                       \
    EK_PAIR("v10", "v11", EK_LD_EVEN("x4"), EK_LD_A("x12"), EK_LD_ODD("x5"))                         \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x6"), "", EK_LD_ODD("x7"))                                       \
    EK_PAIR("v10", "v11", EK_LD_EVEN("x8"), EK_LD_A("x13"), EK_LD_ODD("x9"))                         \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x10"), "", EK_LD_ODD("x11"))                                     \
    EK_PAIR("v10", "v11", EK_LD_EVEN("x0"), EK_LD_A("x14"), EK_LD_ODD("x1"))
// The last 4, 8 or 12 groups: the same without loads for groups that do not exist.
#define EK_LAST4 EK_PAIR("v8", "v9", EK_LD_EVEN("x2"), "", EK_LD_ODD("x3")) EK_PAIR("v10", "v11", "", "", "")
#define EK_LAST8                                                                                      \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x2"), "", EK_LD_ODD("x3"))                                       \
    EK_PAIR("v10", "v11", EK_LD_EVEN("x4"), EK_LD_A("x12"), EK_LD_ODD("x5"))                         \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x6"), "", EK_LD_ODD("x7"))                                       \
    EK_PAIR("v10", "v11", "", "", "")
#define EK_LAST12                                                                                     \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x2"), "", EK_LD_ODD("x3"))                                       \
    EK_PAIR("v10", "v11", EK_LD_EVEN("x4"), EK_LD_A("x12"), EK_LD_ODD("x5"))                         \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x6"), "", EK_LD_ODD("x7"))                                       \
    EK_PAIR("v10", "v11", EK_LD_EVEN("x8"), EK_LD_A("x13"), EK_LD_ODD("x9"))                         \
    EK_PAIR("v8", "v9", EK_LD_EVEN("x10"), "", EK_LD_ODD("x11"))                                     \
    EK_PAIR("v10", "v11", "", "", "")

/// acc[0..8) = the row's sums over its first 12 * iters + 4 * last groups (last: 1, 2 or 3) of
/// the panel b: A of the row at a, B of the panel at b ([groups][16][4]).
static inline __attribute__((always_inline)) void row_loop(const int8_t *a, const int8_t *b, int64_t iters,
                                                           int64_t last, int32x4_t *acc) {
    register int32x4_t c0 __asm__("v0"), c1 __asm__("v1"), c2 __asm__("v2"), c3 __asm__("v3");
    register int32x4_t c4 __asm__("v4"), c5 __asm__("v5"), c6 __asm__("v6"), c7 __asm__("v7");
    __asm__ volatile(
        // bases: x2..x11 groups 2..11 of the first iteration, x0, x1 groups 0, 1 of the second;
        // x12, x13 A of groups 4-7, 8-11, x14 of the second iteration's 0-3; x15 counts down
        "ld1 {v16.16b, v17.16b, v18.16b, v19.16b}, [%[b]]\n\t"
        "add x1, %[b], #64\n\t"
        "ld1 {v20.16b, v21.16b, v22.16b, v23.16b}, [x1]\n\t"
        "ld4r {v8.4s, v9.4s, v10.4s, v11.4s}, [%[a]]\n\t"
        "movi v0.4s, #0\n\t" "movi v1.4s, #0\n\t" "movi v2.4s, #0\n\t" "movi v3.4s, #0\n\t"
        "movi v4.4s, #0\n\t" "movi v5.4s, #0\n\t" "movi v6.4s, #0\n\t" "movi v7.4s, #0\n\t"
        "add x0, %[b], #768\n\t"  "add x1, %[b], #832\n\t"  "add x2, %[b], #128\n\t"
        "add x3, %[b], #192\n\t"  "add x4, %[b], #256\n\t"  "add x5, %[b], #320\n\t"
        "add x6, %[b], #384\n\t"  "add x7, %[b], #448\n\t"  "add x8, %[b], #512\n\t"
        "add x9, %[b], #576\n\t"  "add x10, %[b], #640\n\t" "add x11, %[b], #704\n\t"
        "add x12, %[a], #16\n\t"  "add x13, %[a], #32\n\t"  "add x14, %[a], #48\n\t"
        "mov x15, %[iters]\n\t"
        "cbz x15, 2f\n"
        "1:\n\t"
        EK_ITERATION
        "add x0, x0, #768\n\t"  "add x1, x1, #768\n\t"  "add x2, x2, #768\n\t"  "add x3, x3, #768\n\t"
        "add x4, x4, #768\n\t"  "add x5, x5, #768\n\t"  "add x6, x6, #768\n\t"  "add x7, x7, #768\n\t"
        "add x8, x8, #768\n\t"  "add x9, x9, #768\n\t"  "add x10, x10, #768\n\t" "add x11, x11, #768\n\t"
        "add x12, x12, #48\n\t" "add x13, x13, #48\n\t" "add x14, x14, #48\n\t"
        "subs x15, x15, #1\n\t"
        "b.ne 1b\n"
        "2:\n\t"
        "cmp %[last], #2\n\t"
        "b.lt 4f\n\t"
        "b.eq 3f\n\t"
        EK_LAST12
        "b 5f\n"
        "3:\n\t"
        EK_LAST8
        "b 5f\n"
        "4:\n\t"
        EK_LAST4
        "5:\n\t"
        : "=&w"(c0), "=&w"(c1), "=&w"(c2), "=&w"(c3), "=&w"(c4), "=&w"(c5), "=&w"(c6), "=&w"(c7)
        : [a] "r"(a), [b] "r"(b), [iters] "r"(iters), [last] "r"(last)
        : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
          "v8", "v9", "v10", "v11", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26",
          "v27", "v28", "v29", "v30", "v31", "cc", "memory");
    acc[0] = c0; acc[1] = c1; acc[2] = c2; acc[3] = c3; acc[4] = c4; acc[5] = c5; acc[6] = c6; acc[7] = c7;
}

/// How row_loop covers a row of `groups` (>= 8) groups: iterations of 12, then the last 4, 8 or
/// 12 (last: 1, 2, 3), then 0-3 groups (from `tail` on) in intrinsics.
typedef struct {
    int64_t iters, last;
    int32_t groups, tail;
} row_split;

/// One row from 8 groups up: row_loop, then the 0-3 groups left two and one at a time. The
/// row's A at a, the panel's B at b ([groups][16][4]).
static inline __attribute__((always_inline)) void row(const ek_gemm_params *p, const int8_t *a, const int8_t *b,
                                                      row_split sp, int32_t m, int32_t n0, const panel_terms *t) {
    int32x4_t acc[8];
    row_loop(a, b, sp.iters, sp.last, acc);
    int32_t g = sp.tail;
    for (; g + 2 <= sp.groups; g += 2) {
        const int8x8_t a0 = a_pair(a + g * 4), a1 = a_pair(a + g * 4 + 4);
        _Pragma("unroll") for (int q = 0; q < 4; q++) {
            const int8_t *bq = b + (int64_t)g * 64 + q * 16;
            int16x8_t lo = vmull_s8(vld1_s8(bq), a0), hi = vmull_s8(vld1_s8(bq + 8), a0);
            lo = vmlal_s8(lo, vld1_s8(bq + 64), a1);
            hi = vmlal_s8(hi, vld1_s8(bq + 72), a1);
            acc[2 * q] = vpadalq_s16(acc[2 * q], lo);
            acc[2 * q + 1] = vpadalq_s16(acc[2 * q + 1], hi);
        }
    }
    if (g < sp.groups) {
        const int8x8_t av = a_pair(a + g * 4);
        _Pragma("unroll") for (int q = 0; q < 4; q++) {
            const int8_t *bq = b + (int64_t)g * 64 + q * 16;
            acc[2 * q] = vpadalq_s16(acc[2 * q], vmull_s8(vld1_s8(bq), av));
            acc[2 * q + 1] = vpadalq_s16(acc[2 * q + 1], vmull_s8(vld1_s8(bq + 8), av));
        }
    }
    store_row(p, m, n0, t, acc);
}

void ek_gemm_neon(const ek_gemm_params *p) {
    const int32_t groups = p->kp >> 2;
    if (groups >= 8) {  // below, the 2-row blocks in intrinsics execute fewer instructions (qemu counts)
        // Locals, not p's fields: row_loop's "memory" clobber would reload those every row.
        const int32_t fours = groups / 4, last = (fours - 1) % 3 + 1, m_end = p->m;
        const row_split sp = {(fours - last) / 3, last, groups, fours * 4};
        const int8_t *const a0 = p->a, *const b0 = p->b;
        const int64_t lda = p->lda;
        for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
            panel_terms t;
            const int32_t n0 = panel * 16;
            terms(p->b_colsum + n0, p->b_scale + n0, p->bias ? p->bias + n0 : NULL, &t);
            const int8_t *b = b0 + (int64_t)panel * groups * 64;
            for (int32_t m = 0; m < m_end; m++) row(p, a0 + (int64_t)m * lda, b, sp, m, n0, &t);
        }
        return;
    }
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
