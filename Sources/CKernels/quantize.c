// Dynamic activation quantisation, asymmetric per row: v = x * sm (optional SmoothQuant factors),
// s = (max v - min v) / 255, q = round((v - min v) / s) - 128, stored int8 (or uint8 q + 128).
// Every path computes the same floats in the same order, so the SIMD paths agree with the
// scalar twin bit for bit.
#include <math.h>
#include <string.h>
#include "ckernels.h"
#include "vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EK_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define EK_ARM 1
#endif

static inline void pad_row(int8_t *q, int32_t k, int32_t kp, int32_t unsigned_a) {
    if (kp > k) memset(q + k, unsigned_a ? 0 : 0x80, (size_t)(kp - k));
}

// The row's scale, minimum and reciprocal step from its range.
static inline float row_params(float lo, float hi, float *scale, float *min) {
    const float range = hi - lo;
    *scale = range / 255.0f;
    *min = lo;
    return range > 0.0f ? 255.0f / range : 0.0f;
}

static inline int8_t quant_one(float v, float lo, float inv, int32_t unsigned_a) {
    int32_t r = (int32_t)nearbyintf((v - lo) * inv);
    r = r > 255 ? 255 : (r < 0 ? 0 : r);
    return (int8_t)(uint8_t)(unsigned_a ? r : r - 128);
}

void ek_quantize_rows_ref(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                          int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        int8_t *out = q + r * ldq;
        float lo = sm ? row[0] * sm[0] : row[0], hi = lo;
        for (int32_t i = 0; i < k; i++) {
            const float v = sm ? row[i] * sm[i] : row[i];
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
        }
        const float inv = row_params(lo, hi, &scales[r], &mins[r]);
        for (int32_t i = 0; i < k; i++) out[i] = quant_one(sm ? row[i] * sm[i] : row[i], lo, inv, unsigned_a);
        pad_row(out, k, kp, unsigned_a);
    }
}

#if EK_X86 && defined(__SSE2__)
// Level 0 on x86-64: the AVX2 body at SSE2's width (SSE2 is part of x86-64), so that CPUs without
// AVX2 (the sse41 path) and the ref path do not call nearbyintf for every element. cvtps2dq
// rounds halves to even, as nearbyintf does in the default rounding mode.
static inline __m128 load4(const float *row, const float *sm, int32_t i) {
    __m128 v = _mm_loadu_ps(row + i);
    return sm ? _mm_mul_ps(v, _mm_loadu_ps(sm + i)) : v;
}

static inline __m128i round4(__m128 v, __m128 lo, __m128 inv) {
    return _mm_cvtps_epi32(_mm_mul_ps(_mm_sub_ps(v, lo), inv));
}

static void quantize_rows_sse2(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                               int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;  // [k]
        int8_t *out = q + r * ldq;       // [kp]
        const float first = sm ? row[0] * sm[0] : row[0];
        __m128 vlo = _mm_set1_ps(first), vhi = vlo;
        int32_t i = 0;
        for (; i + 4 <= k; i += 4) {
            const __m128 v = load4(row, sm, i);
            vlo = _mm_min_ps(vlo, v);
            vhi = _mm_max_ps(vhi, v);
        }
        float l4[4], h4[4];
        _mm_storeu_ps(l4, vlo);
        _mm_storeu_ps(h4, vhi);
        float lo = l4[0], hi = h4[0];
        for (int t = 1; t < 4; t++) { lo = fminf(lo, l4[t]); hi = fmaxf(hi, h4[t]); }
        for (; i < k; i++) {
            const float v = sm ? row[i] * sm[i] : row[i];
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
        }
        const float inv = row_params(lo, hi, &scales[r], &mins[r]);
        const __m128 vinv = _mm_set1_ps(inv), vl = _mm_set1_ps(lo);
        const __m128i c128 = _mm_set1_epi32(128);
        const __m128i flip = _mm_set1_epi8(unsigned_a ? (char)0x80 : 0);
        i = 0;
        for (; i + 16 <= k; i += 16) {
            // 0..255 -> -128..127 (int32), pack with signed saturation (in order), then uint8 if wanted
            const __m128i a = _mm_sub_epi32(round4(load4(row, sm, i), vl, vinv), c128);
            const __m128i b = _mm_sub_epi32(round4(load4(row, sm, i + 4), vl, vinv), c128);
            const __m128i c = _mm_sub_epi32(round4(load4(row, sm, i + 8), vl, vinv), c128);
            const __m128i d = _mm_sub_epi32(round4(load4(row, sm, i + 12), vl, vinv), c128);
            const __m128i abcd = _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d));
            _mm_storeu_si128((__m128i *)(out + i), _mm_xor_si128(abcd, flip));
        }
        for (; i < k; i++) out[i] = quant_one(sm ? row[i] * sm[i] : row[i], lo, inv, unsigned_a);
        pad_row(out, k, kp, unsigned_a);
    }
}
#endif

