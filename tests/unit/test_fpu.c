/* Unit tests of the F/D instructions (src/vm/cpu/fpu.c).
 *
 * The vectors (tests/guest/fp/fpu_vectors.h) state the spec's corner cases
 * by hand and add reference results of QEMU's softfloat-based RISC-V FPU;
 * the hand-written expectations were checked against QEMU as well
 * (tests/guest/fp/: fpvec replays them under qemu-riscv64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vm/cpu/fpu.h"

#include "../guest/fp/fpu_vectors.h"

static int run_vec(const struct vec *v, struct fpu_state *fs, uint64_t *x)
{
	memset(fs, 0, sizeof(*fs));
	memset(x, 0, 32 * sizeof(*x));
	fs->f[11] = v->f11;
	fs->f[12] = v->f12;
	fs->f[13] = v->f13;
	fs->f[14] = FS;
	x[11] = v->x11;
	x[14] = XS;
	fs->frm = v->frm;
	return fpu_exec(fs, x, v->insn);
}

static int check_table(const struct vec *tab, size_t n, const char *name)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct fpu_state fs;
		uint64_t x[32];
		const struct vec *v = &tab[i];
		int rc = run_vec(v, &fs, x);
		if (rc != 0 || fs.f[14] != v->f14 || x[14] != v->x14 || fs.fflags != v->flags) {
			print_error("%s[%zu] insn %08x f11 %016llx f12 %016llx f13 %016llx x11 %016llx "
				    "frm %u: got rc %d f14 %016llx x14 %016llx flags %02x, want f14 "
				    "%016llx x14 %016llx flags %02x\n",
				    name, i, v->insn, (unsigned long long)v->f11, (unsigned long long)v->f12,
				    (unsigned long long)v->f13, (unsigned long long)v->x11, v->frm, rc,
				    (unsigned long long)fs.f[14], (unsigned long long)x[14], fs.fflags,
				    (unsigned long long)v->f14, (unsigned long long)v->x14, v->flags);
			bad++;
		}
	}
	return bad;
}

static void test_corner_cases(void **state)
{
	(void)state;
	assert_int_equal(check_table(hand, sizeof(hand) / sizeof(hand[0]), "hand"), 0);
}

static void test_reference_vectors(void **state)
{
	(void)state;
	assert_true(sizeof(ref_vectors) / sizeof(ref_vectors[0]) > 100);
	assert_int_equal(check_table(ref_vectors, sizeof(ref_vectors) / sizeof(ref_vectors[0]), "ref"), 0);
}

/* Reserved rounding modes make the instruction illegal, and an illegal
 * instruction changes nothing. */
static void test_illegal(void **state)
{
	(void)state;
	static const struct {
		uint32_t insn;
		uint8_t frm;
	} bad[] = {
	    {FADD(DP, 5), 0},
	    {FADD(SP, 6), 0},
	    {FMADD(DP, 5), 0},
	    {FSQRT(SP, 6), 0},
	    {FCVT_I(DP, W, 5), 0},
	    {FCVT_F(DP, L, 6), 0},
	    {FCVT_D_S(5), 0},
	    {FADD(DP, DYN), 5},
	    {FMUL(SP, DYN), 6},
	    {FCVT_I(SP, W, DYN), 7},
	    {FNMADD(SP, DYN), 7},
	    {BIN(0x00, 2u, RNE), 0}, /* fmt H */
	    {BIN(0x00, 3u, RNE), 0}, /* fmt Q */
	    {R4(0x43u, 3u, RNE), 0}, /* FMADD.Q */
	    {FSGNJ(DP) | (3u << 12), 0},
	    {FMIN(SP) | (2u << 12), 0},
	    {FEQ(DP) | (3u << 12), 0},
	    {OPFP(0x0b, DP, 1u, RNE), 0}, /* FSQRT with rs2 != 0 */
	    {OPFP(0x08, SP, 0u, RNE), 0}, /* FCVT.S.S */
	    {OPFP(0x08, DP, 1u, RNE), 0}, /* FCVT.D.D */
	    {OPFP(0x18, DP, 4u, RNE), 0}, /* FCVT with rs2 = 4 */
	    {OPFP(0x1c, DP, 0u, 2u), 0},
	    {OPFP(0x1c, SP, 1u, 0u), 0},
	    {OPFP(0x1e, SP, 0u, 1u), 0},
	    {OPFP(0x1f, DP, 0u, 0u), 0},
	    {0x00000013u, 0}, /* addi: not an FP opcode */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fpu_state fs, before;
		uint64_t x[32], xb[32];
		memset(&fs, 0, sizeof(fs));
		for (int r = 0; r < 32; r++) {
			fs.f[r] = 0x3ff0000000000000ull + (uint64_t)r;
			x[r] = (uint64_t)r * 3;
		}
		x[0] = 0;
		fs.frm = bad[i].frm;
		fs.fflags = 0x04;
		before = fs;
		memcpy(xb, x, sizeof(x));
		if (fpu_exec(&fs, x, bad[i].insn) != -1)
			fail_msg("insn %08x (#%zu) should be illegal", bad[i].insn, i);
		assert_memory_equal(&fs, &before, sizeof(fs));
		assert_memory_equal(x, xb, sizeof(x));
	}
}

