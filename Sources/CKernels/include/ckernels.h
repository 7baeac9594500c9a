// CKernels: the int8 GEMM microkernels of EdgeBERT, their scalar twin, CPU detection and dispatch,
// and the fp32 helpers the encoder spends its time in. One umbrella header; every symbol starts ek_.
//
// Packed weight layout (shared by every kernel, written once by the converter):
//   B[N][K] int8 -> [Np/16][Kp/4][16][4]   Np = roundup(N, 16), Kp = roundup(K, 4), zero padded.
//   Byte (p, g, j, t) holds W[p*16 + j][g*4 + t].
// Activations are quantised per row, asymmetrically: v ~ a_scale[m] * (q + 128) + a_min[m] with
// q in [-128, 127] (uint8 q + 128 for the kernels that multiply unsigned x signed, vpdpbusd).
// Zero-padded K columns hold q = -128, which dequantises to a_min and multiplies zero weights.
// With acc = sum_k (q + 128) * B[n][k] (exact int32) every kernel computes, with fused
// multiply-adds (one rounding each), in this order:
//   off     = fma(a_min[m], b_scale[n] * (float)colsum[n], bias[n], or -0.0f without a bias)
//   C[m][n] = fma((float)acc, a_scale[m] * b_scale[n], off) (+ residual[m][n])
// (-0.0f is the additive identity of every float, -0.0f included.)
#ifndef EDGEBERT_CKERNELS_H
#define EDGEBERT_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "ek_system.h"
#include "ek_testing.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EK_PANEL 16  // output channels per packed panel
#define EK_KGROUP 4  // K bytes per packed group

/// One int8 GEMM call. Flat plain data: no Swift objects cross into C.
typedef struct ek_gemm_params {
    const int8_t *a;          // [m][lda] quantised activations (uint8 = int8 + 128 when unsigned_a)
    const int8_t *b;          // packed [np/16][kp/4][16][4]
    const float *a_scale;     // [m]
    const float *a_min;       // [m] the value q = -128 stands for
    const float *b_scale;     // [np]
    const int32_t *b_colsum;  // [np] sum over k of B[n][k]
    const float *bias;        // [np] or NULL
    const float *residual;    // [m][ldc] added after the rescale, or NULL (may alias c)
    float *c;                 // [m][ldc]
    int64_t lda;              // bytes between rows of a (>= kp)
    int64_t ldc;              // floats between rows of c and residual (>= n)
    int32_t m;                // rows of a and c
    int32_t n;                // logical output columns (columns >= n are never stored)
    int32_t kp;               // padded K, a multiple of 4
    int32_t panel_begin;      // first panel (16 columns) to compute
    int32_t panel_end;        // one past the last panel
    int32_t reserved;
} ek_gemm_params;
_Static_assert(sizeof(ek_gemm_params) == 9 * 8 + 2 * 8 + 6 * 4, "ek_gemm_params layout");

typedef void (*ek_gemm_fn)(const ek_gemm_params *p);

/// A kernel path, chosen once when a model loads: its GEMM and the vector level of every other
/// pass (quantiser, LayerNorm, GELU, attention, embedding rows, fp32 GEMM), so that forcing a
/// path (EDGEBERT_KERNEL=avx2) forces all of them. The runtime calls the *_at entry points below
/// with `level`.
typedef struct ek_kernel {
    const char *name;   // "ref", "sse41", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"
    ek_gemm_fn gemm;
    int32_t unsigned_a; // 1: activations stored as uint8 q + 128
    int32_t features;   // the CPU feature bits the path needs (EK_X86_*, EK_ARM_* in ek_testing.h; 0: none)
    int32_t level;      // vector level of the other passes: x86 2 AVX-512, 1 AVX2, 0 baseline x86-64 (SSE2; sse41, ref); ARM 1 NEON, 0 scalar
    int32_t reserved;
} ek_kernel;

