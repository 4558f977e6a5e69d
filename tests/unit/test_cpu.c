/* Unit tests of the RISC-V hart (src/vm/cpu): a mock board with a small RAM
 * and one MMIO test device, and small guest programs.
 *
 * The programs were written in assembly and assembled with binutils
 * (riscv64-linux-gnu-as -march=rv64gc, linked at 0x80000000); each
 * instruction word is listed with its disassembly. They run either one
 * instruction at a time (run_until_stuck: until a `jal x0, 0` loop) or on
 * hart_run() threads for interrupts, WFI and SMP. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "vm/cpu/cpu.h"
#include "vm/cpu/hart.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull
#define DATA_GPA (RAM_BASE + 0x4000)
#define DEV_GPA 0x10000000ull
#define MAX_HARTS 4

/* --- the mock board --- */

struct mock {
	struct cpu_shared sh;
	struct hart *harts[MAX_HARTS];
	atomic_int done;
	uint64_t scratch;
	unsigned last_size;
	int fatal_calls;
	int sbi_calls;
};

static int mock_mmio_read(void *opaque, struct hart *h, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct mock *m = opaque;
	if (gpa == DEV_GPA + 8) {
		*val = m->scratch;
		m->last_size = size;
		return 0;
	}
	return -1;
}

static int mock_mmio_write(void *opaque, struct hart *h, uint64_t gpa, unsigned size, uint64_t val)
{
	struct mock *m = opaque;
	if (gpa == DEV_GPA) { /* "I am done": stop once every hart said so */
		if ((unsigned)atomic_fetch_add(&m->done, 1) + 1 >= m->sh.nr_harts) {
			atomic_store(&m->sh.stop, true);
			for (unsigned i = 0; i < m->sh.nr_harts; i++)
				hart_kick(m->harts[i]);
		}
		return 0;
	}
	if (gpa == DEV_GPA + 8) {
		m->scratch = val;
		m->last_size = size;
		return 0;
	}
	return -1;
}

static void mock_sbi_call(void *opaque, struct hart *h)
{
	struct mock *m = opaque;
	m->sbi_calls++;
	h->x[10] = 0;
	h->x[11] = h->x[17] + 1;
}

static void mock_fatal(void *opaque, struct hart *h, const char *why)
{
	struct mock *m = opaque;
	m->fatal_calls++;
}

static const struct cpu_platform_ops mock_ops = {
	.mmio_read = mock_mmio_read,
	.mmio_write = mock_mmio_write,
	.sbi_call = mock_sbi_call,
	.fatal = mock_fatal,
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static struct mock *mock_new(unsigned nr_harts)
{
	struct mock *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->sh.ram_hva = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(m->sh.ram_hva);
	memset(m->sh.ram_hva, 0, RAM_SIZE);
	m->sh.ram_base_gpa = RAM_BASE;
	m->sh.ram_size = RAM_SIZE;
	m->sh.time_base_ns = mono_ns();
	m->sh.ops = &mock_ops;
	m->sh.opaque = m;
	m->sh.harts = m->harts;
	m->sh.nr_harts = nr_harts;
	for (unsigned i = 0; i < nr_harts; i++) {
		m->harts[i] = hart_create(&m->sh, i);
		hart_reset(m->harts[i], RAM_BASE, 0);
	}
	return m;
}

static void mock_free(struct mock *m)
{
	for (unsigned i = 0; i < m->sh.nr_harts; i++)
		hart_destroy(m->harts[i]);
	free(m->sh.ram_hva);
	free(m);
}

static void load_words(struct mock *m, uint64_t gpa, const uint16_t *p, size_t bytes)
{
	memcpy(m->sh.ram_hva + (gpa - RAM_BASE), p, bytes);
	cpu_note_ram_write(&m->sh, gpa, bytes);
}
#define LOAD_PROG(m, prog) load_words((m), RAM_BASE, (prog), sizeof(prog))

static uint64_t ram_rd64(struct mock *m, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, m->sh.ram_hva + (gpa - RAM_BASE), 8);
	return v;
}

static void ram_wr64(struct mock *m, uint64_t gpa, uint64_t v)
{
	memcpy(m->sh.ram_hva + (gpa - RAM_BASE), &v, 8);
	cpu_note_ram_write(&m->sh, gpa, 8);
}

static void ram_wr32(struct mock *m, uint64_t gpa, uint32_t v)
{
	memcpy(m->sh.ram_hva + (gpa - RAM_BASE), &v, 4);
	cpu_note_ram_write(&m->sh, gpa, 4);
}

/* Executes one instruction (or takes its trap). */
static void step1(struct hart *h)
{
	h->brk = false;
	hart_exec_slice(h, 1);
}

/* Steps until an instruction leaves pc unchanged (the final `jal x0, 0`);
 * returns the number of steps. */
static unsigned run_until_stuck(struct hart *h, unsigned max)
{
	for (unsigned i = 0; i < max; i++) {
		uint64_t old = h->pc;
		step1(h);
		if (h->pc == old)
			return i;
	}
	fail_msg("program did not finish in %u steps (pc=%#llx)", max, (unsigned long long)h->pc);
	return max;
}

/* Puts one 32-bit instruction at the reset pc and executes it at `priv`. */
static void exec1(struct hart *h, struct mock *m, uint32_t insn, unsigned priv)
{
	ram_wr32(m, RAM_BASE, insn);
	h->pc = RAM_BASE;
	h->priv = priv;
	hart_update_dpriv(h);
	h->mcause = h->scause = 0xdead;
	h->mtval = h->stval = 0;
	step1(h);
}

/* csrr rd, csr = csrrs rd, csr, x0 ; csrw csr, rs = csrrw x0, csr, rs */
static uint32_t csrr(unsigned rd, unsigned csr)
{
	return (csr << 20) | (2 << 12) | (rd << 7) | 0x73;
}

static uint32_t csrw(unsigned csr, unsigned rs)
{
	return (csr << 20) | (rs << 15) | (1 << 12) | 0x73;
}

/* --- programs --- */

static const uint16_t prog_int[] = {
	0x0093, 0xffb0, /* 0000: addi x1,x0,-5 */
	0x0113, 0x0030, /* 0004: addi x2,x0,3 */
	0x81b3, 0x0020, /* 0008: add x3,x1,x2 */
	0x8233, 0x4020, /* 000c: sub x4,x1,x2 */
	0x12b3, 0x0021, /* 0010: sll x5,x2,x2 */
	0xd313, 0x4010, /* 0014: srai x6,x1,0x1 */
	0xd393, 0x03c0, /* 0018: srli x7,x1,0x3c */
	0xa433, 0x0020, /* 001c: slt x8,x1,x2 */
	0xb4b3, 0x0020, /* 0020: sltu x9,x1,x2 */
	0x4513, 0xfff1, /* 0024: xori x10,x2,-1 */
	0x05b7, 0x8000, /* 0028: lui x11,0x80000 */
	0x0617, 0x0000, /* 002c: auipc x12,0x0 */
	0x869b, 0xfff5, /* 0030: addiw x13,x11,-1 */
	0xd71b, 0x4045, /* 0034: sraiw x14,x11,0x4 */
	0xd7bb, 0x0025, /* 0038: srlw x15,x11,x2 */
	0x083b, 0x40b0, /* 003c: subw x16,x0,x11 */
	0x0893, 0x0000, /* 0040: addi x17,x0,0 */
	0x0913, 0x00a0, /* 0044: addi x18,x0,10 */
	0x88b3, 0x0128, /* 0048: add x17,x17,x18 */
	0x0913, 0xfff9, /* 004c: addi x18,x18,-1 */
	0x1ce3, 0xfe09, /* 0050: bne x18,x0,80000048 */
	0x49b7, 0x8000, /* 0054: lui x19,0x80004 */
	0x9993, 0x0209, /* 0058: slli x19,x19,0x20 */
	0xd993, 0x0209, /* 005c: srli x19,x19,0x20 */
	0x0a13, 0xffe0, /* 0060: addi x20,x0,-2 */
	0xb023, 0x0149, /* 0064: sd x20,0(x19) */
	0x8a83, 0x0009, /* 0068: lb x21,0(x19) */
	0xcb03, 0x0009, /* 006c: lbu x22,0(x19) */
	0xdb83, 0x0009, /* 0070: lhu x23,0(x19) */
	0xec03, 0x0049, /* 0074: lwu x24,4(x19) */
	0x9123, 0x0029, /* 0078: sh x2,2(x19) */
	0xbc83, 0x0009, /* 007c: ld x25,0(x19) */
	0x00ef, 0x0080, /* 0080: jal x1,80000088 */
	0x006f, 0x00c0, /* 0084: jal x0,80000090 */
	0x0d13, 0x02a0, /* 0088: addi x26,x0,42 */
	0x8067, 0x0000, /* 008c: jalr x0,0(x1) */
	0x0d93, 0x0000, /* 0090: addi x27,x0,0 */
	0x6463, 0x0032, /* 0094: bltu x4,x3,8000009c */
	0x8d93, 0x001d, /* 0098: addi x27,x27,1 */
	0x5463, 0x0032, /* 009c: bge x4,x3,800000a4 */
	0x8d93, 0x002d, /* 00a0: addi x27,x27,2 */
	0xbe13, 0xfff0, /* 00a4: sltiu x28,x1,-1 */
	0x7e93, 0x0f0a, /* 00a8: andi x29,x20,240 */
	0x6f13, 0x8000, /* 00ac: ori x30,x0,-2048 */
	0xdfb3, 0x4025, /* 00b0: sra x31,x11,x2 */
	0x006f, 0x0000, /* 00b4: jal x0,800000b4 */
};