#if EK_X86
#define TGT __attribute__((target("avx2,fma")))
TGT static inline __m256 load8(const float *row, const float *sm, int32_t i) {
    __m256 v = _mm256_loadu_ps(row + i);
    return sm ? _mm256_mul_ps(v, _mm256_loadu_ps(sm + i)) : v;
}

TGT static inline __m256i round8(__m256 v, __m256 lo, __m256 inv) {
    return _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(v, lo), inv));
}

TGT static void quantize_rows_avx2(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                                   int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        int8_t *out = q + r * ldq;
        const float first = sm ? row[0] * sm[0] : row[0];
        __m256 vlo = _mm256_set1_ps(first), vhi = vlo;
        int32_t i = 0;
        for (; i + 8 <= k; i += 8) {
            const __m256 v = load8(row, sm, i);
            vlo = _mm256_min_ps(vlo, v);
            vhi = _mm256_max_ps(vhi, v);
        }
        float l8[8], h8[8];
        _mm256_storeu_ps(l8, vlo);
        _mm256_storeu_ps(h8, vhi);
        float lo = l8[0], hi = h8[0];
        for (int t = 1; t < 8; t++) { lo = fminf(lo, l8[t]); hi = fmaxf(hi, h8[t]); }
        for (; i < k; i++) {
            const float v = sm ? row[i] * sm[i] : row[i];
            lo = fminf(lo, v);
            hi = fmaxf(hi, v);
        }
        const float inv = row_params(lo, hi, &scales[r], &mins[r]);
        const __m256 vinv = _mm256_set1_ps(inv), vl = _mm256_set1_ps(lo);
        const __m256i c128 = _mm256_set1_epi32(128);
        const __m256i flip = _mm256_set1_epi8(unsigned_a ? (char)0x80 : 0);
        i = 0;
        for (; i + 32 <= k; i += 32) {
            // 0..255 -> -128..127 (int32), pack with signed saturation, then back to uint8 if wanted
            __m256i a = _mm256_sub_epi32(round8(load8(row, sm, i), vl, vinv), c128);
            __m256i b = _mm256_sub_epi32(round8(load8(row, sm, i + 8), vl, vinv), c128);
            __m256i c = _mm256_sub_epi32(round8(load8(row, sm, i + 16), vl, vinv), c128);
            __m256i d = _mm256_sub_epi32(round8(load8(row, sm, i + 24), vl, vinv), c128);
            __m256i abcd = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
            // the packs interleave 128-bit lanes: restore the order 0..31
            abcd = _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(out + i), _mm256_xor_si256(abcd, flip));
        }
        for (; i < k; i++) out[i] = quant_one(sm ? row[i] * sm[i] : row[i], lo, inv, unsigned_a);
        pad_row(out, k, kp, unsigned_a);
    }
}

#define TGT512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
TGT512 static inline __m512 load16(const float *row, const float *sm, int32_t i) {
    __m512 v = _mm512_loadu_ps(row + i);
    return sm ? _mm512_mul_ps(v, _mm512_loadu_ps(sm + i)) : v;
}

// The same operations 16 lanes wide. Narrowing saturates as the scalar clamp does ((x - lo) inv
// is never below 0, so the unsigned forms need no clamp below).

// The row's lane minima and maxima of x * sm: two pairs of chains (exact in any order), the
// tail masked.
TGT512 static inline void range_lanes(const float *row, const float *sm, int32_t k, __m512 *lo, __m512 *hi) {
    const float first = sm ? row[0] * sm[0] : row[0];
    __m512 lo0 = _mm512_set1_ps(first), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    int32_t i = 0;
    for (; i + 32 <= k; i += 32) {
        const __m512 v0 = load16(row, sm, i), v1 = load16(row, sm, i + 16);
        lo0 = _mm512_min_ps(lo0, v0);
        hi0 = _mm512_max_ps(hi0, v0);
        lo1 = _mm512_min_ps(lo1, v1);
        hi1 = _mm512_max_ps(hi1, v1);
    }
    for (; i < k; i += 16) {
        const __mmask16 mk = ek_tail_mask16(k - i);
        __m512 v = _mm512_maskz_loadu_ps(mk, row + i);
        if (sm) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mk, sm + i));
        lo0 = _mm512_mask_min_ps(lo0, mk, lo0, v);
        hi0 = _mm512_mask_max_ps(hi0, mk, hi0, v);
    }
    *lo = _mm512_min_ps(lo0, lo1);
    *hi = _mm512_max_ps(hi0, hi1);
}

