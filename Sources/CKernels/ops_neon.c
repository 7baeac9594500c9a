// The fp32 passes between the int8 matmuls in NEON intrinsics (ARM, the kernel paths' level 1):
// LayerNorm and GELU, each taking the range the quantiser needs while it writes a row (one pass
// over the row less, then ek_quantize_row_range_neon), and the softmax of the int8 attention.
// Each follows its portable body in ops_vector.c / attention_i8.c step by step (the same fused
// multiply-adds), 16 floats (one LD1 of four registers) a step; only the order of the float sums
// differs (the bodies let the compiler reassociate them). Held against the scalar twins (ek_*_ref,
// libm) in Tests/CKernelsDriver/driver.c, under qemu on a Cortex-A53 and a Cortex-A76.
#if defined(__aarch64__)
#include <arm_neon.h>
#include "vector_math.h"

#define INLINE static inline __attribute__((always_inline))

typedef struct { float32x4_t v[4]; } f32x16;

INLINE f32x16 load16(const float *x) {
    const float32x4x4_t t = vld1q_f32_x4(x);
    return (f32x16){{t.val[0], t.val[1], t.val[2], t.val[3]}};
}
INLINE void store16(float *x, f32x16 v) {
    const float32x4x4_t t = {{v.v[0], v.v[1], v.v[2], v.v[3]}};
    vst1q_f32_x4(x, t);
}

/// Lane minima and maxima of v * sm (SM: sm is not NULL), for the quantiser's range.
typedef struct { float32x4_t lo, hi; } range4;
INLINE void range_add(range4 *r, float32x4_t v, const float *sm, int64_t i, const int SM) {
    if (SM) v = vmulq_f32(v, vld1q_f32(sm + i));
    r->lo = vminq_f32(r->lo, v);
    r->hi = vmaxq_f32(r->hi, v);
}
INLINE void range_add16(range4 *r, f32x16 v, const float *sm, int64_t i, const int SM) {
    if (SM) {
        const f32x16 f = load16(sm + i);
        for (int t = 0; t < 4; t++) v.v[t] = vmulq_f32(v.v[t], f.v[t]);
    }
    r->lo = vminq_f32(r->lo, vminq_f32(vminq_f32(v.v[0], v.v[1]), vminq_f32(v.v[2], v.v[3])));
    r->hi = vmaxq_f32(r->hi, vmaxq_f32(vmaxq_f32(v.v[0], v.v[1]), vmaxq_f32(v.v[2], v.v[3])));
}
/// Quantises row [n] into row r of `to`, its range in rg plus the scalar tail [i, n).
INLINE void quantize_with(const float *row, int32_t n, int32_t i, range4 rg, int32_t r, const ek_quantize_to *to) {
    float lo = vminvq_f32(rg.lo), hi = vmaxvq_f32(rg.hi);
    for (; i < n; i++) {
        const float v = to->sm ? row[i] * to->sm[i] : row[i];
        lo = fminf(lo, v);
        hi = fmaxf(hi, v);
    }
    ek_quantize_row_range_neon(row, n, to->kp, to->sm, lo, hi, to->q + (int64_t)r * to->ldq, to->scales + r,
                               to->mins + r, to->unsigned_a);
}
INLINE range4 range_start(const float *row, const float *sm) {
    const float32x4_t first = vdupq_n_f32(sm ? row[0] * sm[0] : row[0]);
    return (range4){first, first};
}

// ---- LayerNorm: layernorm_row's steps (ops_vector.c) ----

