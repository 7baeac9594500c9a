// Self-attention of one head with int8 matmuls, run by the kernel path's own GEMM:
//   S = Q K^T / sqrt(d)  Q quantised per row, asymmetric (as every activation); K per key row,
//                        symmetric, packed on the fly as the "weights" (the 1/sqrt(d) folds into
//                        their scales);
//   P = softmax(S)       kept as u = round(255 exp(s - max)) in 0..255, with a row scale and an
//                        offset that keep the row's sum at one (softmax_quant_body);
//   O = P V              V quantised per column, symmetric, packed transposed: the key tokens are
//                        the reduction.
// Query rows go in blocks of RB, so the scratch grows linearly with n (ek_attention_i8_scratch).
#include "include/ckernels.h"
#include "vector_math.h"

#define RB 32  // query rows per block
#define LANES 16

static inline int64_t up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Byte offsets of the scratch areas for n tokens and head width d.
typedef struct plan {
    int64_t qq, qs, qmin;     // Q quantised [n][dp], scales [n], minimums [n]
    int64_t kq, ks, kc;       // K packed [n16/16][dp/4][16][4], scales [n16], column sums [n16]
    int64_t vq, vs, vc, vi;   // V^T packed [d16/16][n4/4][16][4], scales, sums, inverse scales [d16]
    int64_t kt, vt;           // row-major staging: K [n16][dp], V [n4][d16]
    int64_t s, p, ps, pz;     // a block of scores [RB][n16] f32, probabilities [RB][n4], scales, offsets [RB]
    int64_t total;
} plan;

static plan make_plan(int32_t n, int32_t d) {
    const int64_t dp = up(d, 4), n16 = up(n, 16), n4 = up(n, 4), d16 = up(d, 16);
    plan p;
    int64_t o = 0;
#define TAKE(field, bytes) p.field = o; o += up((bytes), 64);
    TAKE(qq, n * dp) TAKE(qs, 4 * n) TAKE(qmin, 4 * n)
    TAKE(kq, n16 * dp) TAKE(ks, 4 * n16) TAKE(kc, 4 * n16)
    TAKE(vq, d16 * n4) TAKE(vs, 4 * d16) TAKE(vc, 4 * d16) TAKE(vi, 4 * d16)
    TAKE(kt, n16 * dp) TAKE(vt, n4 * d16)
    TAKE(s, 4 * RB * n16) TAKE(p, RB * n4) TAKE(ps, 4 * RB) TAKE(pz, 4 * RB)
#undef TAKE
    p.total = o;
    return p;
}

int64_t ek_attention_i8_scratch(int32_t n, int32_t d) { return make_plan(n, d).total; }

// Rounds to the nearest integer, halves away from zero (vectorises; |x| <= 127.5 here).
ALWAYS_INLINE int32_t round_i32(float x) { return (int32_t)(x + copysignf(0.5f, x)); }

// K [n][ld] -> symmetric int8 per key row, packed as B rows: byte (p, g, j, t) = K[16p + j][4g + t].
// Rows are quantised into kt [n16][dp] first, then the 4-byte groups are transposed into panels.
ALWAYS_INLINE void pack_keys_body(const float *k, int64_t ld, int32_t n, int32_t d, float scale, int8_t *kt,
                                  int8_t *dst, float *ks, int32_t *kc) {
    const int32_t dp = (int32_t)up(d, 4), n16 = (int32_t)up(n, 16), groups = dp / 4;
    memset(kt, 0, (size_t)n16 * (size_t)dp);
    for (int32_t j = 0; j < n16; j++) {
        if (j >= n) { ks[j] = 0.0f; kc[j] = 0; continue; }
        const float *row = k + (int64_t)j * ld;
        float ml[LANES] = {0};
        int32_t c = 0;
        for (; c + LANES <= d; c += LANES)
            for (int l = 0; l < LANES; l++) ml[l] = fmaxf(ml[l], fabsf(row[c + l]));
        for (; c < d; c++) ml[0] = fmaxf(ml[0], fabsf(row[c]));
        float amax = ml[0];
        for (int l = 1; l < LANES; l++) amax = fmaxf(amax, ml[l]);
        const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        ks[j] = amax / 127.0f * scale;
        int8_t *out = kt + (int64_t)j * dp;
        int32_t sum = 0;
        for (c = 0; c < d; c++) {
            const int32_t qv = round_i32(row[c] * inv);
            out[c] = (int8_t)qv;
            sum += qv;
        }
        kc[j] = sum;
    }
    // [n16][groups] words -> [n16/16][groups][16] words
    for (int32_t p = 0; p < n16 / 16; p++)
        for (int32_t g = 0; g < groups; g++)
            for (int32_t j = 0; j < 16; j++)
                memcpy(dst + (((int64_t)p * groups + g) * 16 + j) * 4, kt + ((int64_t)p * 16 + j) * dp + g * 4, 4);
}

