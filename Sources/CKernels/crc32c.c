// CRC32C (Castagnoli) of the model file's data: SSE4.2 / ARMv8 CRC instructions when present,
// a table otherwise. All three give the same value.
#include <pthread.h>
#include <string.h>
#include "include/ckernels.h"

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void init_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

uint32_t ek_crc32c_ref(uint32_t crc, const void *data, size_t n) {
    pthread_once(&table_once, init_table);
    const uint8_t *p = data;
    crc = ~crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc;
        crc = table[7][v & 0xFF] ^ table[6][(v >> 8) & 0xFF] ^ table[5][(v >> 16) & 0xFF] ^
              table[4][(v >> 24) & 0xFF] ^ table[3][(v >> 32) & 0xFF] ^ table[2][(v >> 40) & 0xFF] ^
              table[1][(v >> 48) & 0xFF] ^ table[0][v >> 56];
        p += 8; n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = ~crc;
    while (n >= 8) { uint64_t v; memcpy(&v, p, 8); c = _mm_crc32_u64(c, v); p += 8; n -= 8; }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}
static int has_hw(void) { unsigned a, b, c, d; return __get_cpuid(1, &a, &b, &c, &d) && ((c >> 20) & 1); }
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
__attribute__((target("arch=armv8-a+crc"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
    while (n >= 8) { uint64_t v; memcpy(&v, p, 8); c = __crc32cd(c, v); p += 8; n -= 8; }
    while (n--) c = __crc32cb(c, *p++);
    return ~c;
}
static int has_hw(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
#endif

#if defined(__x86_64__) || defined(__aarch64__)
static int hw;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;
static void find_hw(void) { hw = has_hw(); }
#endif

uint32_t ek_crc32c(uint32_t crc, const void *data, size_t n) {
#if defined(__x86_64__) || defined(__aarch64__)
    pthread_once(&hw_once, find_hw);
    if (hw) return crc_hw(crc, data, n);
#endif
    return ek_crc32c_ref(crc, data, n);
}
