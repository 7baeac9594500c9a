// GELU on AVX-512 by table: with a = |x| and R(a) = Phi(a) - 1/2, GELU(x) = x Phi(x) = x/2 + a R(a)
// for either sign. R is one cubic in a per segment, 16 segments of width 5/16 over [0, 5) (beyond,
// R is 1/2 to 3e-7), coefficients by Tools/fit_gelu_table.py. vpermps picks a segment's four
// coefficients from one register each: 13 operations a vector, no division. |error| <= 1.6e-6 x
// max(1, |x|) against the erf form (the rational in ops_vector.c is 4e-7 but needs a division).
#if defined(__x86_64__)
#include <immintrin.h>
#include "vector_math.h"

static const float gelu_c0[16] = {-5.704336558665091e-07f, -0.000707946193870157f, -0.007673891261219978f, -0.029078619554638863f, -0.06111050024628639f, -0.08040711283683777f, -0.0577494241297245f, 0.018160929903388023f, 0.13191665709018707f, 0.2528175115585327f, 0.35416197776794434f, 0.4242710769176483f, 0.4653019607067108f, 0.485933780670166f, 0.4949418008327484f, 0.4983827471733093f};
static const float gelu_c1[16] = {0.3989945948123932f, 0.4050123393535614f, 0.4375940263271332f, 0.505895733833313f, 0.5834490656852722f, 0.6216277480125427f, 0.586355984210968f, 0.4827119708061218f, 0.34615007042884827f, 0.21685169637203217f, 0.11918194591999054f, 0.05770682543516159f, 0.024708330631256104f, 0.009385614655911922f, 0.0031715792138129473f, 0.0009556244476698339f};
static const float gelu_c2[16] = {-0.0007264948217198253f, -0.018199864774942398f, -0.06948287785053253f, -0.14246441423892975f, -0.20521174371242523f, -0.23041322827339172f, -0.2121054083108902f, -0.16489744186401367f, -0.11021556705236435f, -0.06409911811351776f, -0.03271026164293289f, -0.014736170880496502f, -0.0058875735849142075f, -0.0020934506319463253f, -0.0006642938824370503f, -0.0001885321398731321f};
static const float gelu_c3[16] = {-0.06373865902423859f, -0.04629470035433769f, -0.01911948062479496f, 0.00699313310906291f, 0.023957543075084686f, 0.029507147148251534f, 0.026338644325733185f, 0.01916537433862686f, 0.011862155981361866f, 0.006376655772328377f, 0.0030127454083412886f, 0.001260418794117868f, 0.00046928442316129804f, 0.00015605470980517566f, 4.64709046354983e-05f, 1.2417078323778696e-05f};

#define TGT EK_AVX512

TGT static inline __m512 gelu16(__m512 x, const __m512 c[4]) {
    const __m512 a = _mm512_abs_ps(x);
    // R's argument kept inside the table (5 - 1/32 keeps the segment index at most 15)
    const __m512 ac = _mm512_min_ps(a, _mm512_set1_ps(4.96875f));
    const __m512i seg = _mm512_cvttps_epi32(_mm512_mul_ps(ac, _mm512_set1_ps(3.2f)));
    __m512 p = _mm512_permutexvar_ps(seg, c[3]);
    p = _mm512_fmadd_ps(p, ac, _mm512_permutexvar_ps(seg, c[2]));
    p = _mm512_fmadd_ps(p, ac, _mm512_permutexvar_ps(seg, c[1]));
    p = _mm512_fmadd_ps(p, ac, _mm512_permutexvar_ps(seg, c[0]));
    return _mm512_fmadd_ps(a, p, _mm512_mul_ps(x, _mm512_set1_ps(0.5f)));
}

// GELU over x[0..<n] in place; with lo / hi, also the range of the results times sm (when sm is
// not NULL), for the quantiser that follows.
TGT static inline void gelu_row(float *x, int64_t n, const float *sm, float *lo, float *hi) {
    const float *tab[4] = {gelu_c0, gelu_c1, gelu_c2, gelu_c3};
    __m512 c[4];
    for (int d = 0; d < 4; d++) c[d] = _mm512_loadu_ps(tab[d]);
    __m512 vlo = _mm512_set1_ps(INFINITY), vhi = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {  // full vectors unmasked, the tail masked
        const __mmask16 mk = ek_tail_mask16((int32_t)(n - i));
        const __m512 g = gelu16(mk == 0xFFFF ? _mm512_loadu_ps(x + i) : _mm512_maskz_loadu_ps(mk, x + i), c);
        if (mk == 0xFFFF) _mm512_storeu_ps(x + i, g);
        else _mm512_mask_storeu_ps(x + i, mk, g);
        if (lo) {
            const __m512 v = sm ? _mm512_mul_ps(g, _mm512_maskz_loadu_ps(mk, sm + i)) : g;
            vlo = _mm512_mask_min_ps(vlo, mk, vlo, v);
            vhi = _mm512_mask_max_ps(vhi, mk, vhi, v);
        }
    }
    if (lo) {
        *lo = _mm512_reduce_min_ps(vlo);
        *hi = _mm512_reduce_max_ps(vhi);
    }
}

TGT void ek_gelu_table_avx512(float *x, int64_t n) { gelu_row(x, n, NULL, NULL, NULL); }

TGT void ek_gelu_range_avx512(float *x, int64_t n, const float *sm, float *lo, float *hi) {
    gelu_row(x, n, sm, lo, hi);
}
#endif