// V [n][ld] -> symmetric int8 per column c, packed with the tokens as the reduction:
// byte (p, g, c, t) = V[4g + t][16p + c]. Quantised into vt [n4][d16] first, then interleaved.
ALWAYS_INLINE void pack_values_body(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt, int8_t *dst,
                                    float *vs, int32_t *vc, float *vi) {
    const int32_t n4 = (int32_t)up(n, 4), d16 = (int32_t)up(d, 16), groups = n4 / 4;
    memset(vt, 0, (size_t)n4 * (size_t)d16);
    for (int32_t c = 0; c < d16; c++) { vi[c] = 0.0f; vc[c] = 0; }
    for (int32_t j = 0; j < n; j++)
        for (int32_t c = 0; c < d; c++) vi[c] = fmaxf(vi[c], fabsf(v[(int64_t)j * ld + c]));
    for (int32_t c = 0; c < d16; c++) {
        vs[c] = vi[c] / 127.0f;
        vi[c] = vi[c] > 0.0f ? 127.0f / vi[c] : 0.0f;
    }
    for (int32_t j = 0; j < n; j++) {
        const float *row = v + (int64_t)j * ld;
        int8_t *out = vt + (int64_t)j * d16;
        for (int32_t c = 0; c < d; c++) {
            const int32_t qv = round_i32(row[c] * vi[c]);
            out[c] = (int8_t)qv;
            vc[c] += qv;
        }
    }
    for (int32_t p = 0; p < d16 / 16; p++)
        for (int32_t g = 0; g < groups; g++) {
            int8_t *o = dst + ((int64_t)p * groups + g) * 64;
            const int8_t *src = vt + (int64_t)g * 4 * d16 + p * 16;
            for (int32_t c = 0; c < 16; c++)
                for (int32_t t = 0; t < 4; t++) o[c * 4 + t] = src[(int64_t)t * d16 + c];
        }
}

// 255 * 2^x for x <= 0, relative error below 1e-4 (an 8-bit probability needs no more): a cubic
// for 2^f on [0, 1) with 255 folded into its coefficients, so the row maximum gives exactly 255.
// x below -32 gives u = 0 whatever it is.
#define E255_C3 (0.07706609f * 255.0f)
#define E255_C2 (0.22764604f * 255.0f)
#define E255_C1 (0.69511656f * 255.0f)
ALWAYS_INLINE float exp2_255(float x) {
    x = x >= -32.0f ? x : -32.0f;  // (NaN too)
    // floor for x in [-32, 0]: truncation, one less when that rounded up; no libm call on SSE2
    const float t = (float)(int32_t)x;
    const float whole = t > x ? t - 1.0f : t;
    const float f = x - whole;
    float p = E255_C3;
    p = p * f + E255_C2;
    p = p * f + E255_C1;
    p = p * f + 255.0f;
    int32_t bits;
    memcpy(&bits, &p, 4);
    bits += (int32_t)whole * (1 << 23);
    memcpy(&p, &bits, 4);
    return p;
}

// e rounded to the nearest integer, halves to even (nearbyintf in the default rounding mode) for
// 0 <= e < 2^22: adding 1.5 * 2^23 leaves no fraction bits. Reassociation stays off here, whatever
// the caller allows, or the two additions would cancel.
ALWAYS_INLINE int32_t round_even_small(float e) {
#pragma clang fp reassociate(off)
    const float magic = 12582912.0f;
    return (int32_t)((e + magic) - magic);
}