INLINE void layernorm_row_neon(float *row, int32_t n, const float *gamma, const float *beta, float eps,
                               const float *sm, int32_t r, const ek_quantize_to *to, const int Q, const int SM) {
    float32x4_t s[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const f32x16 x = load16(row + i);
        for (int t = 0; t < 4; t++) s[t] = vaddq_f32(s[t], x.v[t]);
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s[0], s[1]), vaddq_f32(s[2], s[3])));
    for (int32_t j = i; j < n; j++) sum += row[j];
    const float mean = sum / (float)n;
    const float32x4_t vmean = vdupq_n_f32(mean);
    for (int t = 0; t < 4; t++) s[t] = vdupq_n_f32(0.0f);
    for (i = 0; i + 16 <= n; i += 16) {
        const f32x16 x = load16(row + i);
        for (int t = 0; t < 4; t++) {
            const float32x4_t d = vsubq_f32(x.v[t], vmean);
            s[t] = vfmaq_f32(s[t], d, d);
        }
    }
    float var = vaddvq_f32(vaddq_f32(vaddq_f32(s[0], s[1]), vaddq_f32(s[2], s[3])));
    for (int32_t j = i; j < n; j++) {
        const float d = row[j] - mean;
        var = fmaf(d, d, var);
    }
    const float inv = 1.0f / sqrtf(var / (float)n + eps);
    const float32x4_t vinv = vdupq_n_f32(inv);
    range4 rg = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    for (i = 0; i + 16 <= n; i += 16) {
        f32x16 x = load16(row + i);
        const f32x16 g = load16(gamma + i), b = load16(beta + i);
        for (int t = 0; t < 4; t++) x.v[t] = vfmaq_f32(b.v[t], vmulq_f32(vsubq_f32(x.v[t], vmean), vinv), g.v[t]);
        store16(row + i, x);
        if (Q) {
            if (i == 0) rg = range_start(row, sm);
            range_add16(&rg, x, sm, i, SM);
        }
    }
    const int32_t done = i;
    for (; i < n; i++) row[i] = fmaf((row[i] - mean) * inv, gamma[i], beta[i]);
    if (Q) {
        if (done == 0) rg = range_start(row, sm);
        quantize_with(row, n, done, rg, r, to);
    }
}

void ek_layernorm_rows_neon(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                            float eps, const ek_quantize_to *to) {
    for (int32_t r = 0; r < m; r++) {
        float *row = x + (int64_t)r * ld;
        if (!to) layernorm_row_neon(row, n, gamma, beta, eps, NULL, r, to, 0, 0);
        else if (to->sm) layernorm_row_neon(row, n, gamma, beta, eps, to->sm, r, to, 1, 1);
        else layernorm_row_neon(row, n, gamma, beta, eps, NULL, r, to, 1, 0);
    }
}

// ---- GELU: gelu_one's steps (ops_vector.c), erf as a rational ----

INLINE float32x4_t gelu4(float32x4_t x) {
    float32x4_t z = vmulq_f32(x, vdupq_n_f32(0.70710678118654752f));
    z = vminq_f32(vmaxq_f32(z, vdupq_n_f32(-4.0f)), vdupq_n_f32(4.0f));
    const float32x4_t t = vmulq_f32(z, z);
    float32x4_t p = vfmaq_f32(vdupq_n_f32(-1.990289246452508e-06f), vdupq_n_f32(1.9218535559777425e-08f), t);
    p = vfmaq_f32(vdupq_n_f32(1.5551646653372462e-04f), p, t);
    p = vfmaq_f32(vdupq_n_f32(4.292137362686957e-03f), p, t);
    p = vfmaq_f32(vdupq_n_f32(5.243054329291795e-02f), p, t);
    p = vfmaq_f32(vdupq_n_f32(2.139227883061421e-01f), p, t);
    p = vfmaq_f32(vdupq_n_f32(1.1283786775956186f), p, t);
    float32x4_t q = vfmaq_f32(vdupq_n_f32(1.5549217015269927e-02f), vdupq_n_f32(1.0978214219262482e-03f), t);
    q = vfmaq_f32(vdupq_n_f32(1.2079054436567387e-01f), q, t);
    q = vfmaq_f32(vdupq_n_f32(5.229117952365627e-01f), q, t);
    q = vfmaq_f32(vdupq_n_f32(1.0f), q, t);
    const float32x4_t erf = vdivq_f32(vmulq_f32(z, p), q);
    const float32x4_t h = vmulq_f32(vdupq_n_f32(0.5f), x);
    return vfmaq_f32(h, h, erf);
}