static const uint16_t prog_muldiv[] = {
	0x0093, 0x0070, /* 0000: addi x1,x0,7 */
	0x0113, 0x0000, /* 0004: addi x2,x0,0 */
	0x0193, 0xfff0, /* 0008: addi x3,x0,-1 */
	0x0213, 0x0010, /* 000c: addi x4,x0,1 */
	0x1213, 0x03f2, /* 0010: slli x4,x4,0x3f */
	0xc2b3, 0x0220, /* 0014: div x5,x1,x2 */
	0xd333, 0x0220, /* 0018: divu x6,x1,x2 */
	0xe3b3, 0x0220, /* 001c: rem x7,x1,x2 */
	0xf433, 0x0220, /* 0020: remu x8,x1,x2 */
	0x44b3, 0x0232, /* 0024: div x9,x4,x3 */
	0x6533, 0x0232, /* 0028: rem x10,x4,x3 */
	0x0593, 0xff90, /* 002c: addi x11,x0,-7 */
	0x0613, 0x0020, /* 0030: addi x12,x0,2 */
	0xc6b3, 0x02c5, /* 0034: div x13,x11,x12 */
	0xe733, 0x02c5, /* 0038: rem x14,x11,x12 */
	0x17b3, 0x0232, /* 003c: mulh x15,x4,x3 */
	0xb833, 0x0231, /* 0040: mulhu x16,x3,x3 */
	0xa8b3, 0x0231, /* 0044: mulhsu x17,x3,x3 */
	0x8933, 0x02c5, /* 0048: mul x18,x11,x12 */
	0x09b7, 0x8000, /* 004c: lui x19,0x80000 */
	0xca3b, 0x0239, /* 0050: divw x20,x19,x3 */
	0xeabb, 0x0239, /* 0054: remw x21,x19,x3 */
	0xdb3b, 0x0220, /* 0058: divuw x22,x1,x2 */
	0xfbbb, 0x0225, /* 005c: remuw x23,x11,x2 */
	0x8c3b, 0x02c9, /* 0060: mulw x24,x19,x12 */
	0xccbb, 0x02c5, /* 0064: divw x25,x11,x12 */
	0x006f, 0x0000, /* 0068: jal x0,80000068 */
};

static const uint16_t prog_rvc[] = {
	0x4415, /* 0000: c.li x8,5 */
	0x1475, /* 0002: c.addi x8,-3 */
	0x64fd, /* 0004: c.lui x9,0x1f */
	0x6121, /* 0006: c.addi16sp x2,64 */
	0x0808, /* 0008: c.addi4spn x10,x2,16 */
	0x0412, /* 000a: c.slli x8,0x4 */
	0x85a2, /* 000c: c.mv x11,x8 */
	0x8189, /* 000e: c.srli x11,0x2 */
	0x5641, /* 0010: c.li x12,-16 */
	0x8609, /* 0012: c.srai x12,0x2 */
	0x8a39, /* 0014: c.andi x12,14 */
	0x46b1, /* 0016: c.li x13,12 */
	0x4729, /* 0018: c.li x14,10 */
	0x8e99, /* 001a: c.sub x13,x14 */
	0x4799, /* 001c: c.li x15,6 */
	0x8fb9, /* 001e: c.xor x15,x14 */
	0x9fb9, /* 0020: c.addw x15,x14 */
	0x97ba, /* 0022: c.add x15,x14 */
	0x872a, /* 0024: c.mv x14,x10 */
	0xc300, /* 0026: c.sw x8,0(x14) */
	0xe704, /* 0028: c.sd x9,8(x14) */
	0x4314, /* 002a: c.lw x13,0(x14) */
	0x6710, /* 002c: c.ld x12,8(x14) */
	0xc23e, /* 002e: c.swsp x15,4(x2) */
	0xe82e, /* 0030: c.sdsp x11,16(x2) */
	0x4292, /* 0032: c.lwsp x5,4(x2) */
	0x6342, /* 0034: c.ldsp x6,16(x2) */
	0x4581, /* 0036: c.li x11,0 */
	0xc191, /* 0038: c.beqz x11,8000003c */
	0x4585, /* 003a: c.li x11,1 */
	0xe191, /* 003c: c.bnez x11,80000040 */
	0x4589, /* 003e: c.li x11,2 */
	0x0e17, 0x0000, /* 0040: auipc x28,0x0 */
	0x0e29, /* 0044: c.addi x28,10 */
	0x9e02, /* 0046: c.jalr x28 */
	0xa019, /* 0048: c.j 8000004e */
	0x4ea5, /* 004a: c.li x29,9 */
	0x8082, /* 004c: c.jr x1 */
	0x0001, /* 004e: c.addi x0,0 */
	0x6f19, /* 0050: c.lui x30,0x6 */
	0x2073, 0x300f, /* 0052: csrrs x0,mstatus,x30 */
	0xaf00, /* 0056: c.fsd f8,24(x14) */
	0x34a2, /* 0058: c.fldsp f9,40(x2) */
	0xb826, /* 005a: c.fsdsp f9,48(x2) */
	0x3308, /* 005c: c.fld f10,32(x14) */
	0x0fd3, 0xe205, /* 005e: fmv.x.d x31,f10 */
	0xa001, /* 0062: c.j 80000062 */
};

static const uint16_t prog_amo[] = {
	0x40b7, 0x8000, /* 0000: lui x1,0x80004 */
	0x9093, 0x0200, /* 0004: slli x1,x1,0x20 */
	0xd093, 0x0200, /* 0008: srli x1,x1,0x20 */
	0x8f93, 0x0080, /* 000c: addi x31,x1,8 */
	0x0113, 0x00a0, /* 0010: addi x2,x0,10 */
	0xb023, 0x0020, /* 0014: sd x2,0(x1) */
	0x0193, 0x0050, /* 0018: addi x3,x0,5 */
	0xb22f, 0x0030, /* 001c: amoadd.d x4,x3,(x1) */
	0xb283, 0x0000, /* 0020: ld x5,0(x1) */
	0x0313, 0xfff0, /* 0024: addi x6,x0,-1 */
	0xa3af, 0x086f, /* 0028: amoswap.w x7,x6,(x31) */
	0xa403, 0x0080, /* 002c: lw x8,8(x1) */
	0xa4af, 0x803f, /* 0030: amomin.w x9,x3,(x31) */
	0xa503, 0x0080, /* 0034: lw x10,8(x1) */
	0xb5af, 0xe060, /* 0038: amomaxu.d x11,x6,(x1) */
	0xb603, 0x0000, /* 003c: ld x12,0(x1) */
	0x0693, 0x0030, /* 0040: addi x13,x0,3 */
	0xb72f, 0xc0d0, /* 0044: amominu.d x14,x13,(x1) */
	0xa7af, 0xa06f, /* 0048: amomax.w x15,x6,(x31) */
	0xb82f, 0x60d0, /* 004c: amoand.d x16,x13,(x1) */
	0xb8af, 0x4020, /* 0050: amoor.d x17,x2,(x1) */
	0xa92f, 0x202f, /* 0054: amoxor.w x18,x2,(x31) */
	0xb9af, 0x1000, /* 0058: lr.d x19,(x1) */
	0x8993, 0x0019, /* 005c: addi x19,x19,1 */
	0xba2f, 0x1930, /* 0060: sc.d x20,x19,(x1) */
	0xba83, 0x0000, /* 0064: ld x21,0(x1) */
	0xbb2f, 0x1930, /* 0068: sc.d x22,x19,(x1) */
	0xabaf, 0x100f, /* 006c: lr.w x23,(x31) */
	0xa423, 0x0000, /* 0070: sw x0,8(x1) */
	0xac2f, 0x182f, /* 0074: sc.w x24,x2,(x31) */
	0xac83, 0x0080, /* 0078: lw x25,8(x1) */
	0x006f, 0x0000, /* 007c: jal x0,8000007c */
};