// One row of scores s [n] (in log2 units) -> p [n4] as u = round(255 e), e = 2^(s - max) (uint8,
// or int8 u - 128 for the signed kernels; halves to even); padding holds u = 0. The row's
// dequantisation is p_j = scale * u_j + offset: scale = 1 / (255 sum e), and the offset spreads
// what rounding lost, sum e - sum u / 255, evenly over the n tokens, so the probabilities still sum
// to one. Without it a long flat tail (many e below 1/510, all rounded to 0) would hand its mass to
// the peak. Kept in units of 1/255: t = 255 sum e, scale = 1 / t, offset = (t - sum u) / (n t).
ALWAYS_INLINE void softmax_quant_body(const float *s, int32_t n, int32_t n4, int8_t *p, int32_t unsigned_a,
                                      float *scale, float *offset) {
    const float mx = row_max(s, n);
    int32_t j;
    const int32_t flip = unsigned_a ? 0 : 0x80;
    int32_t sum_u = 0;  // integer: exact, and a reduction the vectoriser keeps in registers
    float total = 0.0f;
    {
#pragma clang fp reassociate(on)
        for (j = 0; j < n; j++) {
            const float e = exp2_255(s[j] - mx);
            const int32_t u = round_even_small(e);
            p[j] = (int8_t)(uint8_t)(u ^ flip);
            sum_u += u;
            total += e;  // >= 255: the maximum itself gives 255
        }
    }
    for (; j < n4; j++) p[j] = (int8_t)(uint8_t)flip;
    const float inv = 1.0f / total;
    *scale = inv;
    *offset = (total - (float)sum_u) * inv / (float)n;
}

