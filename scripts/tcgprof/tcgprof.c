// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts the guest kernel instructions executed, per translated block,
 * between a "reset" and a "dump" the guest asks for: a deterministic profile where TCG has no
 * PMU and cpu-clock samples land where the emulated timer lets them (docs/bench.md).
 *
 *   qemu ... -plugin tcgprof.so,ctl=DIR/tcgprof.ctl
 *
 * The guest writes "SEQ reset" or "SEQ dump PATH" to the control file; a thread here polls it
 * and, once it has acted on SEQ, writes SEQ to the control file's ".ack". A dump lists
 * "vaddr instructions executions memory-accesses" (hex, then decimal) of every kernel block run
 * since the reset (TCG's cost is not instructions alone: every load and store goes through its
 * software TLB); scripts/tcgprof/report.py maps them to /proc/kallsyms. Counts are added inline,
 * without atomics: exact with one TCG thread (make bench's setting), approximate with more.
 *
 * Declares the few functions of QEMU's plugin API (version 1, QEMU 7.2) it uses: Debian
 * ships the plugin loader in qemu-system but not qemu-plugin.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum { QEMU_PLUGIN_INLINE_ADD_U64 };
enum { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr,
					      uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
void qemu_plugin_register_vcpu_mem_inline(struct qemu_plugin_insn *insn, int rw, int op,
					  void *ptr, uint64_t imm);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* Kernel text on x86-64 (and modules) lies above this; user blocks are not counted. */
#define KERNEL_START 0xffff800000000000ull

struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t execs;
	uint64_t mem;
	uint64_t n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block **blocks;
static size_t nblocks, cap;
static char ctl[4096], ack[4100];

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b;

	(void)id;
	if (vaddr < KERNEL_START)
		return;
	b = calloc(1, sizeof(*b));
	if (!b)
		return;
	b->vaddr = vaddr;
	b->n = qemu_plugin_tb_n_insns(tb);
	pthread_mutex_lock(&lock);
	if (nblocks == cap) {
		size_t ncap = cap ? cap * 2 : 1 << 16;
		struct block **nb = realloc(blocks, ncap * sizeof(*nb));

		if (!nb) {
			pthread_mutex_unlock(&lock);
			free(b);
			return;
		}
		blocks = nb;
		cap = ncap;
	}
	blocks[nblocks++] = b;
	pthread_mutex_unlock(&lock);
	/* Blocks are never freed: the inline adds may run for as long as QEMU does. */
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->insns, b->n);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->execs, 1);
	for (size_t i = 0; i < b->n; i++)
		qemu_plugin_register_vcpu_mem_inline(qemu_plugin_tb_get_insn(tb, i),
						     QEMU_PLUGIN_MEM_RW,
						     QEMU_PLUGIN_INLINE_ADD_U64, &b->mem, 1);
}

static void reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nblocks; i++) {
		blocks[i]->insns = 0;
		blocks[i]->execs = 0;
		blocks[i]->mem = 0;
	}
	pthread_mutex_unlock(&lock);
}

static void dump(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "tcgprof: %s: %s\n", path, strerror(errno));
		return;
	}
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nblocks; i++)
		if (blocks[i]->execs)
			fprintf(f, "%llx %llu %llu %llu\n", (unsigned long long)blocks[i]->vaddr,
				(unsigned long long)blocks[i]->insns,
				(unsigned long long)blocks[i]->execs,
				(unsigned long long)blocks[i]->mem);
	pthread_mutex_unlock(&lock);
	fclose(f);
}

static void *control(void *arg)
{
	char line[4200], cmd[16], path[4096];
	long last = -1, seq;
	const struct timespec tick = { 0, 2 * 1000 * 1000 };

	(void)arg;
	for (;;) {
		FILE *f = fopen(ctl, "r");

		if (f) {
			if (fgets(line, sizeof(line), f)) {
				path[0] = 0;
				if (sscanf(line, "%ld %15s %4095s", &seq, cmd, path) >= 2 &&
				    seq != last) {
					if (!strcmp(cmd, "reset"))
						reset();
					else if (!strcmp(cmd, "dump") && path[0])
						dump(path);
					last = seq;
					FILE *a = fopen(ack, "w");

					if (a) {
						fprintf(a, "%ld\n", seq);
						fclose(a);
					}
				}
			}
			fclose(f);
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	pthread_t t;

	(void)info;
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "ctl=", 4))
			snprintf(ctl, sizeof(ctl), "%s", argv[i] + 4);
	if (!ctl[0]) {
		fprintf(stderr, "tcgprof: needs ctl=FILE\n");
		return -1;
	}
	snprintf(ack, sizeof(ack), "%s.ack", ctl);
	if (pthread_create(&t, NULL, control, NULL))
		return -1;
	pthread_detach(t);
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