static const uint16_t prog_smp[] = {
	0x40b7, 0x8000, /* 0000: lui x1,0x80004 */
	0x9093, 0x0200, /* 0004: slli x1,x1,0x20 */
	0xd093, 0x0200, /* 0008: srli x1,x1,0x20 */
	0x5137, 0x0000, /* 000c: lui x2,0x5 */
	0x011b, 0xe201, /* 0010: addiw x2,x2,-480 */
	0x0193, 0x0010, /* 0014: addi x3,x0,1 */
	0x8393, 0x0080, /* 0018: addi x7,x1,8 */
	0xa02f, 0x0030, /* 001c: amoadd.w x0,x3,(x1) */
	0xb22f, 0x1003, /* 0020: lr.d x4,(x7) */
	0x0213, 0x0012, /* 0024: addi x4,x4,1 */
	0xb2af, 0x1843, /* 0028: sc.d x5,x4,(x7) */
	0x9ae3, 0xfe02, /* 002c: bne x5,x0,80000020 */
	0x0113, 0xfff1, /* 0030: addi x2,x2,-1 */
	0x14e3, 0xfe01, /* 0034: bne x2,x0,8000001c */
	0x0337, 0x1000, /* 0038: lui x6,0x10000 */
	0x3023, 0x0003, /* 003c: sd x0,0(x6) */
	0x0073, 0x1050, /* 0040: wfi */
	0xf06f, 0xffdf, /* 0044: jal x0,80000040 */
};

static const uint16_t prog_wfi[] = {
	0x10b7, 0x0000, /* 0000: lui x1,0x1 */
	0x809b, 0x8000, /* 0004: addiw x1,x1,-2048 */
	0x9073, 0x3040, /* 0008: csrrw x0,mie,x1 */
	0x0113, 0x0000, /* 000c: addi x2,x0,0 */
	0x0073, 0x1050, /* 0010: wfi */
	0x0113, 0x0010, /* 0014: addi x2,x0,1 */
	0x1073, 0x3040, /* 0018: csrrw x0,mie,x0 */
	0x0337, 0x1000, /* 001c: lui x6,0x10000 */
	0x3023, 0x0003, /* 0020: sd x0,0(x6) */
	0x0073, 0x1050, /* 0024: wfi */
	0xf06f, 0xffdf, /* 0028: jal x0,80000024 */
};

static const uint16_t prog_irq[] = {
	0x0097, 0x0000, /* 0000: auipc x1,0x0 */
	0x8093, 0x0240, /* 0004: addi x1,x1,36 */
	0x9073, 0x3050, /* 0008: csrrw x0,mtvec,x1 */
	0x1137, 0x0000, /* 000c: lui x2,0x1 */
	0x011b, 0x8881, /* 0010: addiw x2,x2,-1912 */
	0x1073, 0x3041, /* 0014: csrrw x0,mie,x2 */
	0x6073, 0x3004, /* 0018: csrrsi x0,mstatus,8 */
	0x006f, 0x0000, /* 001c: jal x0,8000001c */
	0x0013, 0x0000, /* 0020: addi x0,x0,0 */
	0x21f3, 0x3420, /* 0024: csrrs x3,mcause,x0 */
	0x0337, 0x1000, /* 0028: lui x6,0x10000 */
	0x3023, 0x0003, /* 002c: sd x0,0(x6) */
	0x006f, 0x0000, /* 0030: jal x0,80000030 */
};

static const uint16_t prog_paging[] = {
	0x00b7, 0x4000, /* 0000: lui x1,0x40000 */
	0x0113, 0x04d0, /* 0004: addi x2,x0,77 */
	0xb423, 0x0020, /* 0008: sd x2,8(x1) */
	0xb183, 0x0080, /* 000c: ld x3,8(x1) */
	0x1237, 0x4000, /* 0010: lui x4,0x40001 */
	0x3283, 0x0002, /* 0014: ld x5,0(x4) */
	0x006f, 0x0000, /* 0018: jal x0,80000018 */
	0x006f, 0x0000, /* 001c: jal x0,8000001c */
};

static const uint16_t prog_misal[] = {
	0x40b7, 0x8000, /* 0000: lui x1,0x80004 */
	0x9093, 0x0200, /* 0004: slli x1,x1,0x20 */
	0xd093, 0x0200, /* 0008: srli x1,x1,0x20 */
	0x9137, 0x0044, /* 000c: lui x2,0x449 */
	0x011b, 0x8cd1, /* 0010: addiw x2,x2,-1843 */
	0x1113, 0x00e1, /* 0014: slli x2,x2,0xe */
	0x0113, 0x4551, /* 0018: addi x2,x2,1109 */
	0x1113, 0x00c1, /* 001c: slli x2,x2,0xc */
	0x0113, 0x6671, /* 0020: addi x2,x2,1639 */
	0x1113, 0x00c1, /* 0024: slli x2,x2,0xc */
	0x0113, 0x7881, /* 0028: addi x2,x2,1928 */
	0xb1a3, 0x0020, /* 002c: sd x2,3(x1) */
	0xb183, 0x0030, /* 0030: ld x3,3(x1) */
	0xa203, 0x0010, /* 0034: lw x4,1(x1) */
	0x8393, 0x7ff0, /* 0038: addi x7,x1,2047 */
	0x8393, 0x7ff3, /* 003c: addi x7,x7,2047 */
	0x8393, 0x0013, /* 0040: addi x7,x7,1 */
	0xa023, 0x0023, /* 0044: sw x2,0(x7) */
	0xe403, 0x0003, /* 0048: lwu x8,0(x7) */
	0x0337, 0x1000, /* 004c: lui x6,0x10000 */
	0x2423, 0x0023, /* 0050: sw x2,8(x6) */
	0x2483, 0x0083, /* 0054: lw x9,8(x6) */
	0x3503, 0x1000, /* 0058: ld x10,256(x0) */
	0x006f, 0x0000, /* 005c: jal x0,8000005c */
};

static const uint16_t prog_fp[] = {
	0x60b7, 0x0000, /* 0000: lui x1,0x6 */
	0xa073, 0x3000, /* 0004: csrrs x0,mstatus,x1 */
	0x40b7, 0x8000, /* 0008: lui x1,0x80004 */
	0x9093, 0x0200, /* 000c: slli x1,x1,0x20 */
	0xd093, 0x0200, /* 0010: srli x1,x1,0x20 */
	0x0137, 0x3f80, /* 0014: lui x2,0x3f800 */
	0xa023, 0x0020, /* 0018: sw x2,0(x1) */
	0xa087, 0x0000, /* 001c: flw f1,0(x1) */
	0xf153, 0x0010, /* 0020: fadd.s f2,f1,f1 */
	0xa227, 0x0020, /* 0024: fsw f2,4(x1) */
	0xe183, 0x0040, /* 0028: lwu x3,4(x1) */
	0x8253, 0xe200, /* 002c: fmv.x.d x4,f1 */
	0x0293, 0xffd0, /* 0030: addi x5,x0,-3 */
	0xb423, 0x0050, /* 0034: sd x5,8(x1) */
	0xb187, 0x0080, /* 0038: fld f3,8(x1) */
	0xb827, 0x0030, /* 003c: fsd f3,16(x1) */
	0xb303, 0x0100, /* 0040: ld x6,16(x1) */
	0x23f3, 0x0010, /* 0044: csrrs x7,fflags,x0 */
	0x02d3, 0xf000, /* 0048: fmv.w.x f5,x0 */
	0xf253, 0x1850, /* 004c: fdiv.s f4,f1,f5 */
	0x2473, 0x0010, /* 0050: csrrs x8,fflags,x0 */
	0x006f, 0x0000, /* 0054: jal x0,80000054 */
};


