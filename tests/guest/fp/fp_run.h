/* Guest-side runner of the F/D test vectors (fpu_vectors.h) for the
 * bare-metal programs of tests/guest/ (needs rt.h, mstatus.FS != Off and
 * M-mode, so that RAM is writable and executable).
 *
 * Each vector's instruction is patched into a small stub in RAM (followed by
 * fence.i) that loads f11..f13/x11 and the f14/x14 sentinels, executes it and
 * stores f14/x14; frm is set and fflags cleared before, fflags read after.
 * Usage from a test program: `CHECK_EQ(fp_run_vectors(), 0);`. */
#ifndef VESSEL_GUEST_FP_RUN_H
#define VESSEL_GUEST_FP_RUN_H

#include <stdint.h>

#include "fp/fpu_vectors.h"
#include "rt.h"

struct fp_io {
	uint64_t f11, f12, f13, x11, x14_in, f14_in, f14_out, x14_out;
};

/* I-type load (opcode 0x07 FLD / 0x03 LD) and S-type store (0x27 FSD / 0x23
 * SD), 64-bit (funct3 = 3), base register a0 (x10). */
static inline uint32_t fp_enc_load(uint32_t opcode, uint32_t rd, uint32_t off)
{
	return (off << 20) | (10u << 15) | (3u << 12) | (rd << 7) | opcode;
}

static inline uint32_t fp_enc_store(uint32_t opcode, uint32_t rs2, uint32_t off)
{
	return ((off >> 5) << 25) | (rs2 << 20) | (10u << 15) | (3u << 12) | ((off & 31) << 7) | opcode;
}

static uint32_t fp_stub[12] __attribute__((aligned(8)));

static int fp_run_table(const struct vec *tab, unsigned long n, const char *name)
{
	int bad = 0;
	for (unsigned long i = 0; i < n; i++) {
		const struct vec *v = &tab[i];
		struct fp_io io = {v->f11, v->f12, v->f13, v->x11, XS, FS, 0, 0};
		unsigned k = 0;
		unsigned long fl;
		fp_stub[k++] = fp_enc_load(0x07, 11, 0);
		fp_stub[k++] = fp_enc_load(0x07, 12, 8);
		fp_stub[k++] = fp_enc_load(0x07, 13, 16);
		fp_stub[k++] = fp_enc_load(0x03, 11, 24);
		fp_stub[k++] = fp_enc_load(0x03, 14, 32);
		fp_stub[k++] = fp_enc_load(0x07, 14, 40);
		fp_stub[k++] = v->insn;
		fp_stub[k++] = fp_enc_store(0x27, 14, 48);
		fp_stub[k++] = fp_enc_store(0x23, 14, 56);
		fp_stub[k++] = 0x00008067u; /* ret */
		__asm__ volatile("fence.i" ::: "memory");
		__asm__ volatile("csrw frm, %0\n\tcsrw fflags, zero" ::"r"((unsigned long)v->frm));
		((void (*)(struct fp_io *))(uintptr_t)fp_stub)(&io);
		__asm__ volatile("csrr %0, fflags" : "=r"(fl)::"memory");
		if (io.f14_out != v->f14 || io.x14_out != v->x14 || fl != v->flags) {
			rt_puts(name);
			rt_puts("[");
			rt_putdec((int64_t)i);
			rt_puts("] insn ");
			rt_puthex(v->insn);
			rt_puts(": got f14 ");
			rt_puthex(io.f14_out);
			rt_puts(" x14 ");
			rt_puthex(io.x14_out);
			rt_puts(" fflags ");
			rt_puthex(fl);
			rt_puts(", want ");
			rt_puthex(v->f14);
			rt_puts(" ");
			rt_puthex(v->x14);
			rt_puts(" ");
			rt_puthex(v->flags);
			rt_puts("\n");
			bad++;
		}
	}
	__asm__ volatile("csrw fcsr, zero");
	return bad;
}

/* Runs every vector; prints each mismatch and returns their number. */
static inline int fp_run_vectors(void)
{
	int bad = fp_run_table(hand, sizeof(hand) / sizeof(hand[0]), "fp hand");
	bad += fp_run_table(ref_vectors, sizeof(ref_vectors) / sizeof(ref_vectors[0]), "fp ref");
	return bad;
}

#endif
