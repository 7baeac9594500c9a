// Dynamic activation quantisation: one fp32 scale per row, round to nearest even, optional
// per-channel smoothing (v = x * sm). Every path computes the same floats in the same order, so
// the SIMD paths agree with the scalar twin bit for bit.
#include <math.h>
#include <string.h>
#include "ckernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EK_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define EK_ARM 1
#endif

static inline void pad_row(int8_t *q, int32_t k, int32_t kp, int32_t unsigned_a) {
    if (kp > k) memset(q + k, unsigned_a ? 0x80 : 0, (size_t)(kp - k));
}

static inline int8_t quant_one(float v, float inv, int32_t off) {
    int32_t r = (int32_t)nearbyintf(v * inv);
    r = r > 127 ? 127 : (r < -127 ? -127 : r);
    return (int8_t)(uint8_t)(r + off);
}

void ek_quantize_rows_ref(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                          int8_t *q, int64_t ldq, float *scales, int32_t unsigned_a) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        int8_t *out = q + r * ldq;
        float amax = 0.0f;
        for (int32_t i = 0; i < k; i++) amax = fmaxf(amax, fabsf(sm ? row[i] * sm[i] : row[i]));
        const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        scales[r] = amax / 127.0f;
        const int32_t off = unsigned_a ? 128 : 0;
        for (int32_t i = 0; i < k; i++) out[i] = quant_one(sm ? row[i] * sm[i] : row[i], inv, off);
        pad_row(out, k, kp, unsigned_a);
    }
}

#if EK_X86
#define TGT __attribute__((target("avx2,fma")))
TGT static inline __m256 load8(const float *row, const float *sm, int32_t i) {
    __m256 v = _mm256_loadu_ps(row + i);
    return sm ? _mm256_mul_ps(v, _mm256_loadu_ps(sm + i)) : v;
}

TGT static void quantize_rows_avx2(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                                   int8_t *q, int64_t ldq, float *scales, int32_t unsigned_a) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        int8_t *out = q + r * ldq;
        __m256 vmax = _mm256_setzero_ps();
        int32_t i = 0;
        for (; i + 8 <= k; i += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, load8(row, sm, i)));
        float lanes[8];
        _mm256_storeu_ps(lanes, vmax);
        float amax = 0.0f;
        for (int t = 0; t < 8; t++) amax = fmaxf(amax, lanes[t]);
        for (; i < k; i++) amax = fmaxf(amax, fabsf(sm ? row[i] * sm[i] : row[i]));
        const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        scales[r] = amax / 127.0f;
        const __m256 vinv = _mm256_set1_ps(inv);
        const __m256i off = _mm256_set1_epi8(unsigned_a ? (char)0x80 : 0);
        i = 0;
        for (; i + 32 <= k; i += 32) {
            __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(load8(row, sm, i), vinv));
            __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(load8(row, sm, i + 8), vinv));
            __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(load8(row, sm, i + 16), vinv));
            __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(load8(row, sm, i + 24), vinv));
            __m256i abcd = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
            // the packs interleave 128-bit lanes: restore the order 0..31
            abcd = _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            abcd = _mm256_max_epi8(abcd, _mm256_set1_epi8(-127));
            _mm256_storeu_si256((__m256i *)(out + i), _mm256_xor_si256(abcd, off));
        }
        const int32_t o = unsigned_a ? 128 : 0;
        for (; i < k; i++) out[i] = quant_one(sm ? row[i] * sm[i] : row[i], inv, o);
        pad_row(out, k, kp, unsigned_a);
    }
}

static int has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

#if EK_ARM
static inline float32x4_t load4(const float *row, const float *sm, int32_t i) {
    float32x4_t v = vld1q_f32(row + i);
    return sm ? vmulq_f32(v, vld1q_f32(sm + i)) : v;
}

static void quantize_rows_neon(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                               int8_t *q, int64_t ldq, float *scales, int32_t unsigned_a) {
    for (int32_t r = 0; r < m; r++) {
        const float *row = x + r * ldx;
        int8_t *out = q + r * ldq;
        float32x4_t vmax = vdupq_n_f32(0.0f);
        int32_t i = 0;
        for (; i + 4 <= k; i += 4) vmax = vmaxq_f32(vmax, vabsq_f32(load4(row, sm, i)));
        float amax = vmaxvq_f32(vmax);
        for (; i < k; i++) amax = fmaxf(amax, fabsf(sm ? row[i] * sm[i] : row[i]));
        const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        scales[r] = amax / 127.0f;
        const float32x4_t vinv = vdupq_n_f32(inv);
        const int8x16_t off = vdupq_n_s8(unsigned_a ? (int8_t)0x80 : 0);
        i = 0;
        for (; i + 16 <= k; i += 16) {
            int32x4_t a = vcvtnq_s32_f32(vmulq_f32(load4(row, sm, i), vinv));
            int32x4_t b = vcvtnq_s32_f32(vmulq_f32(load4(row, sm, i + 4), vinv));
            int32x4_t c = vcvtnq_s32_f32(vmulq_f32(load4(row, sm, i + 8), vinv));
            int32x4_t d = vcvtnq_s32_f32(vmulq_f32(load4(row, sm, i + 12), vinv));
            int16x8_t ab = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
            int16x8_t cd = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
            int8x16_t v = vmaxq_s8(vcombine_s8(vqmovn_s16(ab), vqmovn_s16(cd)), vdupq_n_s8(-127));
            vst1q_s8(out + i, veorq_s8(v, off));
        }
        const int32_t o = unsigned_a ? 128 : 0;
        for (; i < k; i++) out[i] = quant_one(sm ? row[i] * sm[i] : row[i], inv, o);
        pad_row(out, k, kp, unsigned_a);
    }
}
#endif

void ek_quantize_rows(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                      int8_t *q, int64_t ldq, float *scales, int32_t unsigned_a) {
#if EK_X86
    static int avx2 = -1;
    if (avx2 < 0) avx2 = has_avx2();
    if (avx2) { quantize_rows_avx2(x, ldx, m, k, kp, sm, q, ldq, scales, unsigned_a); return; }
#elif EK_ARM
    quantize_rows_neon(x, ldx, m, k, kp, sm, q, ldq, scales, unsigned_a);
    return;
#endif
    ek_quantize_rows_ref(x, ldx, m, k, kp, sm, q, ldq, scales, unsigned_a);
}
