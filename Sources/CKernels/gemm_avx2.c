// AVX2 int8 GEMM, exact: sign-extend to int16 (vpmovsxbw) and multiply-add pairs into int32
// (vpmaddwd). vpmaddubsw would saturate int16 on full-range u8 x s8 and is not used.
//
// Every 16 multiply-adds cost one vpmaddwd (ports 0/1) and one vpaddd (ports 0/1/5), so the
// exact-AVX2 ceiling is 1.5 vpmaddwd a cycle and port 5 must carry little else. Hence:
// - a block is 6 rows x 8 columns (half a panel): 12 accumulators, 2 sign-extended weight
//   vectors and 1 broadcast = 15 of the 16 ymm registers; 2 vpmovsxbw per 12 vpmaddwd;
// - the block's activation rows are sign-extended to int16 once per call (into a stack buffer,
//   not per panel), so each row's broadcast in the loop is a pure load (vpbroadcastq ymm, m64);
// - panels are taken in chunks of about 256 KiB of weights, so a chunk stays in L2 while every
//   row block passes over it.
// The packed weight layout is the one every path reads (ckernels.h); nothing changes on disk.
#if defined(__x86_64__)
#include <immintrin.h>
#include "epilogue.h"

#define TGT __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define MR 6              // rows a block
#define KMAX 4096         // longest padded K whose rows are widened ahead: MR * KMAX * 2 = 48 KiB of stack
#define CHUNK_BYTES 262144  // packed weight bytes of the panels one pass over the rows takes

// Sign-extends rows [m0, m0 + mr) of a (kp bytes each) to int16, interleaved by groups of 4 k:
// a16 [kp/4][MR][4], so that one pointer walks every row's broadcast in the loop.
TGT static void widen_rows(const ek_gemm_params *p, int32_t m0, int32_t mr, int16_t *a16) {
    const int32_t kp = p->kp;
    for (int32_t r = 0; r < mr; r++) {
        const int8_t *src = p->a + (int64_t)(m0 + r) * p->lda;  // [kp]
        int16_t *dst = a16 + r * 4;                            // group g at dst + g * MR * 4
        int32_t k = 0;
        for (; k + 16 <= kp; k += 16) {  // 4 groups: (g0 | g1) in the low 128 bits, (g2 | g3) in the high
            const __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + k)));
            const __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
            int16_t *d = dst + (k >> 2) * MR * 4;
            _mm_storel_epi64((__m128i *)d, lo);
            _mm_storel_epi64((__m128i *)(d + MR * 4), _mm_unpackhi_epi64(lo, lo));
            _mm_storel_epi64((__m128i *)(d + 2 * MR * 4), hi);
            _mm_storel_epi64((__m128i *)(d + 3 * MR * 4), _mm_unpackhi_epi64(hi, hi));
        }
        for (; k < kp; k++) dst[(k >> 2) * MR * 4 + (k & 3)] = src[k];
    }
}

// Rows [m0, m0 + mr) x the 8 columns of half h of `panel`. a16 [kp/4][MR][4] holds the rows widened
// (wide = 1), or they are read from p->a and widened in the loop (wide = 0, K > KMAX).
TGT INLINE void block(const ek_gemm_params *p, const int16_t *a16, const int wide, int32_t m0, const int mr,
                      int32_t panel, int h) {
    const int32_t nb = panel * EK_PANEL + h * 8;  // first column of the block
    if (nb >= p->n) return;
    const int32_t groups = p->kp >> 2;
    const int8_t *b = p->b + (int64_t)panel * groups * 64 + h * 32;  // [groups][16][4], this half at +0..31
    const int8_t *a = p->a + (int64_t)m0 * p->lda;                   // [mr][lda] when !wide
    __m256i acc[MR][2];  // [row][columns 0-3, 4-7]: int32 lanes (c, k0+k1), (c, k2+k3) per column
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int32_t g = 0; g < groups; g++) {
        // 4 columns x 4 k as int16: (c0 k0..k3, c1 k0..k3, c2 .., c3 ..)
        const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + (int64_t)g * 64)));
        const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + (int64_t)g * 64 + 16)));
        for (int r = 0; r < mr; r++) {
            __m256i av;  // (a k0..k3) x 4, int16
            if (wide) {
                av = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(a16 + ((int64_t)g * MR + r) * 4)));
            } else {
                const __m128i a8 = _mm_cvtsi32_si128(ek_load_i32(a + r * p->lda + g * 4));
                av = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(a8));
            }
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b0, av));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b1, av));
        }
    }
    // Per column, once for the block: the contract's b_scale * colsum, bias, and 128 * colsum
    // (sum q * w + 128 * colsum = sum (q + 128) * w).
    const __m256i cs = _mm256_loadu_si256((const __m256i *)(p->b_colsum + nb));
    const __m256 sb = _mm256_loadu_ps(p->b_scale + nb);
    const __m256 wsum = _mm256_mul_ps(sb, _mm256_cvtepi32_ps(cs));
    const __m256 bias = p->bias ? _mm256_loadu_ps(p->bias + nb) : _mm256_set1_ps(-0.0f);
    const __m256i cs128 = _mm256_slli_epi32(cs, 7);
    for (int r = 0; r < mr; r++) {
        const int32_t m = m0 + r;
        // hadd pairs: [c0 c1 c4 c5 | c2 c3 c6 c7] -> permute to c0..c7
        const __m256i sum = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xD8);
        const __m256 off = _mm256_fmadd_ps(_mm256_set1_ps(p->a_min[m]), wsum, bias);
        __m256 v = _mm256_cvtepi32_ps(_mm256_add_epi32(sum, cs128));
        v = _mm256_fmadd_ps(v, _mm256_mul_ps(_mm256_set1_ps(p->a_scale[m]), sb), off);
        if (p->n - nb >= 8) {
            if (p->residual) v = _mm256_add_ps(v, _mm256_loadu_ps(p->residual + (int64_t)m * p->ldc + nb));
            _mm256_storeu_ps(p->c + (int64_t)m * p->ldc + nb, v);
        } else {
            float lanes[8];
            _mm256_storeu_ps(lanes, v);
            ek_store_partial(p, m, nb, lanes, p->n - nb);
        }
    }
}