INLINE void gelu_row_neon(float *row, int64_t n, const float *sm, int32_t r, const ek_quantize_to *to, const int Q,
                          const int SM) {
    range4 rg = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        f32x16 x = load16(row + i);
        for (int t = 0; t < 4; t++) x.v[t] = gelu4(x.v[t]);
        store16(row + i, x);
        if (Q) {
            if (i == 0) rg = range_start(row, sm);
            range_add16(&rg, x, sm, i, SM);
        }
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t y = gelu4(vld1q_f32(row + i));
        vst1q_f32(row + i, y);
        if (Q) {
            if (i == 0) rg = range_start(row, sm);
            range_add(&rg, y, sm, i, SM);
        }
    }
    const int64_t vec = i;
    for (; i < n; i++) {  // the tail through a vector, so it rounds as the rest
        float lane[4] = {row[i], 0.0f, 0.0f, 0.0f};
        vst1q_f32(lane, gelu4(vld1q_f32(lane)));
        row[i] = lane[0];
    }
    if (Q) {
        if (vec == 0) rg = range_start(row, sm);
        quantize_with(row, (int32_t)n, (int32_t)vec, rg, r, to);
    }
}

void ek_gelu_neon(float *x, int64_t n) { gelu_row_neon(x, n, NULL, 0, NULL, 0, 0); }

void ek_gelu_rows_neon(float *x, int64_t ld, int32_t m, int32_t n, const ek_quantize_to *to) {
    for (int32_t r = 0; r < m; r++) {
        float *row = x + (int64_t)r * ld;
        if (!to) gelu_row_neon(row, n, NULL, r, to, 0, 0);
        else if (to->sm) gelu_row_neon(row, n, to->sm, r, to, 1, 1);
        else gelu_row_neon(row, n, NULL, r, to, 1, 0);
    }
}
// ---- softmax of the int8 attention: softmax_quant_body's steps (attention_i8.c) ----

/// e = 255 * 2^(x - mx) as exp2_255 computes it (x - mx clamped at -32, a cubic for 2^f, 2^whole
/// added to the exponent bits); u = e rounded, halves to even (nearbyintf; e >= 0).
INLINE float32x4_t exp2_255_neon(float32x4_t x, float32x4_t mx, uint32x4_t *u) {
    x = vmaxq_f32(vsubq_f32(x, mx), vdupq_n_f32(-32.0f));
    const float32x4_t whole = vrndmq_f32(x);
    const float32x4_t f = vsubq_f32(x, whole);
    float32x4_t p = vfmaq_f32(vdupq_n_f32(0.22764604f * 255.0f), vdupq_n_f32(0.07706609f * 255.0f), f);
    p = vfmaq_f32(vdupq_n_f32(0.69511656f * 255.0f), p, f);
    p = vfmaq_f32(vdupq_n_f32(255.0f), p, f);
    const int32x4_t bits = vaddq_s32(vreinterpretq_s32_f32(p), vshlq_n_s32(vcvtq_s32_f32(whole), 23));
    const float32x4_t e = vreinterpretq_f32_s32(bits);
    *u = vcvtnq_u32_f32(e);
    return e;
}