TGT512 static inline __m512i round16(const float *row, const float *sm, int32_t i, __mmask16 mk, __m512 vl, __m512 vinv) {
    __m512 v = _mm512_maskz_loadu_ps(mk, row + i);
    if (sm) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mk, sm + i));
    return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(v, vl), vinv));
}

// One row with its minimum lo and reciprocal step inv. Full vectors narrow in registers and
// store plainly; only the tail uses masks (a masked narrowing store to memory is microcoded and
// slow on Zen 4).
TGT512 static inline void quantize_row_with(const float *row, int32_t k, int32_t kp, const float *sm, float lo,
                                            float inv, int8_t *out, int32_t unsigned_a) {
    const __m512 vinv = _mm512_set1_ps(inv), vl = _mm512_set1_ps(lo);
    const __m512i c128 = _mm512_set1_epi32(128);
    int32_t i = 0;
    // 64 at a time, narrowed by packs (ek_pack64_u8), then -128 as a flip of the top bit if signed
    const __m512i flip = _mm512_set1_epi8(unsigned_a ? 0 : (char)0x80);
    for (; i + 64 <= k; i += 64) {
        const __m512i b = ek_pack64_u8(round16(row, sm, i, 0xFFFF, vl, vinv), round16(row, sm, i + 16, 0xFFFF, vl, vinv),
                                       round16(row, sm, i + 32, 0xFFFF, vl, vinv), round16(row, sm, i + 48, 0xFFFF, vl, vinv));
        _mm512_storeu_si512(out + i, _mm512_xor_si512(b, flip));
    }
    if (unsigned_a)
        for (; i + 16 <= k; i += 16)
            _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtusepi32_epi8(round16(row, sm, i, 0xFFFF, vl, vinv)));
    else
        for (; i + 16 <= k; i += 16)
            _mm_storeu_si128((__m128i *)(out + i),
                             _mm512_cvtsepi32_epi8(_mm512_sub_epi32(round16(row, sm, i, 0xFFFF, vl, vinv), c128)));
    if (i < k) {
        const __mmask16 mk = ek_tail_mask16(k - i);
        const __m512i r32 = round16(row, sm, i, mk, vl, vinv);
        const __m128i b = unsigned_a ? _mm512_cvtusepi32_epi8(r32) : _mm512_cvtsepi32_epi8(_mm512_sub_epi32(r32, c128));
        _mm_mask_storeu_epi8(out + i, mk, b);
    }
    pad_row(out, k, kp, unsigned_a);
}

// One row whose range [lo, hi] of x * sm is known.
TGT512 void ek_quantize_row_range_avx512(const float *row, int32_t k, int32_t kp, const float *sm, float lo, float hi,
                                         int8_t *out, float *scale, float *min, int32_t unsigned_a) {
    const float inv = row_params(lo, hi, scale, min);
    quantize_row_with(row, k, kp, sm, lo, inv, out, unsigned_a);
}

TGT512 static void quantize_rows_avx512(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp,
                                        const float *sm, int8_t *q, int64_t ldq, float *scales, float *mins,
                                        int32_t unsigned_a) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        __m512 lo, hi;
        range_lanes(row, sm, k, &lo, &hi);
        ek_quantize_row_range_avx512(row, k, kp, sm, _mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi), q + r * ldq,
                                     &scales[r], &mins[r], unsigned_a);
    }
}
#endif

#if EK_ARM
// 16 values at a time (one LD1 of four registers), the SmoothQuant product or not chosen once per
// call (SM is a constant in each instantiation), the range in two pairs of chains. The steps of
// quant_one in unsigned form: FCVTNU rounds halves to even (nearbyintf) and clamps below at 0,
// UQXTN twice clamps above at 255; the signed result q = r - 128 is r with its top bit flipped.
typedef struct { float32x4_t v[4]; } f32x16;

static inline __attribute__((always_inline)) f32x16 load16(const float *row, const float *sm, int32_t i, const int SM) {
    const float32x4x4_t x = vld1q_f32_x4(row + i);
    f32x16 r = {{x.val[0], x.val[1], x.val[2], x.val[3]}};
    if (SM) {
        const float32x4x4_t f = vld1q_f32_x4(sm + i);
        _Pragma("unroll") for (int t = 0; t < 4; t++) r.v[t] = vmulq_f32(r.v[t], f.val[t]);
    }
    return r;
}