/* --- tests --- */

static void test_integer(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_int);
	run_until_stuck(h, 1000);
	uint64_t *x = h->x;
	assert_int_equal(x[0], 0);
	assert_int_equal(x[1], RAM_BASE + 0x84);
	assert_int_equal(x[3], (uint64_t)-2);
	assert_int_equal(x[4], (uint64_t)-8);
	assert_int_equal(x[5], 24);
	assert_int_equal(x[6], (uint64_t)-3);
	assert_int_equal(x[7], 15);
	assert_int_equal(x[8], 1);
	assert_int_equal(x[9], 0);
	assert_int_equal(x[10], (uint64_t)-4);
	assert_int_equal(x[11], 0xffffffff80000000ull);
	assert_int_equal(x[12], RAM_BASE + 0x2c);
	assert_int_equal(x[13], 0x7fffffffull);
	assert_int_equal(x[14], 0xfffffffff8000000ull);
	assert_int_equal(x[15], 0x10000000ull);
	assert_int_equal(x[16], 0xffffffff80000000ull);
	assert_int_equal(x[17], 55);
	assert_int_equal(x[19], DATA_GPA);
	assert_int_equal(x[21], (uint64_t)-2);
	assert_int_equal(x[22], 0xfe);
	assert_int_equal(x[23], 0xfffe);
	assert_int_equal(x[24], 0xffffffffull);
	assert_int_equal(x[25], 0xffffffff0003fffeull);
	assert_int_equal(x[26], 42);
	assert_int_equal(x[27], 2);
	assert_int_equal(x[28], 1);
	assert_int_equal(x[29], 0xf0);
	assert_int_equal(x[30], 0xfffffffffffff800ull);
	assert_int_equal(x[31], 0xfffffffff0000000ull);
	assert_int_equal(h->pc, RAM_BASE + 0xb4);
	assert_true(h->instret > 60);
	mock_free(m);
}

static void test_muldiv(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_muldiv);
	run_until_stuck(h, 1000);
	uint64_t *x = h->x;
	assert_int_equal(x[5], ~0ull);  /* div by zero */
	assert_int_equal(x[6], ~0ull);  /* divu by zero */
	assert_int_equal(x[7], 7);      /* rem by zero = dividend */
	assert_int_equal(x[8], 7);
	assert_int_equal(x[9], 1ull << 63); /* overflow */
	assert_int_equal(x[10], 0);
	assert_int_equal(x[13], (uint64_t)-3); /* rounds toward zero */
	assert_int_equal(x[14], (uint64_t)-1);
	assert_int_equal(x[15], 0);
	assert_int_equal(x[16], 0xfffffffffffffffeull);
	assert_int_equal(x[17], ~0ull);
	assert_int_equal(x[18], (uint64_t)-14);
	assert_int_equal(x[20], 0xffffffff80000000ull);
	assert_int_equal(x[21], 0);
	assert_int_equal(x[22], ~0ull);
	assert_int_equal(x[23], 0xfffffffffffffff9ull);
	assert_int_equal(x[24], 0);
	assert_int_equal(x[25], (uint64_t)-3);
	mock_free(m);
}

static void test_compressed(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_rvc);
	h->x[2] = DATA_GPA;
	h->fp.f[8] = 0x400921fb54442d18ull;
	run_until_stuck(h, 1000);
	uint64_t *x = h->x;
	assert_int_equal(x[2], DATA_GPA + 64);
	assert_int_equal(x[8], 32);
	assert_int_equal(x[9], 0x1f000);
	assert_int_equal(x[10], DATA_GPA + 80);
	assert_int_equal(x[13], 32);
	assert_int_equal(x[12], 0x1f000);
	assert_int_equal(x[15], 32);
	assert_int_equal(x[5], 32);
	assert_int_equal(x[6], 8);
	assert_int_equal(x[11], 2);
	assert_int_equal(x[1], RAM_BASE + 0x48);
	assert_int_equal(x[29], 9);
	assert_int_equal(ram_rd64(m, DATA_GPA + 104), 0x400921fb54442d18ull);
	assert_int_equal(x[31], 0x400921fb54442d18ull);
	assert_int_equal(h->pc, RAM_BASE + 0x62);
	/* the all-zero halfword is illegal; tval holds the 16 bits */
	h->mtvec = RAM_BASE + 0x100;
	ram_wr32(m, RAM_BASE + 0x200, 0x00000000);
	h->pc = RAM_BASE + 0x200;
	step1(h);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	assert_int_equal(h->mtval, 0);
	assert_int_equal(h->mepc, RAM_BASE + 0x200);
	/* c.lwsp with rd = x0 is reserved */
	ram_wr32(m, RAM_BASE + 0x200, 0x4002);
	h->pc = RAM_BASE + 0x200;
	h->priv = PRIV_M;
	step1(h);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	assert_int_equal(h->mtval, 0x4002);
	mock_free(m);
}

static void test_csr_rules(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	h->mtvec = RAM_BASE + 0x100;
	uint64_t v;

	/* M-mode CSR from U and S: illegal, tval = instruction bits */
	exec1(h, m, csrr(5, 0x300), PRIV_U);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	assert_int_equal(h->mtval, csrr(5, 0x300));
	assert_int_equal(h->pc, RAM_BASE + 0x100);
	exec1(h, m, csrr(5, 0x340), PRIV_S);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	/* read-only CSR: reading works, writing is illegal */
	h->x[6] = 1;
	exec1(h, m, csrr(5, 0xf14), PRIV_M);
	assert_int_equal(h->mcause, 0xdead);
	assert_int_equal(h->x[5], 0);
	exec1(h, m, csrw(0xf14, 6), PRIV_M);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	/* seed (Zkr) is not implemented */
	exec1(h, m, csrr(5, 0x015), PRIV_M);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	/* counters from U need mcounteren and scounteren */
	exec1(h, m, csrr(5, 0xc00), PRIV_U);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	h->mcounteren = 1;
	exec1(h, m, csrr(5, 0xc00), PRIV_U);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	exec1(h, m, csrr(5, 0xc00), PRIV_S);
	assert_int_equal(h->mcause, 0xdead);
	h->scounteren = 1;
	exec1(h, m, csrr(5, 0xc00), PRIV_U);
	assert_int_equal(h->mcause, 0xdead);
	exec1(h, m, csrr(5, 0xc01), PRIV_U); /* time: TM not enabled */
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	/* time advances at 10 MHz */
	h->priv = PRIV_M;
	assert_int_equal(csr_read(h, 0xc01, &v), 0);
	uint64_t t0 = v;
	usleep(2000);
	assert_int_equal(csr_read(h, 0xc01, &v), 0);
	assert_true(v - t0 >= 20000 / 2 * 2 / 2 && v - t0 < 10000000);
	/* TVM traps satp from S */
	h->mstatus |= MSTATUS_TVM;
	exec1(h, m, csrr(5, 0x180), PRIV_S);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	h->mstatus &= ~MSTATUS_TVM;
	/* sstatus is a restricted view of mstatus */
	h->priv = PRIV_S;
	assert_int_equal(csr_write(h, 0x100, MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SUM), 0);
	assert_true(h->mstatus & MSTATUS_SIE);
	assert_true(h->mstatus & MSTATUS_SUM);
	assert_false(h->mstatus & MSTATUS_MIE);
	assert_int_equal(csr_read(h, 0x100, &v), 0);
	assert_int_equal(v & MSTATUS_UXL, 2ull << 32);
	/* sip: only SSIP, only when delegated */
	assert_int_equal(csr_write(h, 0x144, MIP_SSIP | MIP_STIP), 0);
	assert_int_equal(atomic_load(&h->mip), 0);
	h->mideleg = MIP_SSIP;
	assert_int_equal(csr_write(h, 0x144, MIP_SSIP | MIP_STIP), 0);
	assert_int_equal(atomic_load(&h->mip), MIP_SSIP);
	/* FP CSRs need FS != Off */
	assert_int_equal(csr_read(h, 0x003, &v), -1);
	h->mstatus |= 1ull << MSTATUS_FS_SHIFT;
	assert_int_equal(csr_write(h, 0x003, 0xff), 0);
	assert_int_equal(h->fp.frm, 7);
	assert_int_equal(h->fp.fflags, 0x1f);
	assert_true(h->mstatus & MSTATUS_SD);
	/* M-level registers and WARL fields */
	h->priv = PRIV_M;
	assert_int_equal(csr_read(h, 0x301, &v), 0);
	assert_int_equal(v, (2ull << 62) | 0x14112d);
	assert_int_equal(csr_write(h, 0x302, ~0ull), 0);
	assert_int_equal(h->medeleg & (1ull << EXC_ECALL_M), 0);
	assert_int_equal(csr_write(h, 0x305, RAM_BASE | 2), 0);
	assert_int_equal(h->mtvec, RAM_BASE);
	assert_int_equal(csr_write(h, 0x180, (8ull << 60) | 0x80001), 0);
	assert_int_equal(csr_write(h, 0x180, (10ull << 60) | 0x80002), 0); /* Sv57: ignored */
	assert_int_equal(h->satp, (8ull << 60) | 0x80001);
	assert_int_equal(csr_write(h, 0x3a0, 0x1f), 0);
	assert_int_equal(csr_read(h, 0x3a0, &v), 0);
	assert_int_equal(v, 0x1f);
	assert_int_equal(csr_read(h, 0x3a1, &v), -1);
	assert_int_equal(csr_write(h, 0x3b5, 0x1234), 0);
	assert_int_equal(csr_read(h, 0x3b5, &v), 0);
	assert_int_equal(v, 0x1234);
	assert_int_equal(csr_read(h, 0xb05, &v), 0);
	assert_int_equal(v, 0);
	/* stimecmp from S needs menvcfg.STCE */
	h->priv = PRIV_S;
	h->mcounteren = 2;
	assert_int_equal(csr_read(h, 0x14d, &v), -1);
	h->menvcfg = MENVCFG_STCE;
	assert_int_equal(csr_read(h, 0x14d, &v), 0);
	mock_free(m);
}

