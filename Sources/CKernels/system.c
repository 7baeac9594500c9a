// Signal-time guards: see ek_system.h. Everything a handler touches is a fixed array of atomics
// and preallocated storage; the handlers call only unlink, mmap, sigaction and _exit.
#define _GNU_SOURCE
#include "ek_system.h"

#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EK_CLEANUP_SLOTS 32
#define EK_PATH_MAX 4096
#define EK_MAP_SLOTS 32

// A slot is 0 (free), 1 (being written) or 2 (holds a path).
static _Atomic int cleanup_state[EK_CLEANUP_SLOTS];
static char cleanup_path[EK_CLEANUP_SLOTS][EK_PATH_MAX];

static void on_terminate(int sig) {
    for (int i = 0; i < EK_CLEANUP_SLOTS; i++) {
        if (atomic_load(&cleanup_state[i]) == 2) unlink(cleanup_path[i]);
    }
    _exit(128 + sig);
}

int ek_cleanup_add(const char *path) {
    size_t n = strlen(path);
    if (n >= EK_PATH_MAX) return -1;
    for (int i = 0; i < EK_CLEANUP_SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&cleanup_state[i], &expected, 1)) {
            memcpy(cleanup_path[i], path, n + 1);
            atomic_store(&cleanup_state[i], 2);
            return i;
        }
    }
    return -1;
}

void ek_cleanup_remove(int slot) {
    if (slot >= 0 && slot < EK_CLEANUP_SLOTS) atomic_store(&cleanup_state[slot], 0);
}

static pthread_once_t cleanup_once = PTHREAD_ONCE_INIT;

static void install_cleanup(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_terminate;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void ek_cleanup_install(void) { pthread_once(&cleanup_once, install_cleanup); }

static volatile sig_atomic_t shutdown_fd = -1;

static void on_shutdown(int sig) {
    (void)sig;
    const int saved = errno;
    const char byte = 1;
    if (shutdown_fd >= 0) { ssize_t r = write(shutdown_fd, &byte, 1); (void)r; }
    errno = saved;
}

void ek_shutdown_install(int fd) {
    shutdown_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_shutdown;
    sa.sa_flags = SA_RESETHAND;  // a second signal ends the process
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void ek_shutdown_uninstall(int fd) {
    if (shutdown_fd != fd) return;
    shutdown_fd = -1;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

// ---- SIGBUS on mapped files -------------------------------------------------------------------

static _Atomic uintptr_t map_base[EK_MAP_SLOTS];   // 0: free
static _Atomic size_t map_length[EK_MAP_SLOTS];
static _Atomic int map_faulted[EK_MAP_SLOTS];
static struct sigaction previous_bus;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_bus(int sig, siginfo_t *info, void *context) {
    uintptr_t a = (uintptr_t)info->si_addr;
    // Only a real access past the end of a file (not kill -BUS) is ours to patch.
    for (int i = 0; info->si_code == BUS_ADRERR && i < EK_MAP_SLOTS; i++) {
        uintptr_t b = atomic_load(&map_base[i]);
        if (b != 0 && a >= b && a - b < atomic_load(&map_length[i])) {
            uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
            void *p = (void *)(a & ~(page - 1));
            // Zero page over the vanished one: the faulting read completes and reads 0.
            if (mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                atomic_store(&map_faulted[i], 1);
                return;
            }
        }
    }
    // Not ours: hand it to whoever handled SIGBUS before (or the default, which ends the process).
    if (previous_bus.sa_flags & SA_SIGINFO) {
        if (previous_bus.sa_sigaction) { previous_bus.sa_sigaction(sig, info, context); return; }
    } else if (previous_bus.sa_handler != SIG_DFL && previous_bus.sa_handler != SIG_IGN) {
        previous_bus.sa_handler(sig);
        return;
    }
    signal(SIGBUS, SIG_DFL);  // returning re-executes the access, which now ends the process
}

static void install_bus(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_bus);
}

int ek_mapguard_add(const void *base, size_t length) {
    pthread_once(&bus_once, install_bus);
    for (int i = 0; i < EK_MAP_SLOTS; i++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong(&map_base[i], &expected, (uintptr_t)base)) {
            atomic_store(&map_faulted[i], 0);
            atomic_store(&map_length[i], length);
            return i;
        }
    }
    return -1;
}

int ek_mapguard_faulted(int slot) {
    return slot >= 0 && slot < EK_MAP_SLOTS ? atomic_load(&map_faulted[slot]) : 0;
}

void ek_mapguard_remove(int slot) {
    if (slot < 0 || slot >= EK_MAP_SLOTS) return;
    atomic_store(&map_length[slot], 0);
    atomic_store(&map_base[slot], 0);
}
