// CPU feature detection and the table of kernel paths, best first. Chosen once, at model load.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "include/ckernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
void ek_gemm_avx512vnni(const ek_gemm_params *p);
void ek_gemm_avxvnni(const ek_gemm_params *p);
void ek_gemm_avx2(const ek_gemm_params *p);
void ek_gemm_sse41(const ek_gemm_params *p);

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

enum { F_AVX2 = EK_X86_AVX2, F_AVX512VNNI = EK_X86_AVX512VNNI, F_AVXVNNI = EK_X86_AVXVNNI, F_SSE41 = EK_X86_SSE41 };

static int32_t cpu_features(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int32_t f = 0;
    if ((c >> 19) & 1) f |= F_SSE41;  // SSE4.1 needs no OS support beyond SSE's (always on in x86-64)
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return f;
    const unsigned long long xcr0 = xgetbv0();
    const int ymm_os = (xcr0 & 0x6) == 0x6, zmm_os = (xcr0 & 0xE6) == 0xE6;
    if (__get_cpuid_max(0, NULL) < 7) return f;
    unsigned int b7, c7, d7, a7;
    __cpuid_count(7, 0, a7, b7, c7, d7);
    unsigned int a71, b71, c71, d71;
    __cpuid_count(7, 1, a71, b71, c71, d71);
    const int avx2 = (b7 >> 5) & 1;
    if (ymm_os && avx2 && fma) f |= F_AVX2;
    const int avx512f = (b7 >> 16) & 1, avx512bw = (b7 >> 30) & 1, avx512vl = (b7 >> 31) & 1;
    const int avx512vnni = (c7 >> 11) & 1;
    if ((f & F_AVX2) && zmm_os && avx512f && avx512bw && avx512vl && avx512vnni) f |= F_AVX512VNNI;
    const int avxvnni = (a71 >> 4) & 1;
    if ((f & F_AVX2) && avxvnni) f |= F_AVXVNNI;
    return f;
}

static const ek_kernel table[] = {
    {"avx512vnni", ek_gemm_avx512vnni, 1, F_AVX512VNNI, 2, 0},
    {"avxvnni", ek_gemm_avxvnni, 1, F_AVXVNNI, 1, 0},
    {"avx2", ek_gemm_avx2, 0, F_AVX2, 1, 0},
    {"sse41", ek_gemm_sse41, 0, F_SSE41, 0, 0},  // other passes: level 0, the C built for x86-64 (SSE2)
    {"ref", ek_gemm_ref, 0, 0, 0, 0},
};

#elif defined(__aarch64__)
#include <sys/auxv.h>
void ek_gemm_neondot(const ek_gemm_params *p);
void ek_gemm_neon(const ek_gemm_params *p);
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

static const ek_kernel table[] = {
    {"neondot", ek_gemm_neondot, 0, EK_ARM_DOTPROD, 1, 0},
    {"neon", ek_gemm_neon, 0, 0, 1, 0},
    {"ref", ek_gemm_ref, 0, 0, 0, 0},
};

static int32_t cpu_features(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? EK_ARM_DOTPROD : 0; }

#else
static const ek_kernel table[] = {{"ref", ek_gemm_ref, 0, 0, 0, 0}};
static int32_t cpu_features(void) { return 0; }
#endif

static int32_t features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;
static void read_features(void) { features = cpu_features(); }

int32_t ek_cpu_features(void) {
    pthread_once(&features_once, read_features);
    return features;
}

// A path runs where every feature bit it needs is present.
static int runs_with(const ek_kernel *k, int32_t have) { return (have & k->features) == k->features; }

int32_t ek_kernel_supported(const ek_kernel *k) { return runs_with(k, ek_cpu_features()); }

const ek_kernel *ek_kernel_best_for(int32_t have) {
    for (int32_t i = 0; i < ek_kernel_count(); i++)
        if (runs_with(&table[i], have)) return &table[i];
    return &table[ek_kernel_count() - 1];
}

int32_t ek_kernel_count(void) { return (int32_t)(sizeof(table) / sizeof(table[0])); }

const ek_kernel *ek_kernel_at(int32_t index) {
    return (index >= 0 && index < ek_kernel_count()) ? &table[index] : NULL;
}

const ek_kernel *ek_kernel_named(const char *name) {
    for (int32_t i = 0; i < ek_kernel_count(); i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

const ek_kernel *ek_kernel_select(const char *forced_name) {
    if (forced_name && forced_name[0]) {
        const ek_kernel *k = ek_kernel_named(forced_name);
        return (k && ek_kernel_supported(k)) ? k : NULL;
    }
    return ek_kernel_best_for(ek_cpu_features());
}