#if defined(__x86_64__)
#include <immintrin.h>
// softmax_quant_body in AVX-512 intrinsics (the same steps; the float sum in another order),
// sixteen rows at a time in three passes, so the rows' short reduction chains overlap instead of
// queueing: the maxima, the exponentials (sums kept per row as vectors), then the sums reduced
// all at once (ek_reduce16_*) and the scales and offsets as vectors. vscalefps gives 2^whole
// for any exponent, so no clamp.
EK_AVX512 static void softmax_quant_avx512(const float *s, int64_t lds, int32_t rows, int32_t n, int8_t *p,
                                           int32_t unsigned_a, float *ps, float *pz) {
    const int32_t n4 = (int32_t)up(n, 4);
    const __m512 c3 = _mm512_set1_ps(E255_C3), c2 = _mm512_set1_ps(E255_C2), c1 = _mm512_set1_ps(E255_C1);
    const __m512 c0 = _mm512_set1_ps(255.0f), one = _mm512_set1_ps(1.0f);
    const __m512i flip32 = _mm512_set1_epi32(unsigned_a ? 0 : 0x80), flip8 = _mm512_set1_epi8(unsigned_a ? 0 : (char)0x80);
    for (int32_t r0 = 0; r0 < rows; r0 += 16) {
        const int32_t nr = rows - r0 < 16 ? rows - r0 : 16;
        __m512 vm[16], se[16];
        __m512i su[16];
        for (int32_t r = 0; r < 16; r++) {  // rows past the block's end: harmless stand-ins
            const float *row = s + (r0 + (r < nr ? r : 0)) * lds;
            __m512 m0 = _mm512_set1_ps(row[0]), m1 = m0;
            int32_t j = 0;
            for (; j + 32 <= n; j += 32) {
                m0 = _mm512_max_ps(m0, _mm512_loadu_ps(row + j));
                m1 = _mm512_max_ps(m1, _mm512_loadu_ps(row + j + 16));
            }
            for (; j < n; j += 16) {
                const __mmask16 mk = ek_tail_mask16(n - j);
                m0 = _mm512_mask_max_ps(m0, mk, m0, _mm512_maskz_loadu_ps(mk, row + j));
            }
            vm[r] = _mm512_max_ps(m0, m1);
        }
        float mxs[16];
        _mm512_storeu_ps(mxs, ek_reduce16_max_ps(vm));
        for (int32_t r = 0; r < nr; r++) {
            const float *row = s + (r0 + r) * lds;
            int8_t *out = p + (int64_t)(r0 + r) * n4;
            const __m512 mx = _mm512_set1_ps(mxs[r]);
            __m512i u_sum = _mm512_setzero_si512();
            __m512 e_sum = _mm512_setzero_ps();
            // e = 255 * 2^(s - max), u = e rounded (halves to even, as nearbyintf)
#define EXP255(e, u, mask, src)                                                                         \
    do {                                                                                                \
        const __m512 x = _mm512_sub_ps((src), mx);                                                      \
        const __m512 whole = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);         \
        const __m512 f = _mm512_sub_ps(x, whole);                                                       \
        __m512 q = _mm512_fmadd_ps(c3, f, c2);                                                          \
        q = _mm512_fmadd_ps(q, f, c1);                                                                  \
        q = _mm512_fmadd_ps(q, f, c0);                                                                  \
        e = _mm512_scalef_ps(q, whole);                                                                 \
        u = _mm512_maskz_cvtps_epi32((mask), e);                                                        \
        u_sum = _mm512_add_epi32(u_sum, u);                                                             \
        e_sum = _mm512_mask_add_ps(e_sum, (mask), e_sum, e);                                            \
    } while (0)
            int32_t j = 0;
            // 64 at a time, narrowed by packs (ek_pack64_u8)
            for (; j + 64 <= n; j += 64) {
                __m512 e;
                __m512i u0, u1, u2, u3;
                EXP255(e, u0, 0xFFFF, _mm512_loadu_ps(row + j));
                EXP255(e, u1, 0xFFFF, _mm512_loadu_ps(row + j + 16));
                EXP255(e, u2, 0xFFFF, _mm512_loadu_ps(row + j + 32));
                EXP255(e, u3, 0xFFFF, _mm512_loadu_ps(row + j + 48));
                _mm512_storeu_si512(out + j, _mm512_xor_si512(ek_pack64_u8(u0, u1, u2, u3), flip8));
            }
            for (; j < n; j += 16) {
                const __mmask16 mask = ek_tail_mask16(n - j);
                __m512 e;
                __m512i u;
                EXP255(e, u, mask, _mm512_maskz_loadu_ps(mask, row + j));
                _mm_mask_storeu_epi8(out + j, mask, _mm512_cvtepi32_epi8(_mm512_xor_si512(u, flip32)));
            }
#undef EXP255
            for (j = n; j < n4; j++) out[j] = (int8_t)(uint8_t)(unsigned_a ? 0 : 0x80);
            se[r] = e_sum;
            su[r] = u_sum;
        }
        for (int32_t r = nr; r < 16; r++) {
            se[r] = one;
            su[r] = _mm512_setzero_si512();
        }
        // per row: t = 255 sum e (>= 255), scale = 1 / t, offset = (t - sum u) / (n t), as the body's
        const __m512 total = ek_reduce16_add_ps(se);
        const __m512 sum_u = _mm512_cvtepi32_ps(ek_reduce16_add_epi32(su));
        const __m512 inv = _mm512_div_ps(one, total);
        const __mmask16 mk = ek_tail_mask16(nr);
        _mm512_mask_storeu_ps(ps + r0, mk, inv);
        _mm512_mask_storeu_ps(pz + r0, mk, _mm512_div_ps(_mm512_mul_ps(_mm512_sub_ps(total, sum_u), inv), _mm512_set1_ps((float)n)));
    }
}
#endif

