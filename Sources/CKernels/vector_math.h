// Vector math shared by the fp32 passes (ops_vector.c), int8 attention (attention_i8.c) and the
// quantiser (internal header): scalar bodies the compiler vectorises once per instantiation, and,
// on x86, the AVX-512 passes' entry points (gelu_avx512.c, layernorm_avx512.c, quantize.c) and
// helpers (sixteen reductions at once, narrowing by packs).
#ifndef EDGEBERT_VECTOR_MATH_H
#define EDGEBERT_VECTOR_MATH_H
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "include/ckernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

// exp(x) for x <= 88: Cephes' range reduction and polynomial (about 1 ulp), 2^n by exponent bits.
ALWAYS_INLINE float exp_poly(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float fn = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    const float z = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    const int32_t e = ((int32_t)fn + 127) << 23;
    float p;
    memcpy(&p, &e, 4);
    return y * p;
}

// The largest of x[0..<n] (n >= 1) over 16 lane maxima: vectorisable, and exact in any order.
ALWAYS_INLINE float row_max(const float *x, int32_t n) {
    float ml[16];
    for (int c = 0; c < 16; c++) ml[c] = x[0];
    int32_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int c = 0; c < 16; c++) ml[c] = x[j + c] > ml[c] ? x[j + c] : ml[c];
    for (; j < n; j++) ml[0] = x[j] > ml[0] ? x[j] : ml[0];
    float mx = ml[0];
    for (int c = 1; c < 16; c++) mx = ml[c] > mx ? ml[c] : mx;
    return mx;
}

/// Which instantiation of the vector bodies this CPU runs: 2 AVX-512 (the VNNI path's CPUs),
/// 1 AVX2 + FMA, 0 baseline (SSE2 / NEON). Chosen once.
int ek_vector_level(void);

#if defined(__aarch64__)
/// One row quantised as ek_quantize_rows does, its range [lo, hi] of x * sm already known (quantize.c).
void ek_quantize_row_range_neon(const float *row, int32_t k, int32_t kp, const float *sm, float lo, float hi,
                                int8_t *out, float *scale, float *min, int32_t unsigned_a);
/// The fp32 passes in NEON intrinsics (ops_neon.c): LayerNorm and GELU of rows [m][ld] over n
/// columns in place, each row then quantised into `to` when it is not NULL (the range taken as the
/// row is written); GELU over n floats; the int8 attention's softmax (softmax_quant_body's steps).
void ek_layernorm_rows_neon(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                            float eps, const ek_quantize_to *to);
void ek_gelu_rows_neon(float *x, int64_t ld, int32_t m, int32_t n, const ek_quantize_to *to);
void ek_gelu_neon(float *x, int64_t n);
void ek_softmax_quant_neon(const float *s, int64_t lds, int32_t rows, int32_t n, int8_t *p, int32_t unsigned_a,
                           float *ps, float *pz);
/// The int8 attention's packing of K and V (pack_keys_body, pack_values_body) for d % 16 == 0.
void ek_pack_keys_neon(const float *k, int64_t ld, int32_t n, int32_t d, float scale, int8_t *kt, int8_t *dst,
                       float *ks, int32_t *kc);
void ek_pack_values_neon(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt, int8_t *dst, float *vs,
                         int32_t *vc, float *vi);
#endif

#if defined(__x86_64__)
#define EK_AVX2 __attribute__((target("avx2,fma")))
#define EK_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma")))
/// GELU (erf form) by table on AVX-512 (gelu_avx512.c); the caller checks ek_vector_level() == 2.
void ek_gelu_table_avx512(float *x, int64_t n);
/// The same, also giving the range of x * sm (sm may be NULL) after GELU, for the quantiser.
void ek_gelu_range_avx512(float *x, int64_t n, const float *sm, float *lo, float *hi);
/// LayerNorm of rows [m][ld] over n columns in place, each row then quantised into `to` when it is
/// not NULL (layernorm_avx512.c).
void ek_layernorm_rows_avx512(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                              float eps, const ek_quantize_to *to);
/// One row quantised as ek_quantize_rows does, its range [lo, hi] of x * sm already known (quantize.c).
void ek_quantize_row_range_avx512(const float *row, int32_t k, int32_t kp, const float *sm, float lo, float hi,
                                  int8_t *out, float *scale, float *min, int32_t unsigned_a);

