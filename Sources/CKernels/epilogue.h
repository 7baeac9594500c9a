// Shared helpers of the kernels (internal header, not part of the public surface).
#ifndef EDGEBERT_EPILOGUE_H
#define EDGEBERT_EPILOGUE_H
#include <math.h>
#include <string.h>
#include "include/ckernels.h"

static inline int32_t ek_load_i32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/// Scalar epilogue for one output element; acc = sum_k (q + 128) * B[n][k]. The order of the
/// float operations is the contract every kernel follows (see ckernels.h).
static inline float ek_epilogue_one(const ek_gemm_params *p, int32_t m, int32_t n, int32_t acc) {
    const float off = fmaf(p->a_min[m], p->b_scale[n] * (float)p->b_colsum[n], p->bias ? p->bias[n] : -0.0f);
    float v = fmaf((float)acc, p->a_scale[m] * p->b_scale[n], off);
    if (p->residual) v += p->residual[(int64_t)m * p->ldc + n];
    return v;
}
/// Stores the first `count` columns (< a full vector) of an epilogue result that already holds
/// the rescale, offset and bias: adds the residual as the full-width path does.
static inline void ek_store_partial(const ek_gemm_params *p, int32_t m, int32_t nb, const float *lanes, int32_t count) {
    for (int32_t t = 0; t < count; t++) {
        float x = lanes[t];
        if (p->residual) x += p->residual[(int64_t)m * p->ldc + nb + t];
        p->c[(int64_t)m * p->ldc + nb + t] = x;
    }
}
#endif