#if defined(__x86_64__)
// pack_keys_body in AVX-512 for head widths that are a multiple of 16 (the portable body
// otherwise): per row, the |max| and the column sum reduce in registers; the same rounding
// (halves away from zero), so the same bytes. The 4-byte groups go to the panels by gathers.
EK_AVX512 static void pack_keys_avx512_wide(const float *k, int64_t ld, int32_t n, int32_t d, float scale,
                                            int8_t *kt, int8_t *dst, float *ks, int32_t *kc) {
    const int32_t dp = d, n16 = (int32_t)up(n, 16), groups = dp / 4;
    // one panel of 16 key rows at a time: the |max| of each row, reduced together; scales and
    // reciprocals as vectors (the same divisions as the body's); then the rows, their sums reduced
    // together
    for (int32_t j0 = 0; j0 < n16; j0 += 16) {
        const int32_t nr = n - j0 < 16 ? n - j0 : 16;
        __m512 vmax[16];
        for (int32_t r = 0; r < 16; r++) {
            vmax[r] = _mm512_setzero_ps();
            if (j0 + 16 + r < n)  // the next panel's rows: a head's slice of K is strided, so no
                for (int32_t c = 0; c < d; c += 16)  // hardware prefetcher follows it
                    _mm_prefetch((const char *)(k + (int64_t)(j0 + 16 + r) * ld + c), _MM_HINT_T0);
            if (r < nr)
                for (int32_t c = 0; c < d; c += 16)
                    vmax[r] = _mm512_max_ps(vmax[r], _mm512_abs_ps(_mm512_loadu_ps(k + (int64_t)(j0 + r) * ld + c)));
        }
        const __m512 amax = ek_reduce16_max_ps(vmax);
        const __mmask16 live = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ);
        float inv[16];
        _mm512_storeu_ps(inv, _mm512_maskz_div_ps(live, _mm512_set1_ps(127.0f), amax));
        _mm512_storeu_ps(ks + j0, _mm512_mul_ps(_mm512_div_ps(amax, _mm512_set1_ps(127.0f)), _mm512_set1_ps(scale)));
        __m512i sums[16];
        for (int32_t r = 0; r < 16; r++) {
            int8_t *out = kt + (int64_t)(j0 + r) * dp;
            sums[r] = _mm512_setzero_si512();
            if (r >= nr) { memset(out, 0, (size_t)dp); continue; }
            const float *row = k + (int64_t)(j0 + r) * ld;
            const __m512 vinv = _mm512_set1_ps(inv[r]);
            for (int32_t c = 0; c < d; c += 16) {
                const __m512i q = ek_round_away16(_mm512_mul_ps(_mm512_loadu_ps(row + c), vinv));
                sums[r] = _mm512_add_epi32(sums[r], q);
                _mm_storeu_si128((__m128i *)(out + c), _mm512_cvtepi32_epi8(q));
            }
        }
        _mm512_storeu_si512(kc + j0, ek_reduce16_add_epi32(sums));
    }
    // [n16][groups] words -> [n16/16][groups][16] words: word j of group g is row j's word g
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(groups));
    for (int32_t p = 0; p < n16 / 16; p++) {
        const int32_t *src = (const int32_t *)(kt + (int64_t)p * 16 * dp);
        for (int32_t g = 0; g < groups; g++)
            _mm512_storeu_si512(dst + ((int64_t)p * groups + g) * 64, _mm512_i32gather_epi32(rows, src + g, 4));
    }
}

// pack_values_body in AVX-512 for head widths that are a multiple of 16: the same bytes, written
// straight into the panels (four token rows' bytes become one 32-bit word per column), no staging.
EK_AVX512 static void pack_values_avx512_wide(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt,
                                              int8_t *dst, float *vs, int32_t *vc, float *vi) {
    (void)vt;
    const int32_t groups = (int32_t)up(n, 4) / 4;
    const __m512i low8 = _mm512_set1_epi32(0xff);
    for (int32_t p = 0; p < d / 16; p++) {
        const float *col = v + (int64_t)p * 16;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;  // two chains over the tokens
        int32_t j = 0;
        for (; j + 2 <= n; j += 2) {
            a0 = _mm512_max_ps(a0, _mm512_abs_ps(_mm512_loadu_ps(col + (int64_t)j * ld)));
            a1 = _mm512_max_ps(a1, _mm512_abs_ps(_mm512_loadu_ps(col + (int64_t)(j + 1) * ld)));
        }
        if (j < n) a0 = _mm512_max_ps(a0, _mm512_abs_ps(_mm512_loadu_ps(col + (int64_t)j * ld)));
        const __m512 amax = _mm512_max_ps(a0, a1);
        const __m512 inv = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ),
                                               _mm512_set1_ps(127.0f), amax);
        _mm512_storeu_ps(vs + p * 16, _mm512_div_ps(amax, _mm512_set1_ps(127.0f)));
        _mm512_storeu_ps(vi + p * 16, inv);
        __m512i sum = _mm512_setzero_si512();
        for (int32_t g = 0; g < groups; g++) {
            __m512i word = _mm512_setzero_si512();  // byte t of column c's word: token 4g + t
            for (int32_t t = 0; t < 4 && 4 * g + t < n; t++) {
                const __m512i q = ek_round_away16(_mm512_mul_ps(_mm512_loadu_ps(col + (int64_t)(4 * g + t) * ld), inv));
                sum = _mm512_add_epi32(sum, q);
                word = _mm512_or_si512(word, _mm512_sll_epi32(_mm512_and_si512(q, low8), _mm_cvtsi32_si128(8 * t)));
            }
            _mm512_storeu_si512(dst + ((int64_t)p * groups + g) * 64, word);
        }
        _mm512_storeu_si512(vc + p * 16, sum);
    }
}
#endif