/* fflags accrue (OR) and are never cleared; x0 is never written. */
static void test_flags_accrue_and_x0(void **state)
{
	(void)state;
	struct fpu_state fs;
	uint64_t x[32];
	memset(&fs, 0, sizeof(fs));
	memset(x, 0, sizeof(x));
	fs.f[1] = D_ONE;
	fs.f[2] = 0;
	fs.fflags = FFLAG_NX;
	/* fdiv.d f3, f1, f2: DZ */
	assert_int_equal(
	    fpu_exec(&fs, x, (0x03u << 27) | (1u << 25) | (2u << 20) | (1u << 15) | (3u << 7) | 0x53u), 0);
	assert_int_equal(fs.fflags, FFLAG_NX | FFLAG_DZ);
	assert_int_equal(fs.f[3], D_INF);
	/* an exact operation leaves the flags alone */
	assert_int_equal(
	    fpu_exec(&fs, x, (0x00u << 27) | (1u << 25) | (1u << 20) | (1u << 15) | (4u << 7) | 0x53u), 0);
	assert_int_equal(fs.fflags, FFLAG_NX | FFLAG_DZ);
	assert_int_equal(fs.f[4], D_TWO);
	/* flt.d x0, f5(qNaN), f1: NV raised, x0 stays 0 */
	fs.f[5] = D_QNAN;
	assert_int_equal(
	    fpu_exec(&fs, x, (0x14u << 27) | (1u << 25) | (1u << 20) | (5u << 15) | (1u << 12) | 0x53u), 0);
	assert_int_equal(x[0], 0);
	assert_int_equal(fs.fflags, FFLAG_NX | FFLAG_DZ | FFLAG_NV);
	/* fmv.x.d x0, f1 and fcvt.l.d x0, f1 */
	assert_int_equal(fpu_exec(&fs, x, (0x1cu << 27) | (1u << 25) | (1u << 15) | 0x53u), 0);
	assert_int_equal(fpu_exec(&fs, x, (0x18u << 27) | (1u << 25) | (2u << 20) | (1u << 15) | 0x53u), 0);
	assert_int_equal(x[0], 0);
	/* fcvt.d.l f6, x0 reads zero */
	x[0] = 0;
	assert_int_equal(fpu_exec(&fs, x, (0x1au << 27) | (1u << 25) | (2u << 20) | (6u << 7) | 0x53u), 0);
	assert_int_equal(fs.f[6], 0);
	/* rd == rs1 works (fsqrt.d f1, f1 of 4.0) */
	fs.f[1] = 0x4010000000000000ull;
	assert_int_equal(fpu_exec(&fs, x, (0x0bu << 27) | (1u << 25) | (1u << 15) | (1u << 7) | 0x53u), 0);
	assert_int_equal(fs.f[1], D_TWO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corner_cases),
	    cmocka_unit_test(test_reference_vectors),
	    cmocka_unit_test(test_illegal),
	    cmocka_unit_test(test_flags_accrue_and_x0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
