// Counts heap allocations in the test process: malloc and friends are interposed here and
// forwarded to glibc's own entry points. Used to prove that embedding allocates nothing.
#ifndef EDGEBERT_ALLOC_COUNTER_H
#define EDGEBERT_ALLOC_COUNTER_H
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) since start.
int64_t ek_test_allocations(void);

/// Debug aid: while on, every counted allocation prints a backtrace to stderr.
void ek_test_trace(int on);

#endif
