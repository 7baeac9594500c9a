// Scalar twin of every int8 GEMM path: the truth the SIMD kernels are tested against.
#include "epilogue.h"

void ek_gemm_ref(const ek_gemm_params *p) {
    const int32_t groups = p->kp / EK_KGROUP;
    for (int32_t panel = p->panel_begin; panel < p->panel_end; panel++) {
        const int8_t *bp = p->b + (int64_t)panel * groups * EK_PANEL * EK_KGROUP; // [kp/4][16][4]
        for (int32_t m = 0; m < p->m; m++) {
            const int8_t *a = p->a + (int64_t)m * p->lda;                          // [kp]
            for (int32_t j = 0; j < EK_PANEL; j++) {
                const int32_t n = panel * EK_PANEL + j;
                if (n >= p->n) break;
                int32_t acc = 0;  // sum (q + 128) * w, q signed
                for (int32_t g = 0; g < groups; g++) {
                    const int8_t *w = bp + ((int64_t)g * EK_PANEL + j) * EK_KGROUP;
                    for (int32_t t = 0; t < EK_KGROUP; t++) acc += ((int32_t)a[g * 4 + t] + 128) * (int32_t)w[t];
                }
                p->c[(int64_t)m * p->ldc + n] = ek_epilogue_one(p, m, n, acc);
            }
        }
    }
}