/// Every path compiled for this architecture, best first; the last is always "ref".
int32_t ek_kernel_count(void);
const ek_kernel *ek_kernel_at(int32_t index);
/// 1 when this CPU can run the path.
int32_t ek_kernel_supported(const ek_kernel *k);
/// The best supported path, or the one EDGEBERT_KERNEL names (NULL if that one is unknown or
/// unsupported here).
const ek_kernel *ek_kernel_select(const char *forced_name);
const ek_kernel *ek_kernel_named(const char *name);

// ---- scalar twins and portable helpers (always compiled) ----

void ek_gemm_ref(const ek_gemm_params *p);

/// Quantise rows of x [m][ldx] (k valid columns) to 8 bits with a scale and a minimum per row:
/// v = x * sm (sm: SmoothQuant per-channel factors, or NULL), s = (max v - min v) / 255,
/// q = round((v - min v) / s) - 128 in [-128, 127], stored as int8 q (uint8 q + 128 if unsigned_a).
/// A constant row gets s = 0 and q = -128. Columns k..<kp hold q = -128.
void ek_quantize_rows(const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp, const float *sm,
                      int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a);
/// The same on a given vector level (x86: 2 AVX-512, 1 AVX2, 0 SSE2; ARM: 1 NEON, 0 scalar; capped
/// at this CPU's): the runtime passes its kernel path's level.
void ek_quantize_rows_at(int32_t level, const float *x, int64_t ldx, int32_t m, int32_t k, int32_t kp,
                         const float *sm, int8_t *q, int64_t ldq, float *scales, float *mins, int32_t unsigned_a);

/// Pack W [n][k] int8 row-major into the panel layout above. dst holds np * kp bytes.
void ek_pack_b(const int8_t *w, int32_t n, int32_t k, int8_t *dst);

/// fp32 C[m][n] = A[m][k] . W[n][k]^T + bias[n] (+ residual) for columns [n_begin, n_end).
/// W row-major (the float reference and layers kept float). Vectorised; _ref is its scalar twin.
void ek_sgemm_nt(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                 const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k,
                 int32_t n_begin, int32_t n_end);

/// The f32 side product of an int8 layer's outlier inputs, after its int8 product:
/// y[r][c] += sum_j x[r][index[j]] * w[j][c] for rows r < m and columns [c_begin, c_end), j in
/// order, each product rounded then added (no fused multiply-add): every level gives the same bits.
/// w [count][ldw] row-major. Vectorised over c; _ref is its scalar twin.
void ek_outliers_add(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw, int32_t count,
                     float *y, int64_t ldy, int32_t m, int32_t c_begin, int32_t c_end);

/// dot(a, b) over n floats.
float ek_dot_f32(const float *a, const float *b, int32_t n);

/// Where a fused pass leaves its rows quantised (ek_quantize_rows' outputs, row r at q + r * ldq).
typedef struct ek_quantize_to {
    int8_t *q;
    float *scales;
    float *mins;
    const float *sm;     // SmoothQuant factors of the layer reading the rows, or NULL
    int64_t ldq;
    int32_t kp;
    int32_t unsigned_a;
} ek_quantize_to;

/// In-place LayerNorm of rows [m][ld] over n columns (vectorised; _ref is the scalar twin).
void ek_layernorm(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                  float eps);
/// LayerNorm, then each row quantised for the next int8 layer while it is in L1 (to: NULL for none).
void ek_layernorm_quantize(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                           float eps, const ek_quantize_to *to);
/// GELU (erf form) over rows [m][ld] of n columns in place, then each row quantised (to: NULL for none).
void ek_gelu_quantize(float *x, int64_t ld, int32_t m, int32_t n, const ek_quantize_to *to);
/// In-place activations over n floats: 0 gelu (erf), 1 gelu (tanh), 2 relu.
void ek_activation(float *x, int64_t n, int32_t kind);

