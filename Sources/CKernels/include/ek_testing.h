// Test and benchmark hooks, apart from the runtime's interface (ckernels.h): the scalar twins the
// tests hold every vector path against, passes at a chosen level, and measuring helpers. The
// runtime calls none of these.
#ifndef EDGEBERT_EK_TESTING_H
#define EDGEBERT_EK_TESTING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ek_kernel;

// CPU feature bits (ek_kernel.features): what a kernel path needs.
#define EK_X86_AVX2 1        // AVX2 + FMA, with the OS saving ymm
#define EK_X86_AVX512VNNI 2  // AVX-512 F/BW/VL/VNNI, with the OS saving zmm
#define EK_X86_AVXVNNI 4     // AVX-VNNI (VEX vpdpbusd)
#define EK_X86_SSE41 8       // SSE4.1
#define EK_ARM_DOTPROD 1     // ARMv8.2 dot product (SDOT)

/// This CPU's feature bits (read once).
int32_t ek_cpu_features(void);
/// The path dispatch picks on a CPU with the feature bits `features`: the first of ek_kernel_at's
/// order (best first) whose bits are all present, else "ref". Pure: for testing the choice on
/// CPUs we do not have (x86: AVX-512 VNNI > AVX-VNNI > AVX2 > SSE4.1 > ref).
const struct ek_kernel *ek_kernel_best_for(int32_t features);

/// The scalar twin of ek_quantize_rows.
void ek_quantize_rows_ref(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                          int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a);
/// The scalar twin of ek_sgemm_nt.
void ek_outliers_add_ref(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw,
                         int32_t count, float *y, int64_t ldy, int32_t m, int32_t c_begin, int32_t c_end);
void ek_sgemm_nt_ref(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                     const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k,
                     int32_t n_begin, int32_t n_end);
/// The scalar twin of ek_layernorm.
void ek_layernorm_ref(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                      float eps);
/// The scalar twin of the attention above (libm expf), for tests.
void ek_attention_head_ref(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d, float scale,
                           const float *mask, float *scores, float *out, int64_t ldo);
/// The same with the vector passes (packing, softmax) of a given level (x86: 2 AVX-512, 1 AVX2,
/// 0 scalar, capped at this CPU's), for testing each against the scalar bodies.
void ek_attention_head_i8_at(int32_t level, const struct ek_kernel *kern, const float *q, const float *k, const float *v,
                             int64_t ld, int32_t n, int32_t d, float scale, void *scratch, float *out, int64_t ldo);
/// exp as the vector paths compute it (for tests).
float ek_exp_approx(float x);
/// CRC32C by table, the twin of the hardware paths.
uint32_t ek_crc32c_ref(uint32_t crc, const void *data, size_t n);

/// The exact-AVX2 int8 peak, measured: `iterations` of a register-only loop of 12 independent
/// vpmaddwd + vpaddd chains and one vpmovsxbw (what every exact AVX2 GEMM must issue for 12 x 16
/// multiply-adds, sign extension almost all amortised). Returns the multiply-adds done (0 where
/// the CPU is not x86; call it only when the avx2 path is supported).
int64_t ek_avx2_exact_peak(int64_t iterations);

/// The avx512vnni path's peak: register-only vpdpbusd chains (64 multiply-adds each); returns the
/// multiply-adds done (0 where the CPU is not x86; call it only when that path is supported).
int64_t ek_avx512vnni_peak(int64_t iterations);
/// The same for the avxvnni path: vpdpbusd on ymm registers (32 multiply-adds each).
int64_t ek_avxvnni_peak(int64_t iterations);

/// out[i] = fmaf(x[i], y[i], z[i]) for i < 4 as the SSE4.1 GEMM's epilogue computes it without an
/// FMA unit (in double, rounded to odd); x86 only, for testing it against fmaf on hard cases.
void ek_fmaf4_sse41(const float *x, const float *y, const float *z, float *out);

/// n dependent integer adds (one per cycle on every core we target): for measuring the clock. The
/// addend is a register, not an immediate: Intel's Golden Cove and later fold chains of add-immediate
/// at rename, several a cycle, which made this clock read 2-4x too fast there.
static inline void ek_dependent_adds(int64_t n) {
    int64_t x = 0, one = 1;
    __asm__ volatile("" : "+r"(one));  // not a constant the compiler can fold into the adds
    for (int64_t i = 0; i < n; i += 8) {
#if defined(__x86_64__)
        __asm__ volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                         "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0" : "+r"(x) : "r"(one));
#elif defined(__aarch64__)
        __asm__ volatile("add %0, %0, %1\n\tadd %0, %0, %1\n\tadd %0, %0, %1\n\tadd %0, %0, %1\n\t"
                         "add %0, %0, %1\n\tadd %0, %0, %1\n\tadd %0, %0, %1\n\tadd %0, %0, %1" : "+r"(x) : "r"(one));
#else
        x += 8 * one;
#endif
    }
    (void)x;
}

#ifdef __cplusplus
}
#endif
#endif