#include <immintrin.h>
// Sixteen horizontal reductions at once, for short rows: lane r of the result is OP over the 16
// lanes of v[r]. Four rounds of pairwise merges (each halves the vectors and the lanes per row)
// and one permute: 46 instructions where 16 separate reductions take about 130, and the rows'
// reductions no longer form 16 serial chains.
#define EK_REDUCE16(name, type, OP, castin, castout)                                                        \
    EK_AVX512 static inline type name(const type v[16]) {                                                    \
        __m512 m[8], n[4], o[2];                                                                             \
        for (int i = 0; i < 8; i++) { /* blocks 0-1: row 2i, blocks 2-3: row 2i + 1 */                     \
            const __m512 a = castin(v[2 * i]), b = castin(v[2 * i + 1]);                                     \
            m[i] = OP(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));                  \
        }                                                                                                    \
        for (int j = 0; j < 4; j++) /* block k: row 4j + k */                                               \
            n[j] = OP(_mm512_shuffle_f32x4(m[2 * j], m[2 * j + 1], 0x88),                                    \
                      _mm512_shuffle_f32x4(m[2 * j], m[2 * j + 1], 0xDD));                                  \
        for (int l = 0; l < 2; l++) /* block k: lanes 0-1 row 8l + k, lanes 2-3 row 8l + 4 + k */          \
            o[l] = OP(_mm512_shuffle_ps(n[2 * l], n[2 * l + 1], 0x44), _mm512_shuffle_ps(n[2 * l], n[2 * l + 1], 0xEE)); \
        /* lane 4k + i: row k + 4i */                                                                        \
        const __m512 r = OP(_mm512_shuffle_ps(o[0], o[1], 0x88), _mm512_shuffle_ps(o[0], o[1], 0xDD));       \
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);      \
        return castout(_mm512_permutexvar_ps(order, r));                                                     \
    }
/// The lanes of a row's next 16 values: all 16, or the first `left` at the row's end (left >= 1).
EK_AVX512 static inline __mmask16 ek_tail_mask16(int32_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}
/// x rounded to the nearest integer, halves away from zero: (int)(x + copysign(0.5, x)), as the
/// scalar bodies' round_i32 (|x| well inside int32).
EK_AVX512 static inline __m512i ek_round_away16(__m512 x) {
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    const __m512 half = _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(0.5f))));
    return _mm512_cvttps_epi32(_mm512_add_ps(x, half));
}
/// Four vectors of values 0..255 (int32) as 64 bytes in order: two rounds of saturating packs
/// (cheaper than four vpmovusdb, 2.5 cycles each on Zen 4), then one permute for the 128-bit lanes.
EK_AVX512 static inline __m512i ek_pack64_u8(__m512i a, __m512i b, __m512i c, __m512i d) {
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d)));
}

#define EK_ID(x) (x)
#define EK_ADD_EPI32_PS(a, b) _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
EK_REDUCE16(ek_reduce16_max_ps, __m512, _mm512_max_ps, EK_ID, EK_ID)
EK_REDUCE16(ek_reduce16_min_ps, __m512, _mm512_min_ps, EK_ID, EK_ID)
EK_REDUCE16(ek_reduce16_add_ps, __m512, _mm512_add_ps, EK_ID, EK_ID)
EK_REDUCE16(ek_reduce16_add_epi32, __m512i, EK_ADD_EPI32_PS, _mm512_castsi512_ps, _mm512_castps_si512)
#endif
#endif