/// GELU (erf form) in place over n floats, vectorised: erf as a rational to 4e-7, or on AVX-512 by
/// table to 1.6e-6 x max(1, |x|) (gelu_avx512.c).
void ek_gelu(float *x, int64_t n);
/// One embedding row: out[i] = word[i] * word_scale + pos[i] + typ[i] over n floats, the word row
/// int8 (word8, word_scale) or fp32 (word32 when word8 is NULL). Vectorised.
void ek_embed_row(const int8_t *word8, float word_scale, const float *word32, const float *pos, const float *typ,
                  float *out, int32_t n);
/// Self-attention of one head over n tokens: out[i] = softmax_j(q[i].k[j] * scale + mask[j]) v[j].
/// q, k, v: [n][ld] at this head's offset; out: [n][ldo]; mask: [n] additive or NULL.
/// Scratch: kt [d][roundup(n, 16)], scores [4][roundup(n, 16)].
void ek_attention_head(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d, float scale,
                       const float *mask, float *kt, float *scores, float *out, int64_t ldo);
/// Bytes of scratch ek_attention_head_i8 needs for n tokens and head width d (linear in n).
int64_t ek_attention_i8_scratch(int32_t n, int32_t d);
/// Self-attention of one head with int8 matmuls on the path `kern`: Q per row (asymmetric) and
/// K per row (symmetric) for the scores, softmax kept as u = round(255 exp(s - max)) with a row
/// scale and a mass-keeping offset, V per column (symmetric). Same arguments as ek_attention_head,
/// no mask (a sequence has no padding).
/// scratch: ek_attention_i8_scratch(n, d) bytes.
void ek_attention_head_i8(const ek_kernel *kern, const float *q, const float *k, const float *v, int64_t ld,
                          int32_t n, int32_t d, float scale, void *scratch, float *out, int64_t ldo);

/// A spin-wait hint (PAUSE / YIELD).
static inline void ek_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause");
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

// ---- the passes at a given vector level (a kernel path's `level`, capped at this CPU's) ----
// The entry points without _at above run at the best level this CPU has.

void ek_layernorm_quantize_at(int32_t level, float *x, int64_t ld, int32_t m, int32_t n, const float *gamma,
                              const float *beta, float eps, const ek_quantize_to *to);
void ek_gelu_quantize_at(int32_t level, float *x, int64_t ld, int32_t m, int32_t n, const ek_quantize_to *to);
void ek_gelu_at(int32_t level, float *x, int64_t n);
void ek_embed_row_at(int32_t level, const int8_t *word8, float word_scale, const float *word32, const float *pos,
                     const float *typ, float *out, int32_t n);
void ek_attention_head_at(int32_t level, const float *q, const float *k, const float *v, int64_t ld, int32_t n,
                          int32_t d, float scale, const float *mask, float *kt, float *scores, float *out, int64_t ldo);
void ek_sgemm_nt_at(int32_t level, const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                    const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k,
                    int32_t n_begin, int32_t n_end);

void ek_outliers_add_at(int32_t level, const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw,
                        int32_t count, float *y, int64_t ldy, int32_t m, int32_t c_begin, int32_t c_end);

/// W [n][k] row-major -> out [ceil(n/16)][k][16]: 16-column panels, K-major, zero past n (the f32
/// dense weights' layout in a model file, dtype f32-packed).
void ek_pack_f32_panels(const float *w, int32_t n, int32_t k, float *out);
/// ek_sgemm_nt_at on packed weights (ek_pack_f32_panels): the same sums in the same order, so the
/// same results bit for bit; n_begin a multiple of 16.
void ek_sgemm_packed_at(int32_t level, const float *a, int64_t lda, const float *wp, const float *bias,
                        const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k, int32_t n_begin,
                        int32_t n_end);

/// CRC32C (Castagnoli) continuing from crc (0 to start); hardware path when the CPU has one.
uint32_t ek_crc32c(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