// The row's range of x * sm (exact in any order).
static inline __attribute__((always_inline)) void range_neon(const float *row, const float *sm, int32_t k, float *lo,
                                                             float *hi, const int SM) {
    const float first = SM ? row[0] * sm[0] : row[0];
    float32x4_t lo0 = vdupq_n_f32(first), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    int32_t i = 0;
    for (; i + 16 <= k; i += 16) {
        const f32x16 v = load16(row, sm, i, SM);
        lo0 = vminq_f32(lo0, vminq_f32(v.v[0], v.v[1]));
        hi0 = vmaxq_f32(hi0, vmaxq_f32(v.v[0], v.v[1]));
        lo1 = vminq_f32(lo1, vminq_f32(v.v[2], v.v[3]));
        hi1 = vmaxq_f32(hi1, vmaxq_f32(v.v[2], v.v[3]));
    }
    for (; i + 4 <= k; i += 4) {
        const float32x4_t v = SM ? vmulq_f32(vld1q_f32(row + i), vld1q_f32(sm + i)) : vld1q_f32(row + i);
        lo0 = vminq_f32(lo0, v);
        hi0 = vmaxq_f32(hi0, v);
    }
    float l = vminvq_f32(vminq_f32(lo0, lo1)), h = vmaxvq_f32(vmaxq_f32(hi0, hi1));
    for (; i < k; i++) {
        const float v = SM ? row[i] * sm[i] : row[i];
        l = fminf(l, v);
        h = fmaxf(h, v);
    }
    *lo = l;
    *hi = h;
}

static inline __attribute__((always_inline)) void quantize_row_neon(const float *row, int32_t k, int32_t kp,
                                                                    const float *sm, float lo, float inv, int8_t *out,
                                                                    int32_t unsigned_a, const int SM) {
    const float32x4_t vinv = vdupq_n_f32(inv), vl = vdupq_n_f32(lo);
    const uint8x16_t flip = vdupq_n_u8(unsigned_a ? 0 : 0x80);
    int32_t i = 0;
    for (; i + 16 <= k; i += 16) {
        const f32x16 v = load16(row, sm, i, SM);
        uint32x4_t r[4];
        _Pragma("unroll") for (int t = 0; t < 4; t++) r[t] = vcvtnq_u32_f32(vmulq_f32(vsubq_f32(v.v[t], vl), vinv));
        const uint16x8_t ab = vqmovn_high_u32(vqmovn_u32(r[0]), r[1]), cd = vqmovn_high_u32(vqmovn_u32(r[2]), r[3]);
        vst1q_u8((uint8_t *)out + i, veorq_u8(vqmovn_high_u16(vqmovn_u16(ab), cd), flip));
    }
    for (; i < k; i++) out[i] = quant_one(SM ? row[i] * sm[i] : row[i], lo, inv, unsigned_a);
    pad_row(out, k, kp, unsigned_a);
}

// One row whose range [lo, hi] of x * sm is known (the fused LayerNorm and GELU passes take it
// while they write the row).
void ek_quantize_row_range_neon(const float *row, int32_t k, int32_t kp, const float *sm, float lo, float hi,
                                int8_t *out, float *scale, float *min, int32_t unsigned_a) {
    const float inv = row_params(lo, hi, scale, min);
    if (sm) quantize_row_neon(row, k, kp, sm, lo, inv, out, unsigned_a, 1);
    else quantize_row_neon(row, k, kp, NULL, lo, inv, out, unsigned_a, 0);
}

static inline __attribute__((always_inline)) void quantize_rows_neon_sm(const float *x, int64_t ldx, int32_t m,
                                                                        int32_t k, int32_t kp, const float *sm,
                                                                        int8_t *q, int64_t ldq, float *scales,
                                                                        float *mins, int32_t unsigned_a, const int SM) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        float lo, hi;
        range_neon(row, sm, k, &lo, &hi, SM);
        const float inv = row_params(lo, hi, &scales[r], &mins[r]);
        quantize_row_neon(row, k, kp, sm, lo, inv, q + r * ldq, unsigned_a, SM);
    }
}

static void quantize_rows_neon(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                               int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a) {
    if (sm) quantize_rows_neon_sm(x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a, 1);
    else quantize_rows_neon_sm(x, ldx, m, k, kp, NULL, q, ldq, scales, mins, unsigned_a, 0);
}
#endif

void ek_quantize_rows_at(int32_t level, const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp,
                         const float *sm, int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a) {
    if (level > ek_vector_level()) level = ek_vector_level();
#if EK_X86
    if (level == 2) { quantize_rows_avx512(x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a); return; }
    if (level == 1) { quantize_rows_avx2(x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a); return; }
#if defined(__SSE2__)
    quantize_rows_sse2(x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a);
    return;
#endif
#elif EK_ARM
    if (level >= 1) { quantize_rows_neon(x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a); return; }
#endif
    ek_quantize_rows_ref(x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a);
}

void ek_quantize_rows(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                      int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a) {
    ek_quantize_rows_at(2, x, ldx, m, k, kp, sm, q, ldq, scales, mins, unsigned_a);
}