#define INSTANTIATE_PACKING(suffix, attr)                                                                      \
    attr static void pack_keys_##suffix(const float *k, int64_t ld, int32_t n, int32_t d, float scale,          \
                                        int8_t *kt, int8_t *dst, float *ks, int32_t *kc) {                     \
        pack_keys_body(k, ld, n, d, scale, kt, dst, ks, kc);                                                   \
    }                                                                                                          \
    attr static void pack_values_##suffix(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt,        \
                                          int8_t *dst, float *vs, int32_t *vc, float *vi) {                    \
        pack_values_body(v, ld, n, d, vt, dst, vs, vc, vi);                                                    \
    }
#define INSTANTIATE_SOFTMAX(suffix, attr)                                                                      \
    attr static void softmax_quant_##suffix(const float *s, int64_t lds, int32_t rows, int32_t n, int8_t *p,    \
                                            int32_t unsigned_a, float *ps, float *pz) {                        \
        const int32_t n4 = (int32_t)up(n, 4);                                                                  \
        for (int32_t r = 0; r < rows; r++)                                                                     \
            softmax_quant_body(s + r * lds, n, n4, p + (int64_t)r * n4, unsigned_a, ps + r, pz + r);           \
    }

INSTANTIATE_PACKING(base, )
INSTANTIATE_SOFTMAX(base, )
#if defined(__x86_64__)
INSTANTIATE_PACKING(avx2, EK_AVX2)
INSTANTIATE_SOFTMAX(avx2, EK_AVX2)
INSTANTIATE_PACKING(avx512, EK_AVX512)
static void pack_keys_avx512_any(const float *k, int64_t ld, int32_t n, int32_t d, float scale, int8_t *kt,
                                 int8_t *dst, float *ks, int32_t *kc) {
    if (d % 16 == 0) pack_keys_avx512_wide(k, ld, n, d, scale, kt, dst, ks, kc);
    else pack_keys_avx512(k, ld, n, d, scale, kt, dst, ks, kc);
}
static void pack_values_avx512_any(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt, int8_t *dst,
                                   float *vs, int32_t *vc, float *vi) {
    if (d % 16 == 0) pack_values_avx512_wide(v, ld, n, d, vt, dst, vs, vc, vi);
    else pack_values_avx512(v, ld, n, d, vt, dst, vs, vc, vi);
}
#endif

#if defined(__aarch64__)
static void pack_keys_neon_any(const float *k, int64_t ld, int32_t n, int32_t d, float scale, int8_t *kt, int8_t *dst,
                               float *ks, int32_t *kc) {
    if (d % 16 == 0) ek_pack_keys_neon(k, ld, n, d, scale, kt, dst, ks, kc);
    else pack_keys_base(k, ld, n, d, scale, kt, dst, ks, kc);
}
static void pack_values_neon_any(const float *v, int64_t ld, int32_t n, int32_t d, int8_t *vt, int8_t *dst, float *vs,
                                 int32_t *vc, float *vi) {
    if (d % 16 == 0) ek_pack_values_neon(v, ld, n, d, vt, dst, vs, vc, vi);
    else pack_values_base(v, ld, n, d, vt, dst, vs, vc, vi);
}
#endif

typedef struct vector_ops {
    void (*pack_keys)(const float *, int64_t, int32_t, int32_t, float, int8_t *, int8_t *, float *, int32_t *);
    void (*pack_values)(const float *, int64_t, int32_t, int32_t, int8_t *, int8_t *, float *, int32_t *, float *);
    void (*softmax_quant)(const float *, int64_t, int32_t, int32_t, int8_t *, int32_t, float *, float *);
} vector_ops;