void ek_softmax_quant_neon(const float *s, int64_t lds, int32_t rows, int32_t n, int8_t *p, int32_t unsigned_a,
                           float *ps, float *pz) {
    const int32_t n4 = (n + 3) / 4 * 4;
    const uint8x16_t flip = vdupq_n_u8(unsigned_a ? 0 : 0x80);
    for (int32_t r = 0; r < rows; r++) {
        const float *row = s + (int64_t)r * lds;
        int8_t *out = p + (int64_t)r * n4;
        float32x4_t m[4] = {vdupq_n_f32(row[0]), vdupq_n_f32(row[0]), vdupq_n_f32(row[0]), vdupq_n_f32(row[0])};
        int32_t j = 0;
        for (; j + 16 <= n; j += 16) {
            const f32x16 x = load16(row + j);
            for (int t = 0; t < 4; t++) m[t] = vmaxq_f32(m[t], x.v[t]);
        }
        float mx = vmaxvq_f32(vmaxq_f32(vmaxq_f32(m[0], m[1]), vmaxq_f32(m[2], m[3])));
        for (; j < n; j++) mx = row[j] > mx ? row[j] : mx;
        const float32x4_t vmx = vdupq_n_f32(mx);
        float32x4_t et[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
        uint32x4_t ut = vdupq_n_u32(0);
        for (j = 0; j + 16 <= n; j += 16) {
            const f32x16 x = load16(row + j);
            uint32x4_t u[4];
            for (int t = 0; t < 4; t++) et[t] = vaddq_f32(et[t], exp2_255_neon(x.v[t], vmx, &u[t]));
            ut = vaddq_u32(vaddq_u32(ut, vaddq_u32(u[0], u[1])), vaddq_u32(u[2], u[3]));
            const uint16x8_t ab = vmovn_high_u32(vmovn_u32(u[0]), u[1]), cd = vmovn_high_u32(vmovn_u32(u[2]), u[3]);
            vst1q_u8((uint8_t *)out + j, veorq_u8(vmovn_high_u16(vmovn_u16(ab), cd), flip));
        }
        float total = vaddvq_f32(vaddq_f32(vaddq_f32(et[0], et[1]), vaddq_f32(et[2], et[3])));
        uint32_t sum_u = vaddvq_u32(ut);
        for (; j < n; j++) {  // the tail a lane at a time, through the same vector steps
            uint32x4_t u;
            const float e = vgetq_lane_f32(exp2_255_neon(vdupq_n_f32(row[j]), vmx, &u), 0);
            const uint32_t ui = vgetq_lane_u32(u, 0);
            out[j] = (int8_t)(uint8_t)(ui ^ (unsigned_a ? 0 : 0x80));
            sum_u += ui;
            total += e;
        }
        for (; j < n4; j++) out[j] = (int8_t)(uint8_t)(unsigned_a ? 0 : 0x80);
        const float inv = 1.0f / total;
        ps[r] = inv;
        pz[r] = (total - (float)sum_u) * inv / (float)n;
    }
}
// ---- the int8 attention's packing: pack_keys_body / pack_values_body (attention_i8.c) for head
// widths that are a multiple of 16, the same bytes without the row-major staging ----

/// round_i32 (halves away from zero: (int)(v + copysign(0.5, v))) of v = x * inv, four lanes.
INLINE int32x4_t round_away4(float32x4_t x, float32x4_t inv) {
    const float32x4_t v = vmulq_f32(x, inv);
    const uint32x4_t half = vorrq_u32(vandq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x80000000u)),
                                      vreinterpretq_u32_f32(vdupq_n_f32(0.5f)));
    return vcvtq_s32_f32(vaddq_f32(v, vreinterpretq_f32_u32(half)));
}
/// Four vectors of int32 in -127..127 as 16 bytes in order.
INLINE int8x16_t narrow16(const int32x4_t q[4]) {
    const int16x8_t ab = vmovn_high_s32(vmovn_s32(q[0]), q[1]), cd = vmovn_high_s32(vmovn_s32(q[2]), q[3]);
    return vmovn_high_s16(vmovn_s16(ab), cd);
}

void ek_pack_keys_neon(const float *k, int64_t ld, int32_t n, int32_t d, float scale, int8_t *kt, int8_t *dst,
                       float *ks, int32_t *kc) {
    (void)kt;
    const int32_t n16 = (n + 15) / 16 * 16, groups = d / 4;  // d % 16 == 0: dp = d
    for (int32_t j = 0; j < n16; j++) {
        int32_t *out = (int32_t *)dst + ((int64_t)(j / 16) * groups * 16 + j % 16);  // word g at out[16 g]
        if (j >= n) {
            ks[j] = 0.0f;
            kc[j] = 0;
            for (int32_t g = 0; g < groups; g++) out[16 * g] = 0;
            continue;
        }
        const float *row = k + (int64_t)j * ld;
        float32x4_t m0 = vdupq_n_f32(0.0f), m1 = m0;
        for (int32_t c = 0; c < d; c += 16) {
            const f32x16 x = load16(row + c);
            m0 = vmaxq_f32(m0, vmaxq_f32(vabsq_f32(x.v[0]), vabsq_f32(x.v[1])));
            m1 = vmaxq_f32(m1, vmaxq_f32(vabsq_f32(x.v[2]), vabsq_f32(x.v[3])));
        }
        const float amax = vmaxvq_f32(vmaxq_f32(m0, m1));
        const float32x4_t inv = vdupq_n_f32(amax > 0.0f ? 127.0f / amax : 0.0f);
        ks[j] = amax / 127.0f * scale;
        int32x4_t sum = vdupq_n_s32(0);
        for (int32_t c = 0; c < d; c += 16) {
            const f32x16 x = load16(row + c);
            int32x4_t q[4];
            for (int t = 0; t < 4; t++) {
                q[t] = round_away4(x.v[t], inv);
                sum = vaddq_s32(sum, q[t]);
            }
            const int32x4_t w = vreinterpretq_s32_s8(narrow16(q));  // the words of groups c/4 .. c/4 + 3
            int32_t *o = out + 16 * (c / 4);
            vst1q_lane_s32(o, w, 0);
            vst1q_lane_s32(o + 16, w, 1);
            vst1q_lane_s32(o + 32, w, 2);
            vst1q_lane_s32(o + 48, w, 3);
        }
        kc[j] = vaddvq_s32(sum);
    }
}