static void test_traps(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	h->mtvec = RAM_BASE + 0x100;
	h->stvec = RAM_BASE + 0x200;
	/* ecall from U, not delegated */
	exec1(h, m, 0x00000073, PRIV_U);
	assert_int_equal(h->mcause, EXC_ECALL_U);
	assert_int_equal(h->mepc, RAM_BASE);
	assert_int_equal(h->priv, PRIV_M);
	assert_int_equal(h->mstatus & MSTATUS_MPP, 0);
	assert_int_equal(h->pc, RAM_BASE + 0x100);
	/* delegated to S */
	h->medeleg = 1ull << EXC_ECALL_U;
	h->mstatus |= MSTATUS_SIE;
	exec1(h, m, 0x00000073, PRIV_U);
	assert_int_equal(h->scause, EXC_ECALL_U);
	assert_int_equal(h->mcause, 0xdead);
	assert_int_equal(h->priv, PRIV_S);
	assert_int_equal(h->pc, RAM_BASE + 0x200);
	assert_false(h->mstatus & MSTATUS_SPP);
	assert_false(h->mstatus & MSTATUS_SIE);
	assert_true(h->mstatus & MSTATUS_SPIE);
	/* delegation never takes a trap from M down to S */
	h->medeleg = 1ull << EXC_BREAKPOINT;
	exec1(h, m, 0x00100073, PRIV_M);
	assert_int_equal(h->mcause, EXC_BREAKPOINT);
	assert_int_equal(h->mtval, RAM_BASE);
	exec1(h, m, 0x00100073, PRIV_S);
	assert_int_equal(h->scause, EXC_BREAKPOINT);
	assert_true(h->mstatus & MSTATUS_SPP);
	exec1(h, m, 0x00000073, PRIV_S);
	assert_int_equal(h->mcause, EXC_ECALL_S);
	exec1(h, m, 0x00000073, PRIV_M);
	assert_int_equal(h->mcause, EXC_ECALL_M);
	/* MRET to S */
	h->priv = PRIV_M;
	h->mepc = RAM_BASE + 0x300;
	h->mstatus = (h->mstatus & ~MSTATUS_MPP) | (1ull << MSTATUS_MPP_SHIFT) | MSTATUS_MPIE |
		     MSTATUS_MPRV;
	exec1(h, m, 0x30200073, PRIV_M);
	assert_int_equal(h->priv, PRIV_S);
	assert_int_equal(h->pc, RAM_BASE + 0x300);
	assert_true(h->mstatus & MSTATUS_MIE);
	assert_false(h->mstatus & MSTATUS_MPRV);
	assert_int_equal(h->mstatus & MSTATUS_MPP, 0);
	/* MRET from S is illegal; SRET under TSR is illegal; WFI in U/with TW */
	exec1(h, m, 0x30200073, PRIV_S);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	h->mstatus |= MSTATUS_TSR;
	exec1(h, m, 0x10200073, PRIV_S);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	h->mstatus &= ~MSTATUS_TSR;
	exec1(h, m, 0x10500073, PRIV_U);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	h->mstatus |= MSTATUS_TW;
	exec1(h, m, 0x10500073, PRIV_S);
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	h->mstatus &= ~MSTATUS_TW;
	/* SRET to U */
	h->sepc = RAM_BASE + 0x400;
	h->mstatus &= ~MSTATUS_SPP;
	h->mstatus |= MSTATUS_SPIE;
	exec1(h, m, 0x10200073, PRIV_S);
	assert_int_equal(h->priv, PRIV_U);
	assert_int_equal(h->pc, RAM_BASE + 0x400);
	assert_true(h->mstatus & MSTATUS_SIE);
	/* fetch outside RAM: instruction access fault */
	h->priv = PRIV_M;
	h->pc = 0x1000;
	step1(h);
	assert_int_equal(h->mcause, EXC_INSN_ACCESS);
	assert_int_equal(h->mtval, 0x1000);
	mock_free(m);
}

static void test_sbi_builtin(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	m->sh.sbi_builtin = true;
	hart_enter_supervisor(h, RAM_BASE, 0x1234);
	assert_int_equal(h->priv, PRIV_S);
	assert_int_equal(h->x[11], 0x1234);
	h->x[17] = 0x10;
	ram_wr32(m, RAM_BASE, 0x00000073);
	step1(h);
	assert_int_equal(m->sbi_calls, 1);
	assert_int_equal(h->x[11], 0x11);
	assert_int_equal(h->pc, RAM_BASE + 4);
	/* the SBI timer raises STIP, a new mtimecmp clears it */
	hart_set_mtimecmp(h, 0);
	assert_true(atomic_load(&h->mip) & MIP_STIP);
	hart_set_mtimecmp(h, ~0ull);
	assert_false(atomic_load(&h->mip) & MIP_STIP);
	/* page faults are delegated to the kernel */
	h->pc = 0x1000;
	step1(h);
	assert_int_equal(h->scause, EXC_INSN_ACCESS);
	assert_int_equal(m->fatal_calls, 0);
	mock_free(m);
}

#define PTE_V 1ull
#define PTE_R 2ull
#define PTE_W 4ull
#define PTE_X 8ull
#define PTE_U 16ull
#define PTE_A 64ull
#define PTE_D 128ull
#define PTE(pa, flags) ((((pa) >> 12) << 10) | (flags))

