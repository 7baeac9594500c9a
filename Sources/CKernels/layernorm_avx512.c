// LayerNorm of one row on AVX-512, with the range the quantiser needs taken in the same pass:
// the sum and the squared deviations over four chains each, then y = (x - mean) inv gamma + beta
// with the minimum and maximum of y * sm (sm may be NULL) kept as it is stored. Tails masked.
// ek_layernorm and ek_layernorm_quantize both run it on AVX-512 CPUs, so the fused pass and the
// separate ones give the same floats; the tests hold it to the scalar twin (ops_f32.c).
#if defined(__x86_64__)
#include <immintrin.h>
#include "vector_math.h"

#define TGT EK_AVX512

TGT static inline __mmask16 tail_mask(int32_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

TGT void ek_layernorm_row_avx512(float *row, int32_t n, const float *gamma, const float *beta, float eps,
                                 const float *sm, float *lo, float *hi) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int32_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(row + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(row + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(row + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(row + i + 48));
    }
    for (; i < n; i += 16) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(tail_mask(n - i), row + i));
    const float mean = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) / (float)n;
    const __m512 vmean = _mm512_set1_ps(mean);
    a0 = a1 = a2 = a3 = _mm512_setzero_ps();
    for (i = 0; i + 64 <= n; i += 64) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(row + i), vmean), d1 = _mm512_sub_ps(_mm512_loadu_ps(row + i + 16), vmean);
        const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(row + i + 32), vmean), d3 = _mm512_sub_ps(_mm512_loadu_ps(row + i + 48), vmean);
        a0 = _mm512_fmadd_ps(d0, d0, a0);
        a1 = _mm512_fmadd_ps(d1, d1, a1);
        a2 = _mm512_fmadd_ps(d2, d2, a2);
        a3 = _mm512_fmadd_ps(d3, d3, a3);
    }
    for (; i < n; i += 16) {
        const __mmask16 mk = tail_mask(n - i);
        const __m512 d = _mm512_maskz_sub_ps(mk, _mm512_maskz_loadu_ps(mk, row + i), vmean);
        a0 = _mm512_fmadd_ps(d, d, a0);
    }
    const float var = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) / (float)n;
    const __m512 vinv = _mm512_set1_ps(1.0f / sqrtf(var + eps));
    __m512 vlo = _mm512_set1_ps(INFINITY), vhi = _mm512_set1_ps(-INFINITY);
    for (i = 0; i < n; i += 16) {
        const __mmask16 mk = tail_mask(n - i);
        const int full = mk == 0xFFFF;
        const __m512 x = full ? _mm512_loadu_ps(row + i) : _mm512_maskz_loadu_ps(mk, row + i);
        const __m512 g = full ? _mm512_loadu_ps(gamma + i) : _mm512_maskz_loadu_ps(mk, gamma + i);
        const __m512 b = full ? _mm512_loadu_ps(beta + i) : _mm512_maskz_loadu_ps(mk, beta + i);
        const __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_sub_ps(x, vmean), vinv), g, b);
        if (full) _mm512_storeu_ps(row + i, y);
        else _mm512_mask_storeu_ps(row + i, mk, y);
        if (lo) {
            const __m512 v = sm ? _mm512_mul_ps(y, _mm512_maskz_loadu_ps(mk, sm + i)) : y;
            vlo = _mm512_mask_min_ps(vlo, mk, vlo, v);
            vhi = _mm512_mask_max_ps(vhi, mk, vhi, v);
        }
    }
    if (lo) {
        *lo = _mm512_reduce_min_ps(vlo);
        *hi = _mm512_reduce_max_ps(vhi);
    }
}
#endif