// Rows [m0, m0 + mr) x panels [p0, p1); mr a constant in each instantiation.
TGT INLINE void rows(const ek_gemm_params *p, const int16_t *a16, const int wide, int32_t m0, const int mr,
                     int32_t p0, int32_t p1) {
    for (int32_t panel = p0; panel < p1; panel++) {
        block(p, a16, wide, m0, mr, panel, 0);
        block(p, a16, wide, m0, mr, panel, 1);
    }
}

TGT INLINE void all_rows(const ek_gemm_params *p, int16_t *a16, const int wide, int32_t p0, int32_t p1) {
    for (int32_t m0 = 0; m0 < p->m; m0 += MR) {
        const int32_t mr = p->m - m0 < MR ? p->m - m0 : MR;
        if (wide) widen_rows(p, m0, mr, a16);
        switch (mr) {
        case 1: rows(p, a16, wide, m0, 1, p0, p1); break;
        case 2: rows(p, a16, wide, m0, 2, p0, p1); break;
        case 3: rows(p, a16, wide, m0, 3, p0, p1); break;
        case 4: rows(p, a16, wide, m0, 4, p0, p1); break;
        case 5: rows(p, a16, wide, m0, 5, p0, p1); break;
        default: rows(p, a16, wide, m0, 6, p0, p1); break;
        }
    }
}

TGT void ek_gemm_avx2(const ek_gemm_params *p) {
    int16_t a16[KMAX * MR] __attribute__((aligned(32)));  // [kp/4][MR][4] widened rows of one block
    const int64_t panel_bytes = (int64_t)p->kp * EK_PANEL;
    int32_t chunk = (int32_t)(CHUNK_BYTES / (panel_bytes > 0 ? panel_bytes : 1));
    if (chunk < 1) chunk = 1;
    for (int32_t p0 = p->panel_begin; p0 < p->panel_end; p0 += chunk) {
        const int32_t p1 = p->panel_end - p0 < chunk ? p->panel_end : p0 + chunk;
        if (p->kp <= KMAX) all_rows(p, a16, 1, p0, p1);
        else all_rows(p, a16, 0, p0, p1);
    }
}

// One vpmaddwd and its vpaddd into accumulator ymm<i>, the product through a temporary.
#define PEAK_MAC(i, t) "vpmaddwd %%ymm14, %%ymm15, %%ymm" #t "\n\tvpaddd %%ymm" #t ", %%ymm" #i ", %%ymm" #i "\n\t"

TGT int64_t ek_avx2_exact_peak(int64_t iterations) {
    // Registers only: 12 independent accumulator chains, 12 vpmaddwd + 12 vpaddd and one
    // vpmovsxbw an iteration (16 multiply-adds a vpmaddwd); the whole loop in asm, 64-byte aligned,
    // so that its layout does not depend on the compiler.
    if (iterations <= 0) return 0;
    int64_t n = iterations;
    __asm__ volatile("vpxor %%xmm14, %%xmm14, %%xmm14\n\tvpxor %%xmm15, %%xmm15, %%xmm15\n\t"
                     ".p2align 6\n"
                     "1:\n\t"
                     "vpmovsxbw %%xmm14, %%ymm15\n\t"
                     PEAK_MAC(0, 12) PEAK_MAC(1, 13) PEAK_MAC(2, 12) PEAK_MAC(3, 13) PEAK_MAC(4, 12) PEAK_MAC(5, 13)
                     PEAK_MAC(6, 12) PEAK_MAC(7, 13) PEAK_MAC(8, 12) PEAK_MAC(9, 13) PEAK_MAC(10, 12) PEAK_MAC(11, 13)
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");
    return iterations * 12 * 16;
}
#else
#include <stdint.h>
int64_t ek_avx2_exact_peak(int64_t iterations);
int64_t ek_avx2_exact_peak(int64_t iterations) { (void)iterations; return 0; }
#endif
