// Vector math shared by the fp32 passes (ops_vector.c) and int8 attention (attention_i8.c):
// scalar bodies the compiler vectorises once per instantiation (internal header).
#ifndef EDGEBERT_VECTOR_MATH_H
#define EDGEBERT_VECTOR_MATH_H
#include <stdint.h>
#include <string.h>
#include <math.h>

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

#if defined(__x86_64__)
#define EK_AVX2 __attribute__((target("avx2,fma")))
#define EK_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma")))
/// GELU (erf form) by table on AVX-512 (gelu_avx512.c); the caller checks ek_vector_level() == 2.
void ek_gelu_table_avx512(float *x, int64_t n);
#endif
#endif