void ek_pack_values_neon(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt, int8_t *dst, float *vs,
                         int32_t *vc, float *vi) {
    (void)vt;
    const int32_t groups = (n + 3) / 4;  // d % 16 == 0: d16 = d
    for (int32_t p = 0; p < d / 16; p++) {
        const float *col = v + p * 16;
        f32x16 m = {{vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}};
        for (int32_t j = 0; j < n; j++) {
            const f32x16 x = load16(col + (int64_t)j * ld);
            for (int t = 0; t < 4; t++) m.v[t] = vmaxq_f32(m.v[t], vabsq_f32(x.v[t]));
        }
        f32x16 inv;
        for (int t = 0; t < 4; t++) {  // the body's divisions, lane by lane
            vst1q_f32(vs + p * 16 + 4 * t, vdivq_f32(m.v[t], vdupq_n_f32(127.0f)));
            const uint32x4_t live = vcgtq_f32(m.v[t], vdupq_n_f32(0.0f));
            inv.v[t] = vreinterpretq_f32_u32(vandq_u32(live, vreinterpretq_u32_f32(vdivq_f32(vdupq_n_f32(127.0f), m.v[t]))));
            vst1q_f32(vi + p * 16 + 4 * t, inv.v[t]);
        }
        int32x4_t sum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
        for (int32_t g = 0; g < groups; g++) {
            int8x16_t rows[4];  // token 4g + t's 16 bytes; zero past the last token
            for (int t = 0; t < 4; t++) {
                if (4 * g + t >= n) { rows[t] = vdupq_n_s8(0); continue; }
                const f32x16 x = load16(col + (int64_t)(4 * g + t) * ld);
                int32x4_t q[4];
                for (int l = 0; l < 4; l++) {
                    q[l] = round_away4(x.v[l], inv.v[l]);
                    sum[l] = vaddq_s32(sum[l], q[l]);
                }
                rows[t] = narrow16(q);
            }
            // [4 tokens][16 columns] -> [16 columns][4 tokens]
            const int8x16_t z01l = vzip1q_s8(rows[0], rows[1]), z01h = vzip2q_s8(rows[0], rows[1]);
            const int8x16_t z23l = vzip1q_s8(rows[2], rows[3]), z23h = vzip2q_s8(rows[2], rows[3]);
            int8_t *o = dst + ((int64_t)p * groups + g) * 64;
            vst1q_s8(o, vreinterpretq_s8_s16(vzip1q_s16(vreinterpretq_s16_s8(z01l), vreinterpretq_s16_s8(z23l))));
            vst1q_s8(o + 16, vreinterpretq_s8_s16(vzip2q_s16(vreinterpretq_s16_s8(z01l), vreinterpretq_s16_s8(z23l))));
            vst1q_s8(o + 32, vreinterpretq_s8_s16(vzip1q_s16(vreinterpretq_s16_s8(z01h), vreinterpretq_s16_s8(z23h))));
            vst1q_s8(o + 48, vreinterpretq_s8_s16(vzip2q_s16(vreinterpretq_s16_s8(z01h), vreinterpretq_s16_s8(z23h))));
        }
        for (int t = 0; t < 4; t++) vst1q_s32(vc + p * 16 + 4 * t, sum[t]);
    }
}
#endif