static void test_paging(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	uint64_t root = RAM_BASE + 0x1000, l1 = RAM_BASE + 0x2000, l0 = RAM_BASE + 0x3000;
	ram_wr64(m, root + 2 * 8, PTE(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D));
	ram_wr64(m, root + 1 * 8, PTE(l1, PTE_V));
	ram_wr64(m, l1 + 0 * 8, PTE(l0, PTE_V));
	ram_wr64(m, l0 + 0 * 8, PTE(RAM_BASE + 0x8000, PTE_V | PTE_R | PTE_W));
	LOAD_PROG(m, prog_paging);
	h->satp = (8ull << 60) | (root >> 12);
	h->priv = PRIV_S;
	hart_update_dpriv(h);
	h->medeleg = 1ull << EXC_LOAD_PAGE_FAULT;
	h->stvec = RAM_BASE + 0x1c;
	run_until_stuck(h, 100);
	assert_int_equal(h->x[3], 77);
	assert_int_equal(ram_rd64(m, RAM_BASE + 0x8008), 77);
	assert_int_equal(ram_rd64(m, l0) & (PTE_A | PTE_D), PTE_A | PTE_D);
	assert_int_equal(h->scause, EXC_LOAD_PAGE_FAULT);
	assert_int_equal(h->stval, 0x40001000);
	assert_int_equal(h->sepc, RAM_BASE + 0x14);
	assert_int_equal(h->pc, RAM_BASE + 0x1c);

	uint64_t gpa;
	/* a read sets A only */
	ram_wr64(m, l0 + 5 * 8, PTE(RAM_BASE + 0x9000, PTE_V | PTE_R | PTE_W));
	assert_int_equal(mmu_translate(h, 0x40005010, ACC_R, PRIV_S, &gpa), 0);
	assert_int_equal(gpa, RAM_BASE + 0x9010);
	assert_int_equal(ram_rd64(m, l0 + 5 * 8) & (PTE_A | PTE_D), PTE_A);
	/* U pages from S need SUM, and are never executable from S */
	ram_wr64(m, l0 + 2 * 8, PTE(RAM_BASE + 0x8000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U));
	assert_int_equal(mmu_translate(h, 0x40002000, ACC_R, PRIV_S, &gpa), EXC_LOAD_PAGE_FAULT);
	assert_int_equal(mmu_translate(h, 0x40002000, ACC_R, PRIV_U, &gpa), 0);
	h->mstatus |= MSTATUS_SUM;
	assert_int_equal(mmu_translate(h, 0x40002000, ACC_W, PRIV_S, &gpa), 0);
	assert_int_equal(mmu_translate(h, 0x40002000, ACC_X, PRIV_S, &gpa), EXC_INSN_PAGE_FAULT);
	/* S pages are not accessible from U */
	assert_int_equal(mmu_translate(h, 0x40000000, ACC_R, PRIV_U, &gpa), EXC_LOAD_PAGE_FAULT);
	/* execute-only page: readable with MXR */
	ram_wr64(m, l0 + 3 * 8, PTE(RAM_BASE + 0x8000, PTE_V | PTE_X));
	assert_int_equal(mmu_translate(h, 0x40003000, ACC_R, PRIV_S, &gpa), EXC_LOAD_PAGE_FAULT);
	h->mstatus |= MSTATUS_MXR;
	assert_int_equal(mmu_translate(h, 0x40003000, ACC_R, PRIV_S, &gpa), 0);
	/* read-only page: store page fault */
	ram_wr64(m, l0 + 4 * 8, PTE(RAM_BASE + 0x8000, PTE_V | PTE_R));
	assert_int_equal(mmu_translate(h, 0x40004000, ACC_W, PRIV_S, &gpa), EXC_STORE_PAGE_FAULT);
	/* W without R is reserved */
	ram_wr64(m, l0 + 6 * 8, PTE(RAM_BASE + 0x8000, PTE_V | PTE_W));
	assert_int_equal(mmu_translate(h, 0x40006000, ACC_R, PRIV_S, &gpa), EXC_LOAD_PAGE_FAULT);
	/* megapage: aligned works, misaligned faults */
	ram_wr64(m, l1 + 1 * 8, PTE(RAM_BASE + 0x200000 * 0, PTE_V | PTE_R | PTE_A));
	assert_int_equal(mmu_translate(h, 0x40212345, ACC_R, PRIV_S, &gpa), 0);
	assert_int_equal(gpa, RAM_BASE + 0x12345);
	ram_wr64(m, l1 + 2 * 8, PTE(RAM_BASE + 0x1000, PTE_V | PTE_R | PTE_A));
	assert_int_equal(mmu_translate(h, 0x40400000, ACC_R, PRIV_S, &gpa), EXC_LOAD_PAGE_FAULT);
	/* non-canonical address */
	assert_int_equal(mmu_translate(h, 0x0000008000000000ull, ACC_R, PRIV_S, &gpa), EXC_LOAD_PAGE_FAULT);
	/* page table outside RAM: access fault */
	ram_wr64(m, l1 + 3 * 8, PTE(0x20000000ull, PTE_V));
	assert_int_equal(mmu_translate(h, 0x40600000, ACC_W, PRIV_S, &gpa), EXC_STORE_ACCESS);
	/* Sv48: one more level above the same tables */
	uint64_t root48 = RAM_BASE + 0x5000;
	ram_wr64(m, root48, PTE(root, PTE_V));
	h->satp = (9ull << 60) | (root48 >> 12);
	assert_int_equal(mmu_translate(h, 0x40000008, ACC_R, PRIV_S, &gpa), 0);
	assert_int_equal(gpa, RAM_BASE + 0x8008);
	assert_int_equal(mmu_translate(h, 0x0000800000000000ull, ACC_R, PRIV_S, &gpa), EXC_LOAD_PAGE_FAULT);
	/* MPRV: M-mode loads translated as MPP=S */
	h->satp = (8ull << 60) | (root >> 12);
	mmu_flush_all(h);
	ram_wr64(m, RAM_BASE + 0x8010, 0x5566);
	/* ld x7, 16(x1) with x1 = 0x40000000 */
	h->x[1] = 0x40000000;
	h->mstatus |= MSTATUS_MPRV | (1ull << MSTATUS_MPP_SHIFT);
	exec1(h, m, 0x0100b383, PRIV_M);
	assert_int_equal(h->x[7], 0x5566);
	/* after a PTE change and SFENCE.VMA the new mapping is used */
	ram_wr64(m, l0, PTE(RAM_BASE + 0x9000, PTE_V | PTE_R | PTE_W | PTE_A));
	ram_wr64(m, RAM_BASE + 0x9010, 0x7788);
	exec1(h, m, 0x12000073, PRIV_M); /* sfence.vma x0, x0 */
	exec1(h, m, 0x0100b383, PRIV_M);
	assert_int_equal(h->x[7], 0x7788);
	mock_free(m);
}

static void test_atomics(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_amo);
	run_until_stuck(h, 1000);
	uint64_t *x = h->x;
	assert_int_equal(x[4], 10);
	assert_int_equal(x[5], 15);
	assert_int_equal(x[7], 0);
	assert_int_equal(x[8], ~0ull);
	assert_int_equal(x[9], ~0ull);
	assert_int_equal(x[10], ~0ull);
	assert_int_equal(x[11], 15);
	assert_int_equal(x[12], ~0ull);
	assert_int_equal(x[14], ~0ull);
	assert_int_equal(x[15], ~0ull);
	assert_int_equal(x[16], 3);
	assert_int_equal(x[17], 3);
	assert_int_equal(x[18], ~0ull);
	assert_int_equal(x[20], 0);  /* sc after lr succeeds */
	assert_int_equal(x[21], 12);
	assert_int_equal(x[22], 1);  /* sc without reservation fails */
	assert_int_equal(x[23], (uint64_t)-11);
	assert_int_equal(x[24], 1);  /* the word changed since lr */
	assert_int_equal(x[25], 0);
	/* AMO to MMIO: store/AMO access fault; misaligned AMO: misaligned fault */
	h->mtvec = RAM_BASE + 0x100;
	h->x[1] = DEV_GPA + 8;
	h->x[2] = 1;
	exec1(h, m, 0x0020b1af, PRIV_M); /* amoadd.d x3, x2, (x1) */
	assert_int_equal(h->mcause, EXC_STORE_ACCESS);
	assert_int_equal(h->mtval, DEV_GPA + 8);
	h->x[1] = DATA_GPA + 4;
	exec1(h, m, 0x0020b1af, PRIV_M);
	assert_int_equal(h->mcause, EXC_STORE_MISALIGNED);
	/* a trap clears the reservation */
	h->x[1] = DATA_GPA;
	exec1(h, m, 0x1000b1af, PRIV_M); /* lr.d x3, (x1) */
	assert_true(h->lr_valid);
	exec1(h, m, 0x00000073, PRIV_M);
	assert_false(h->lr_valid);
	mock_free(m);
}

