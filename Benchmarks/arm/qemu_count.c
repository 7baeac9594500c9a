// A TCG plugin for qemu-user 7.2 (plugin API version 1): counts the instructions a guest executes
// between marker calls, in total and per class (SMULL/SMULL2, SMLAL/SMLAL2, SADALP, SDOT vector and
// by element). Debian's qemu-user exports the API but ships no header, so the few declarations it
// needs are written out below from the API's documented signatures.
//
// Markers: the guest calls a noinline function whose first instruction is `hint #100` (a NOP on
// every core). The first marker opens region 0, the next closes it, and so on. Counts are added per
// translation block when the block starts, and a call ends a block, so a region holds exactly the
// instructions executed between the two calls plus the marker's own two (hint, ret).
//
// Build: cc -shared -fPIC -O2 qemu_count.c -o qemu_count.so
// Use:   qemu-aarch64 -plugin ./qemu_count.so -d plugin ./program   (one line per region, on stderr)
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// ---- qemu-plugin.h (7.2), the part used here ----
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;  // not dereferenced
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
// ---- end of the API declarations ----

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum { C_ALL, C_SMULL, C_SMLAL, C_SADALP, C_SDOT, C_COUNT };
static const char *const class_names[C_COUNT] = {"insns", "smull", "smlal", "sadalp", "sdot"};
static uint64_t counters[C_COUNT];  // user mode, one guest thread: plain adds are exact
static uint64_t opened_at[C_COUNT];
static int region, open_region;
#define MARK 0xD5032C9Fu  // hint #100

/// The class of one A64 instruction word, by its encoding (Advanced SIMD three-different,
/// two-register misc, three-same extra and by-element groups); -1 for the others.
static int classify(uint32_t w) {
    if ((w & 0xBF20FC00u) == 0x0E20C000u) return C_SMULL;   // SMULL{2} Vd.T, Vn.Tb, Vm.Tb
    if ((w & 0xBF20FC00u) == 0x0E208000u) return C_SMLAL;   // SMLAL{2} Vd.T, Vn.Tb, Vm.Tb
    if ((w & 0xBF3FFC00u) == 0x0E206800u) return C_SADALP;  // SADALP Vd.T, Vn.T
    if ((w & 0xBFE0FC00u) == 0x0E809400u) return C_SDOT;    // SDOT Vd.4S, Vn.16B, Vm.16B
    if ((w & 0xBFC0F400u) == 0x0F80E000u) return C_SDOT;    // SDOT Vd.4S, Vn.16B, Vm.4B[i]
    return -1;
}

static void on_mark(unsigned int vcpu, void *udata) {
    (void)vcpu; (void)udata;
    if (!open_region) {
        memcpy(opened_at, counters, sizeof counters);
        open_region = 1;
        return;
    }
    char line[256];
    int len = snprintf(line, sizeof line, "region %d", region++);
    for (int c = 0; c < C_COUNT; c++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %s %" PRIu64, class_names[c], counters[c] - opened_at[c]);
    snprintf(line + len, sizeof line - (size_t)len, "\n");
    qemu_plugin_outs(line);
    open_region = 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t per[C_COUNT] = {0};
    per[C_ALL] = n;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (qemu_plugin_insn_size(insn) != 4) continue;
        uint32_t w;
        memcpy(&w, qemu_plugin_insn_data(insn), 4);
        const int c = classify(w);
        if (c >= 0) per[c]++;
        if (w == MARK) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
    for (int c = 0; c < C_COUNT; c++)
        if (per[c]) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counters[c], per[c]);
}

static void on_exit(qemu_plugin_id_t id, void *udata) {
    (void)id; (void)udata;
    char line[128];
    snprintf(line, sizeof line, "total insns %" PRIu64 " regions %d\n", counters[C_ALL], region);
    qemu_plugin_outs(line);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                                               char **argv) {
    (void)info; (void)argc; (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
