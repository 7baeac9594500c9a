// Process-level guards the Swift side cannot write itself, because they run inside signal
// handlers: removing temporary files on SIGINT/SIGTERM/SIGHUP, and turning a SIGBUS on a
// memory-mapped model file (truncated under a running process) into a flag the runtime reports.
#ifndef EDGEBERT_EK_SYSTEM_H
#define EDGEBERT_EK_SYSTEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Registers a path to unlink if the process is ended by SIGINT, SIGTERM or SIGHUP (the handler
/// then exits with 128 + the signal: 130, 143, 129). Returns a slot for ek_cleanup_remove, or -1
/// when all slots are taken (the caller then has no guarantee, and should say so).
int ek_cleanup_add(const char *path);
/// Forgets the slot (the file was renamed into place or removed by its owner).
void ek_cleanup_remove(int slot);
/// Installs the handlers once (idempotent, thread-safe).
void ek_cleanup_install(void);

/// A server's graceful stop: SIGINT and SIGTERM write one byte to `fd` (a pipe the server polls)
/// instead of ending the process. Replaces the cleanup handlers above for those two signals.
/// The first signal only: a second SIGINT/SIGTERM ends the process as usual.
void ek_shutdown_install(int fd);
/// Back to the default handlers, if `fd` is the installed one (before it is closed).
void ek_shutdown_uninstall(int fd);

/// Registers a read-only mapping [base, base + length). A SIGBUS inside it (the file shrank under
/// the mapping) maps zero pages over the faulting page, so the read completes, and marks the slot;
/// a SIGBUS elsewhere goes to the handler that was there before. Returns a slot, or -1.
int ek_mapguard_add(const void *base, size_t length);
/// 1 when a page of the slot's mapping had to be replaced by zeros since it was registered.
int ek_mapguard_faulted(int slot);
/// Forgets the slot (before munmap).
void ek_mapguard_remove(int slot);

#ifdef __cplusplus
}
#endif
#endif