static void test_misaligned_mmio(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_misal);
	h->mtvec = RAM_BASE + 0x5c;
	run_until_stuck(h, 100);
	uint64_t *x = h->x;
	assert_int_equal(x[3], 0x1122334455667788ull);
	assert_int_equal(x[4], 0x77880000);
	assert_int_equal(x[8], 0x55667788);
	assert_int_equal(m->scratch, 0x55667788);
	assert_int_equal(m->last_size, 4);
	assert_int_equal(x[9], 0x55667788);
	assert_int_equal(h->mcause, EXC_LOAD_ACCESS);
	assert_int_equal(h->mtval, 0x100);
	assert_int_equal(h->mepc, RAM_BASE + 0x58);
	mock_free(m);
}

static void test_fp_loads_stores(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_fp);
	run_until_stuck(h, 100);
	uint64_t *x = h->x;
	assert_int_equal(h->fp.f[1], 0xffffffff3f800000ull); /* NaN-boxed */
	assert_int_equal(x[3], 0x40000000);
	assert_int_equal(x[4], 0xffffffff3f800000ull);
	assert_int_equal(x[6], (uint64_t)-3);
	assert_int_equal(x[7], 0);
	assert_int_equal(x[8], FFLAG_DZ);
	assert_true(h->mstatus & MSTATUS_SD);
	/* FS = Off: FP loads and computations are illegal */
	h->mstatus &= ~MSTATUS_FS;
	h->mtvec = RAM_BASE + 0x100;
	exec1(h, m, 0x0000a087, PRIV_M); /* flw f1, 0(x1) */
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	exec1(h, m, 0x00108153, PRIV_M); /* fadd.s f2, f1, f1 */
	assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
	mock_free(m);
}

/* --- threaded: hart_run, interrupts, WFI, SMP --- */

static void *hart_thread(void *arg)
{
	hart_run(arg);
	return NULL;
}

/* Runs every hart on its own thread until the program's "done" writes stop
 * the machine; fails after timeout_s. */
static void run_harts(struct mock *m, int timeout_s, pthread_t *tids)
{
	pthread_t local[MAX_HARTS];
	if (!tids)
		tids = local;
	for (unsigned i = 0; i < m->sh.nr_harts; i++)
		assert_int_equal(pthread_create(&tids[i], NULL, hart_thread, m->harts[i]), 0);
	if (tids != local)
		return;
	bool timed_out = false;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_s;
	for (unsigned i = 0; i < m->sh.nr_harts; i++) {
		if (pthread_timedjoin_np(tids[i], NULL, &ts) != 0) {
			timed_out = true;
			atomic_store(&m->sh.stop, true);
			for (unsigned j = 0; j < m->sh.nr_harts; j++)
				hart_kick(m->harts[j]);
			pthread_join(tids[i], NULL);
		}
	}
	assert_false(timed_out);
}

static void test_timer_interrupt(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_irq);
	hart_set_mtimecmp(h, cpu_mtime(&m->sh) + 100000); /* 10 ms */
	int64_t t0 = mono_ns();
	run_harts(m, 10, NULL);
	int64_t dt = mono_ns() - t0;
	assert_int_equal(h->x[3], (1ull << 63) | IRQ_M_TIMER);
	assert_true(dt >= 9000000);
	assert_int_equal(h->mepc, RAM_BASE + 0x1c);
	assert_true(h->mstatus & MSTATUS_MPIE);
	assert_false(h->mstatus & MSTATUS_MIE);
	mock_free(m);
}

static void test_interrupt_priority(void **state)
{
	static const struct {
		uint64_t pending;
		unsigned cause;
	} cases[] = {
		{ MIP_MSIP | MIP_MTIP | MIP_MEIP, IRQ_M_EXT },
		{ MIP_MSIP | MIP_MTIP, IRQ_M_SOFT },
		{ MIP_MTIP | MIP_SEIP, IRQ_M_TIMER },
		{ MIP_SEIP | MIP_SSIP | MIP_STIP, IRQ_S_EXT },
		{ MIP_SSIP | MIP_STIP, IRQ_S_SOFT },
		{ MIP_STIP, IRQ_S_TIMER },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mock *m = mock_new(1);
		struct hart *h = m->harts[0];
		LOAD_PROG(m, prog_irq);
		/* make the program enable the S interrupts too: li x2, 0xaaa */
		uint32_t addiw = 0x0001011b | ((uint32_t)(0xaaa - 0x1000) << 20);
		ram_wr32(m, RAM_BASE + 0x10, addiw);
		/* MTIP follows mtimecmp; the others are plain pending bits */
		atomic_store(&h->mip, cases[i].pending & ~MIP_MTIP);
		if (cases[i].pending & MIP_MTIP)
			hart_set_mtimecmp(h, 0);
		run_harts(m, 10, NULL);
		assert_int_equal(h->x[3], (1ull << 63) | cases[i].cause);
		mock_free(m);
	}
}

static void test_interrupt_delegation(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	/* S-mode spinning with SIE = 0: a delegated interrupt waits; an M one
	 * is taken regardless of MIE because the hart is below M. */
	ram_wr32(m, RAM_BASE, 0x0000006f); /* jal x0, 0 */
	ram_wr32(m, RAM_BASE + 0x100 + 4 * IRQ_S_SOFT, 0x0000006f);
	ram_wr32(m, RAM_BASE + 0x200, 0x0000006f);
	h->priv = PRIV_S;
	hart_update_dpriv(h);
	h->pc = RAM_BASE;
	h->mideleg = MIP_SSIP;
	h->mie = MIP_SSIP | MIP_MSIP;
	h->stvec = (RAM_BASE + 0x100) | 1; /* vectored */
	h->mtvec = RAM_BASE + 0x200;
	pthread_t tid;
	run_harts(m, 10, &tid);
	hart_set_irq(h, MIP_SSIP, true);
	usleep(20000);
	/* reading another thread's hart state is a data race in theory; the
	 * values are only checked after they stop changing */
	hart_set_irq(h, MIP_MSIP, true);
	usleep(20000);
	atomic_store(&m->sh.stop, true);
	hart_kick(h);
	pthread_join(tid, NULL);
	assert_int_equal(h->mcause, (1ull << 63) | IRQ_M_SOFT);
	assert_int_equal(h->mepc, RAM_BASE);
	assert_int_equal(h->scause, 0);
	/* now S with SIE: the delegated one goes to the vector */
	hart_set_irq(h, MIP_MSIP, false);
	h->priv = PRIV_S;
	hart_update_dpriv(h);
	h->pc = RAM_BASE;
	h->mstatus |= MSTATUS_SIE;
	atomic_store(&m->sh.stop, false);
	run_harts(m, 10, &tid);
	usleep(20000);
	atomic_store(&m->sh.stop, true);
	hart_kick(h);
	pthread_join(tid, NULL);
	assert_int_equal(h->scause, (1ull << 63) | IRQ_S_SOFT);
	assert_int_equal(h->pc, RAM_BASE + 0x100 + 4 * IRQ_S_SOFT);
	mock_free(m);
}

static void test_wfi_wakeup(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	LOAD_PROG(m, prog_wfi);
	pthread_t tid;
	run_harts(m, 10, &tid);
	usleep(20000); /* let it reach WFI */
	clockid_t cid;
	assert_int_equal(pthread_getcpuclockid(tid, &cid), 0);
	struct timespec c0, c1;
	clock_gettime(cid, &c0);
	usleep(200000);
	clock_gettime(cid, &c1);
	int64_t cpu_ns = (c1.tv_sec - c0.tv_sec) * 1000000000ll + (c1.tv_nsec - c0.tv_nsec);
	print_message("hart thread CPU while in WFI: %.2f%%\n", cpu_ns / 2000000.0);
	assert_true(cpu_ns < 20000000); /* < 10% of the 200 ms */
	assert_int_equal(h->x[2], 0);
	/* interrupts globally disabled (MIE = 0), yet WFI resumes */
	hart_set_irq(h, MIP_MEIP, true);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	int r = pthread_timedjoin_np(tid, NULL, &ts);
	if (r) {
		atomic_store(&m->sh.stop, true);
		hart_kick(h);
		pthread_join(tid, NULL);
	}
	assert_int_equal(r, 0);
	assert_int_equal(h->x[2], 1);
	assert_int_equal(h->mcause, 0); /* no trap taken */
	mock_free(m);
}

