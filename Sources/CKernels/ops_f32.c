// fp32 helpers of the encoder: the float reference GEMM, dot / axpy for attention, LayerNorm,
// activations. Written with explicit lane arrays so the compiler vectorises them without
// reassociating (results do not depend on the optimiser).
#include <math.h>
#include "ckernels.h"

#define LANES 8

float ek_dot_f32(const float *a, const float *b, int32_t n) {
    float acc[LANES] = {0};
    int32_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int t = 0; t < LANES; t++) acc[t] += a[i + t] * b[i + t];
    float s = 0.0f;
    for (int t = 0; t < LANES; t++) s += acc[t];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

void ek_sgemm_nt_ref(const float *a, int64_t lda, const float *w, int64_t ldw, const float *bias,
                     const float *residual, float *c, int64_t ldc, int32_t m, int32_t n, int32_t k,
                     int32_t n_begin, int32_t n_end) {
    (void)n;
    for (int32_t j = n_begin; j < n_end; j++) {
        const float *wr = w + (int64_t)j * ldw;  // [k]
        const float b = bias ? bias[j] : 0.0f;
        for (int32_t r = 0; r < m; r++) {
            float v = ek_dot_f32(a + (int64_t)r * lda, wr, k) + b;
            if (residual) v += residual[(int64_t)r * ldc + j];
            c[(int64_t)r * ldc + j] = v;
        }
    }
}

void ek_outliers_add_ref(const float *x, int64_t ldx, const int32_t *index, const float *w, int64_t ldw,
                         int32_t count, float *y, int64_t ldy, int32_t m, int32_t c_begin, int32_t c_end) {
    for (int32_t r = 0; r < m; r++)
        for (int32_t c = c_begin; c < c_end; c++) {
            float v = y[(int64_t)r * ldy + c];
            for (int32_t j = 0; j < count; j++) {
                const float p = x[(int64_t)r * ldx + index[j]] * w[(int64_t)j * ldw + c];
                v += p;
            }
            y[(int64_t)r * ldy + c] = v;
        }
}

void ek_layernorm_ref(float *x, int64_t ld, int32_t m, int32_t n, const float *gamma, const float *beta,
                      float eps) {
    for (int32_t r = 0; r < m; r++) {
        float *row = x + (int64_t)r * ld;
        float acc[LANES] = {0};
        int32_t i = 0;
        for (; i + LANES <= n; i += LANES)
            for (int t = 0; t < LANES; t++) acc[t] += row[i + t];
        float sum = 0.0f;
        for (int t = 0; t < LANES; t++) sum += acc[t];
        for (; i < n; i++) sum += row[i];
        const float mean = sum / (float)n;
        float acc2[LANES] = {0};
        i = 0;
        for (; i + LANES <= n; i += LANES)
            for (int t = 0; t < LANES; t++) { float d = row[i + t] - mean; acc2[t] += d * d; }
        float var = 0.0f;
        for (int t = 0; t < LANES; t++) var += acc2[t];
        for (; i < n; i++) { float d = row[i] - mean; var += d * d; }
        var /= (float)n;
        const float inv = 1.0f / sqrtf(var + eps);
        for (i = 0; i < n; i++) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
    }
}

void ek_activation(float *x, int64_t n, int32_t kind) {
    switch (kind) {
    case 0: // gelu, exact erf form (BERT's "gelu")
        for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
        break;
    case 1: // gelu, tanh approximation ("gelu_new", "gelu_pytorch_tanh")
        for (int64_t i = 0; i < n; i++) {
            const float v = x[i];
            x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
        break;
    case 2: // relu
        for (int64_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    default:
        break;
    }
}

void ek_attention_head_ref(const float *q, const float *k, const float *v, int64_t ld, int32_t n, int32_t d, float scale,
                           const float *mask, float *scores, float *out, int64_t ldo) {
    for (int32_t i = 0; i < n; i++) {
        float mx = -INFINITY;
        for (int32_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int32_t t = 0; t < d; t++) s += q[(int64_t)i * ld + t] * k[(int64_t)j * ld + t];
            s = s * scale + (mask ? mask[j] : 0.0f);
            scores[j] = s;
            mx = s > mx ? s : mx;
        }
        float sum = 0.0f;
        for (int32_t j = 0; j < n; j++) { scores[j] = expf(scores[j] - mx); sum += scores[j]; }
        for (int32_t c = 0; c < d; c++) {
            float acc = 0.0f;
            for (int32_t j = 0; j < n; j++) acc += scores[j] / sum * v[(int64_t)j * ld + c];
            out[(int64_t)i * ldo + c] = acc;
        }
    }
}
