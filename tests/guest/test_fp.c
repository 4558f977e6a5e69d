/* F and D: the shared instruction vectors of the FPU engineer
 * (fp/fpu_vectors.h, run one instruction each by fp/fp_run.h), plus checks
 * that need more than one instruction: NaN boxing through loads/moves,
 * dynamic rounding through frm, fflags accumulation, FS state, and a fused
 * multiply-add whose single rounding is observable.
 * Unprivileged spec chapters 11 (F, 11.2 NaN boxing) and 12 (D). */
#include "rt.h"
#include "fp/fp_run.h"

static uint64_t fmv_x_d(double d)
{
	uint64_t x;
	__asm__ volatile("fmv.x.d %0, %1" : "=r"(x) : "f"(d));
	return x;
}

int test_main(void)
{
	uint64_t x, fl;

	/* FLW writes the upper 32 bits of the f register with ones (boxing) */
	static volatile uint32_t one_f = 0x3f800000u;
	__asm__ volatile("flw ft0, 0(%1)\n fmv.x.d %0, ft0" : "=r"(x) : "r"(&one_f) : "ft0");
	CHECK_EQ(x, 0xffffffff3f800000ull);
	/* a single-precision op on an improperly boxed value sees the canonical
	 * NaN; FMV.X.W returns the raw low 32 bits, sign-extended */
	__asm__ volatile("fmv.d.x ft0, %1\n fadd.s ft1, ft0, ft0\n fmv.x.w %0, ft1"
		: "=r"(x) : "r"(0x000000003f800000ull) : "ft0", "ft1");
	CHECK_EQ(x, 0x7fc00000);
	__asm__ volatile("fmv.d.x ft0, %1\n fmv.x.w %0, ft0" : "=r"(x) : "r"(0x00000000bf800000ull) : "ft0");
	CHECK_EQ(x, 0xffffffffbf800000ull);
	/* FSW stores only the low 32 bits */
	static volatile uint64_t slot;
	slot = ~0ull;
	__asm__ volatile("fmv.d.x ft0, %1\n fsw ft0, 0(%0)" ::"r"(&slot), "r"(0x1234567840490fdbull) : "ft0", "memory");
	CHECK_EQ(slot, 0xffffffff40490fdbull);

	/* dynamic rounding (rm = dyn uses frm): 1 + 2^-60 */
	double one = 1.0, tiny = 0x1p-60;
	double r;
	csr_write(frm, 0); /* RNE */
	__asm__ volatile("fadd.d %0, %1, %2, dyn" : "=f"(r) : "f"(one), "f"(tiny));
	CHECK_EQ(fmv_x_d(r), 0x3ff0000000000000ull);
	csr_write(frm, 3); /* RUP */
	__asm__ volatile("fadd.d %0, %1, %2, dyn" : "=f"(r) : "f"(one), "f"(tiny));
	CHECK_EQ(fmv_x_d(r), 0x3ff0000000000001ull);
	csr_write(frm, 2); /* RDN: -1 - tiny rounds away from zero */
	__asm__ volatile("fsub.d %0, %1, %2, dyn" : "=f"(r) : "f"(-one), "f"(tiny));
	CHECK_EQ(fmv_x_d(r), 0xbff0000000000001ull);
	csr_write(frm, 1); /* RTZ */
	__asm__ volatile("fsub.d %0, %1, %2, dyn" : "=f"(r) : "f"(-one), "f"(tiny));
	CHECK_EQ(fmv_x_d(r), 0xbff0000000000000ull);
	/* a static rounding mode overrides frm */
	__asm__ volatile("fadd.d %0, %1, %2, rup" : "=f"(r) : "f"(one), "f"(tiny));
	CHECK_EQ(fmv_x_d(r), 0x3ff0000000000001ull);
	csr_write(frm, 0);

	/* fflags accumulate until cleared: NX from 1/3, then DZ from 1/0 */
	csr_write(fflags, 0);
	double three = 3.0, zero = 0.0;
	__asm__ volatile("fdiv.d %0, %1, %2" : "=f"(r) : "f"(one), "f"(three));
	__asm__ volatile("fdiv.d %0, %1, %2" : "=f"(r) : "f"(one), "f"(zero));
	fl = csr_read(fflags);
	CHECK_EQ(fl, 0x08 | 0x01);
	CHECK_EQ(fmv_x_d(r), 0x7ff0000000000000ull);
	/* invalid: sqrt(-1) is the canonical NaN, NV */
	csr_write(fflags, 0);
	__asm__ volatile("fsqrt.d %0, %1" : "=f"(r) : "f"(-one));
	CHECK_EQ(fmv_x_d(r), 0x7ff8000000000000ull);
	CHECK_EQ(csr_read(fflags), 0x10);
	/* conversion of NaN saturates to the largest integer, NV */
	csr_write(fflags, 0);
	__asm__ volatile("fcvt.w.d %0, %1, rtz" : "=r"(x) : "f"(r));
	CHECK_EQ(x, 0x7fffffff);
	CHECK_EQ(csr_read(fflags), 0x10);

	/* FMA rounds once: (1 + 2^-30)^2 - (1 + 2^-29) = 2^-60 exactly;
	 * a separate multiply would round 2^-60 away */
	double a = 1.0 + 0x1p-30, c = -(1.0 + 0x1p-29);
	__asm__ volatile("fmadd.d %0, %1, %2, %3" : "=f"(r) : "f"(a), "f"(a), "f"(c));
	CHECK_EQ(fmv_x_d(r), fmv_x_d(0x1p-60));
	__asm__ volatile("fmul.d %0, %1, %2\n fadd.d %0, %0, %3" : "=&f"(r) : "f"(a), "f"(a), "f"(c));
	CHECK_EQ(fmv_x_d(r), 0);

	csr_write(fcsr, 0);
	CHECK_EQ(fp_run_vectors(), 0);
	return 0;
}