static vector_ops ops_for_level(int32_t level) {
    if (level > ek_vector_level()) level = ek_vector_level();
#if defined(__x86_64__)
    switch (level) {
    case 2: return (vector_ops){pack_keys_avx512_any, pack_values_avx512_any, softmax_quant_avx512};
    case 1: return (vector_ops){pack_keys_avx2, pack_values_avx2, softmax_quant_avx2};
    default: break;
    }
#endif
#if defined(__aarch64__)
    if (level >= 1) return (vector_ops){pack_keys_neon_any, pack_values_neon_any, ek_softmax_quant_neon};
#endif
    return (vector_ops){pack_keys_base, pack_values_base, softmax_quant_base};
}

void ek_attention_head_i8(const ek_kernel *kern, const float *q, const float *k, const float *v, int64_t ld,
                          int32_t n, int32_t d, float scale, void *scratch, float *out, int64_t ldo) {
    ek_attention_head_i8_at(kern->level, kern, q, k, v, ld, n, d, scale, scratch, out, ldo);
}

void ek_attention_head_i8_at(int32_t level, const ek_kernel *kern, const float *q, const float *k, const float *v,
                             int64_t ld, int32_t n, int32_t d, float scale, void *scratch, float *out, int64_t ldo) {
    if (n <= 0) return;
    const vector_ops ops = ops_for_level(level);
    const plan pl = make_plan(n, d);
    char *base = (char *)scratch;
    int8_t *qq = (int8_t *)(base + pl.qq), *kq = (int8_t *)(base + pl.kq), *vq = (int8_t *)(base + pl.vq);
    int8_t *pq = (int8_t *)(base + pl.p);
    float *qs = (float *)(base + pl.qs), *qmin = (float *)(base + pl.qmin), *ks = (float *)(base + pl.ks);
    float *vs = (float *)(base + pl.vs), *vi = (float *)(base + pl.vi), *sc = (float *)(base + pl.s);
    float *ps = (float *)(base + pl.ps), *pz = (float *)(base + pl.pz);
    int32_t *kc = (int32_t *)(base + pl.kc), *vc = (int32_t *)(base + pl.vc);
    const int32_t dp = (int32_t)up(d, 4), n16 = (int32_t)up(n, 16), n4 = (int32_t)up(n, 4);
    const int32_t ua = kern->unsigned_a;

    ek_quantize_rows_at(level, q, ld, n, d, dp, NULL, qq, dp, qs, qmin, ua);
    // scores in log2 units: exp(x) = 2^(x log2 e)
    ops.pack_keys(k, ld, n, d, scale * 1.44269504088896341f, (int8_t *)(base + pl.kt), kq, ks, kc);
    ops.pack_values(v, ld, n, d, (int8_t *)(base + pl.vt), vq, vs, vc, vi);

    for (int32_t i0 = 0; i0 < n; i0 += RB) {
        const int32_t rows = n - i0 < RB ? n - i0 : RB;
        // S [rows][n16] = Q[i0 ..< i0 + rows] K^T / sqrt(d)
        const ek_gemm_params g = {.a = qq + (int64_t)i0 * dp, .b = kq, .a_scale = qs + i0, .a_min = qmin + i0,
                                  .b_scale = ks, .b_colsum = kc, .c = sc, .lda = dp, .ldc = n16, .m = rows, .n = n,
                                  .kp = dp, .panel_begin = 0, .panel_end = n16 / EK_PANEL};
        kern->gemm(&g);
        // P [rows][n4] = softmax(S), 8 bits, scales ps and offsets pz [rows]
        ops.softmax_quant(sc, n16, rows, n, pq, ua, ps, pz);
        // out[i0 ..< i0 + rows] = P V
        const ek_gemm_params o = {.a = pq, .b = vq, .a_scale = ps, .a_min = pz, .b_scale = vs, .b_colsum = vc,
                                  .c = out + (int64_t)i0 * ldo, .lda = n4, .ldc = ldo, .m = rows, .n = d, .kp = n4,
                                  .panel_begin = 0, .panel_end = (int32_t)up(d, 16) / EK_PANEL};
        kern->gemm(&o);
    }
}
