// Interposes the allocator for the test binary (symbols in the executable win over libc's) and
// counts calls. glibc exports __libc_* entry points to forward to.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "alloc_counter.h"

#if defined(__GLIBC__) || defined(__linux__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static int64_t count = 0;

int64_t ek_test_allocations(void) { return __atomic_load_n(&count, __ATOMIC_SEQ_CST); }

void ek_test_maybe_trace(void);
static inline void bump(void) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); ek_test_maybe_trace(); }

void *malloc(size_t n) { bump(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { bump(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { bump(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n) { bump(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { bump(); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    bump();
    void *p = __libc_memalign(al, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#else
int64_t ek_test_allocations(void) { return -1; }
#endif

#if defined(__GLIBC__)
#include <execinfo.h>
#include <unistd.h>
static __thread int in_trace = 0;
static int tracing = 0;
/// Debug aid: while on, every counted allocation prints a backtrace to stderr.
void ek_test_trace(int on) { tracing = on; }
void ek_test_maybe_trace(void) {
    if (!tracing || in_trace) return;
    in_trace = 1;
    void *frames[24];
    int n = backtrace(frames, 24);
    backtrace_symbols_fd(frames, n, 2);
    write(2, "----\n", 5);
    in_trace = 0;
}
#endif
