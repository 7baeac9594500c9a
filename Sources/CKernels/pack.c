// Packing of int8 weights into the panel layout every kernel reads (see ckernels.h).
#include <string.h>
#include "ckernels.h"

void ek_pack_b(const int8_t *w, int32_t n, int32_t k, int8_t *dst) {
    const int32_t np = (n + EK_PANEL - 1) / EK_PANEL * EK_PANEL;
    const int32_t kp = (k + EK_KGROUP - 1) / EK_KGROUP * EK_KGROUP;
    memset(dst, 0, (size_t)np * (size_t)kp);
    for (int32_t row = 0; row < n; row++) {
        const int32_t panel = row / EK_PANEL, j = row % EK_PANEL;
        for (int32_t col = 0; col < k; col++) {
            const int32_t g = col / EK_KGROUP, t = col % EK_KGROUP;
            dst[(((int64_t)panel * (kp / EK_KGROUP) + g) * EK_PANEL + j) * EK_KGROUP + t] =
                w[(int64_t)row * k + col];
        }
    }
}