/* wfi; addi x2, x0, 1; sd x0, 0(x6); jal x0, 0 */
static void load_wfi_done(struct mock *m, struct hart *h)
{
	ram_wr32(m, RAM_BASE, 0x10500073);
	ram_wr32(m, RAM_BASE + 4, 0x00100113);
	ram_wr32(m, RAM_BASE + 8, 0x00033023);
	ram_wr32(m, RAM_BASE + 12, 0x0000006f);
	h->x[6] = DEV_GPA;
}

static int64_t thread_cpu_ns(pthread_t tid)
{
	clockid_t cid;
	struct timespec ts;
	assert_int_equal(pthread_getcpuclockid(tid, &cid), 0);
	clock_gettime(cid, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void test_wfi_timer(void **state)
{
	/* the timer wakes WFI at its deadline, without spinning before */
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	load_wfi_done(m, h);
	h->mie = MIP_MTIP;
	hart_set_mtimecmp(h, cpu_mtime(&m->sh) + 1000000); /* 100 ms */
	int64_t t0 = mono_ns();
	pthread_t tid;
	run_harts(m, 10, &tid);
	usleep(50000);
	int64_t c0 = thread_cpu_ns(tid);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	int r = pthread_timedjoin_np(tid, NULL, &ts);
	if (r) {
		atomic_store(&m->sh.stop, true);
		hart_kick(h);
		pthread_join(tid, NULL);
	}
	assert_int_equal(r, 0);
	assert_true(mono_ns() - t0 >= 95000000);
	assert_int_equal(h->x[2], 1);
	mock_free(m);

	/* a compare value in the past whose interrupt is disabled does not
	 * make WFI spin */
	m = mock_new(1);
	h = m->harts[0];
	load_wfi_done(m, h);
	h->mie = MIP_MEIP;
	hart_set_mtimecmp(h, 0);
	run_harts(m, 10, &tid);
	usleep(20000);
	c0 = thread_cpu_ns(tid);
	usleep(100000);
	int64_t used = thread_cpu_ns(tid) - c0;
	hart_set_irq(h, MIP_MEIP, true);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	r = pthread_timedjoin_np(tid, NULL, &ts);
	if (r) {
		atomic_store(&m->sh.stop, true);
		hart_kick(h);
		pthread_join(tid, NULL);
	}
	assert_int_equal(r, 0);
	assert_true(used < 20000000);
	assert_int_equal(h->x[2], 1);
	mock_free(m);
}

static void test_smp_atomics(void **state)
{
	enum { N = 3 };
	struct mock *m = mock_new(N);
	LOAD_PROG(m, prog_smp);
	run_harts(m, 60, NULL);
	uint32_t c32;
	memcpy(&c32, m->sh.ram_hva + (DATA_GPA - RAM_BASE), 4);
	assert_int_equal(c32, 20000 * N);
	assert_int_equal(ram_rd64(m, DATA_GPA + 8), 20000 * N);
	mock_free(m);
}

static void test_hsm(void **state)
{
	struct mock *m = mock_new(2);
	m->sh.sbi_builtin = true;
	struct hart *h1 = m->harts[1];
	/* a freshly created hart is STOPPED until hart_start */
	struct hart *h2 = hart_create(&m->sh, 7);
	assert_int_equal(hart_get_state(h2), HART_STOPPED);
	assert_int_equal(hart_start(h2, RAM_BASE + 0x40, 99), 0);
	assert_int_equal(hart_start(h2, RAM_BASE + 0x40, 99), -1);
	/* hart 1 runs the "done" store; hart 0 is stopped and never runs */
	atomic_store(&m->harts[0]->hsm_state, HART_STOPPED);
	ram_wr32(m, RAM_BASE + 0x40, 0x10000337); /* lui x6, 0x10000 */
	ram_wr32(m, RAM_BASE + 0x44, 0x00033023); /* sd x0, 0(x6) */
	ram_wr32(m, RAM_BASE + 0x48, 0x00033023); /* sd x0, 0(x6) */
	ram_wr32(m, RAM_BASE + 0x4c, 0x0000006f); /* jal x0, 0 */
	atomic_store(&h1->hsm_state, HART_STOPPED);
	assert_int_equal(hart_start(h1, RAM_BASE + 0x40, 5), 0);
	hart_destroy(h2);
	run_harts(m, 10, NULL);
	assert_int_equal(h1->priv, PRIV_S);
	assert_int_equal(h1->x[10], 1);
	assert_int_equal(h1->x[11], 5);
	assert_int_equal(m->harts[0]->instret, 0);
	mock_free(m);
}

/* The decoded-instruction cache (icache.c): a page the hart executed is
 * write-watched (its bit set, no fast write entry in any TLB set), and what
 * the hart decoded follows RAM: a host write reported with
 * cpu_note_ram_write, and the hart's own store over an instruction it
 * decoded, inside one execution slice. */
static void test_icache_invalidation(void **state)
{
	struct mock *m = mock_new(1);
	struct hart *h = m->harts[0];
	ram_wr32(m, RAM_BASE + 0, 0x00100513); /* addi a0, x0, 1 */
	ram_wr32(m, RAM_BASE + 4, 0x0000006f); /* jal x0, 0 */
	run_until_stuck(h, 10);
	assert_int_equal(h->x[10], 1);
	assert_int_equal(m->sh.code_pages[0], h->code_bit);
	for (unsigned pr = 0; pr < 4; pr++)
		for (unsigned i = 0; i < TLB_SIZE; i++)
			assert_true(h->tlb[pr][i].tag_w == TLB_INVALID ||
				    h->tlb[pr][i].tag_w + h->tlb[pr][i].addend != (uintptr_t)m->sh.ram_hva);

	/* a device-style write: the bit drops, the hart re-decodes */
	ram_wr32(m, RAM_BASE + 0, 0x00200513); /* addi a0, x0, 2 */
	assert_int_equal(m->sh.code_pages[0], 0);
	h->pc = RAM_BASE;
	run_until_stuck(h, 10);
	assert_int_equal(h->x[10], 2);

	/* the hart's own store over a decoded instruction ahead of it, in one
	 * slice: auipc a2, 0; sw a1, 16(a2); addi a0, x0, 1; nop;
	 * addi a0, x0, 3 (replaced by a1 = addi a0, x0, 5); jal x0, 0 */
	static const uint32_t prog[] = { 0x00000617, 0x00b62823, 0x00100513, 0x00000013,
					 0x00300513, 0x0000006f };
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < ARRAY_SIZE(prog); i++)
			ram_wr32(m, RAM_BASE + 4 * i, prog[i]);
		h->pc = RAM_BASE;
		h->x[11] = 0x00300513; /* first round: the same instruction */
		h->brk = false;
		hart_exec_slice(h, 100);
		assert_int_equal(h->x[10], 3);
		/* everything decoded now; the store changes it */
		h->pc = RAM_BASE;
		h->x[11] = 0x00500513 + round * 0x100000; /* addi a0, x0, 5 (6) */
		h->brk = false;
		hart_exec_slice(h, 100);
		assert_int_equal(h->x[10], 5 + round);
		assert_int_equal(h->pc, RAM_BASE + 20);
	}

	/* fence.i executes (and ends the slice) */
	ram_wr32(m, RAM_BASE + 0, 0x0000100f); /* fence.i */
	ram_wr32(m, RAM_BASE + 4, 0x0000006f);
	h->pc = RAM_BASE;
	run_until_stuck(h, 10);
	assert_int_equal(h->pc, RAM_BASE + 4);
	mock_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integer),
		cmocka_unit_test(test_muldiv),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_csr_rules),
		cmocka_unit_test(test_traps),
		cmocka_unit_test(test_sbi_builtin),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_atomics),
		cmocka_unit_test(test_misaligned_mmio),
		cmocka_unit_test(test_fp_loads_stores),
		cmocka_unit_test(test_timer_interrupt),
		cmocka_unit_test(test_interrupt_priority),
		cmocka_unit_test(test_interrupt_delegation),
		cmocka_unit_test(test_wfi_wakeup),
		cmocka_unit_test(test_wfi_timer),
		cmocka_unit_test(test_smp_atomics),
		cmocka_unit_test(test_hsm),
		cmocka_unit_test(test_icache_invalidation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
