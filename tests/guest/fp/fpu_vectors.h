/* Test vectors of the F/D instructions, shared by the host unit test
 * (tests/unit/test_fpu.c, through fpu_exec) and the guest program that runs
 * them on a hart (tests/guest/fp/fp_run.h, on vessel and on QEMU).
 *
 * Every vector runs one instruction with rd = 14 (f14 or x14), rs1 = 11,
 * rs2 = 12, rs3 = 13, with f14 = FS and x14 = XS beforehand and fflags = 0,
 * and gives the expected f14, x14 and fflags. Data only: no code. */
#ifndef VESSEL_TESTS_FPU_VECTORS_H
#define VESSEL_TESTS_FPU_VECTORS_H

#include <stdint.h>

#define FS 0x5555555555555555ull /* f14 untouched */
#define XS 0xaaaaaaaaaaaaaaaaull /* x14 untouched */
#define S(v) (0xffffffff00000000ull | (uint32_t)(v))

#define OPFP(f5, fmt, rs2, rm) \
	(((uint32_t)(f5) << 27) | ((fmt) << 25) | ((rs2) << 20) | (11u << 15) | ((rm) << 12) | (14u << 7) | 0x53u)
#define BIN(f5, fmt, rm) OPFP(f5, fmt, 12u, rm)
#define R4(op, fmt, rm) ((13u << 27) | ((fmt) << 25) | (12u << 20) | (11u << 15) | ((rm) << 12) | (14u << 7) | (op))

enum { RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4, DYN = 7 };
enum { SP = 0, DP = 1 };
enum { W = 0, WU = 1, L = 2, LU = 3 };

#define FADD(fmt, rm) BIN(0x00, fmt, rm)
#define FSUB(fmt, rm) BIN(0x01, fmt, rm)
#define FMUL(fmt, rm) BIN(0x02, fmt, rm)
#define FDIV(fmt, rm) BIN(0x03, fmt, rm)
#define FSQRT(fmt, rm) OPFP(0x0b, fmt, 0u, rm)
#define FSGNJ(fmt) BIN(0x04, fmt, 0u)
#define FSGNJN(fmt) BIN(0x04, fmt, 1u)
#define FSGNJX(fmt) BIN(0x04, fmt, 2u)
#define FMIN(fmt) BIN(0x05, fmt, 0u)
#define FMAX(fmt) BIN(0x05, fmt, 1u)
#define FLE(fmt) BIN(0x14, fmt, 0u)
#define FLT(fmt) BIN(0x14, fmt, 1u)
#define FEQ(fmt) BIN(0x14, fmt, 2u)
#define FCVT_I(fmt, kind, rm) OPFP(0x18, fmt, (uint32_t)(kind), rm)
#define FCVT_F(fmt, kind, rm) OPFP(0x1a, fmt, (uint32_t)(kind), rm)
#define FMV_X(fmt) OPFP(0x1c, fmt, 0u, 0u)
#define FCLASS(fmt) OPFP(0x1c, fmt, 0u, 1u)
#define FMV_F(fmt) OPFP(0x1e, fmt, 0u, 0u)
#define FCVT_S_D(rm) OPFP(0x08, SP, 1u, rm)
#define FCVT_D_S(rm) OPFP(0x08, DP, 0u, rm)
#define FMADD(fmt, rm) R4(0x43u, fmt, rm)
#define FMSUB(fmt, rm) R4(0x47u, fmt, rm)
#define FNMSUB(fmt, rm) R4(0x4bu, fmt, rm)
#define FNMADD(fmt, rm) R4(0x4fu, fmt, rm)

/* frequently used values */
#define D_ONE 0x3ff0000000000000ull
#define D_TWO 0x4000000000000000ull
#define D_MONE 0xbff0000000000000ull
#define D_MAX 0x7fefffffffffffffull
#define D_MIN_NORM 0x0010000000000000ull
#define D_INF 0x7ff0000000000000ull
#define D_NINF 0xfff0000000000000ull
#define D_QNAN 0x7ff8000000000000ull
#define D_SNAN 0x7ff0000000000001ull
#define S_ONE S(0x3f800000)
#define S_TWO S(0x40000000)
#define S_QNAN S(0x7fc00000)
#define S_SNAN S(0x7f800001)
#define S_INF S(0x7f800000)

struct vec {
	uint32_t insn;
	uint64_t f11, f12, f13, x11;
	uint8_t frm;
	uint64_t f14, x14; /* expected */
	uint8_t flags;     /* expected */
};

#define NX 0x01
#define UF 0x02
#define OF 0x04
#define DZ 0x08
#define NV 0x10

/* Hand-written corner cases of the spec; the expected values were checked
 * against QEMU too (fpvec - replays them). */
static const struct vec hand[] = {
	/* basic arithmetic */
	{ FADD(DP, RNE), D_ONE, D_ONE, 0, 0, 0, D_TWO, XS, 0 },
	{ FSUB(DP, RNE), D_ONE, D_ONE, 0, 0, 0, 0, XS, 0 },
	{ FSUB(DP, RDN), D_ONE, D_ONE, 0, 0, 0, 0x8000000000000000ull, XS, 0 },
	{ FADD(SP, RNE), S_ONE, S_ONE, 0, 0, 0, S_TWO, XS, 0 },
	{ FMUL(SP, RNE), S(0x40400000), S(0x40400000), 0, 0, 0, S(0x41100000), XS, 0 }, /* 3*3 */
	{ FDIV(DP, RNE), D_ONE, 0x4008000000000000ull, 0, 0, 0, 0x3fd5555555555555ull, XS, NX },
	{ FDIV(DP, RUP), D_ONE, 0x4008000000000000ull, 0, 0, 0, 0x3fd5555555555556ull, XS, NX },
	{ FDIV(SP, RNE), S_ONE, S(0), 0, 0, 0, S_INF, XS, DZ },
	{ FDIV(SP, RNE), S(0x80000000), S(0), 0, 0, 0, S_QNAN, XS, NV },
	{ FDIV(DP, RNE), D_MONE, 0, 0, 0, 0, D_NINF, XS, DZ },
	{ FSQRT(DP, RNE), D_TWO, 0, 0, 0, 0, 0x3ff6a09e667f3bcdull, XS, NX },
	{ FSQRT(DP, RTZ), D_TWO, 0, 0, 0, 0, 0x3ff6a09e667f3bccull, XS, NX },
	{ FSQRT(SP, RNE), S(0x40800000), 0, 0, 0, 0, S_TWO, XS, 0 },
	{ FSQRT(DP, RNE), D_MONE, 0, 0, 0, 0, D_QNAN, XS, NV },
	{ FSQRT(DP, RNE), 0x8000000000000000ull, 0, 0, 0, 0, 0x8000000000000000ull, XS, 0 },
	{ FSQRT(SP, RNE), S(0x00000001), 0, 0, 0, 0, S(0x1a3504f3), XS, NX },
	{ FADD(DP, RNE), D_INF, D_NINF, 0, 0, 0, D_QNAN, XS, NV },
	{ FMUL(DP, RNE), D_INF, 0, 0, 0, 0, D_QNAN, XS, NV },

	/* canonical NaNs: payloads never propagate; sNaN raises NV */
	{ FADD(DP, RNE), 0x7ff8000000001234ull, D_ONE, 0, 0, 0, D_QNAN, XS, 0 },
	{ FADD(DP, RNE), 0xfff0000000001234ull, D_ONE, 0, 0, 0, D_QNAN, XS, NV },
	{ FMUL(SP, RNE), S(0xffc01234), S_ONE, 0, 0, 0, S_QNAN, XS, 0 },
	{ FMUL(SP, RNE), S_SNAN, S_ONE, 0, 0, 0, S_QNAN, XS, NV },
	{ FCVT_S_D(RNE), 0x7ff8000012345678ull, 0, 0, 0, 0, S_QNAN, XS, 0 },
	{ FCVT_S_D(RNE), D_SNAN, 0, 0, 0, 0, S_QNAN, XS, NV },
	{ FCVT_D_S(RNE), S(0xff812345), 0, 0, 0, 0, D_QNAN, XS, NV },
	{ FCVT_D_S(RNE), S(0x3fc00000), 0, 0, 0, 0, 0x3ff8000000000000ull, XS, 0 },
	{ FCVT_D_S(RNE), S(0x00000001), 0, 0, 0, 0, 0x36a0000000000000ull, XS, 0 },
	{ FCVT_S_D(RNE), 0x3ff0000010000000ull, 0, 0, 0, 0, S_ONE, XS, NX }, /* tie to even */
	{ FCVT_S_D(RMM), 0x3ff0000010000000ull, 0, 0, 0, 0, S(0x3f800001), XS, NX },
	{ FCVT_S_D(RNE), D_MAX, 0, 0, 0, 0, S_INF, XS, OF | NX },
	{ FCVT_S_D(RTZ), D_MAX, 0, 0, 0, 0, S(0x7f7fffff), XS, OF | NX },

	/* NaN boxing: a single not boxed reads as the canonical NaN */
	{ FADD(SP, RNE), 0x000000003f800000ull, S_ONE, 0, 0, 0, S_QNAN, XS, 0 },
	{ FADD(SP, RNE), 0xfffffffe3f800000ull, S_ONE, 0, 0, 0, S_QNAN, XS, 0 },
	{ FSGNJN(SP), 0x000000003f800000ull, S_ONE, 0, 0, 0, S(0xffc00000), XS, 0 },
	{ FMIN(SP), 0x000000003f800000ull, S_TWO, 0, 0, 0, S_TWO, XS, 0 },
	{ FCLASS(SP), 0x1234567800000000ull, 0, 0, 0, 0, FS, 0x200, 0 },
	{ FCVT_D_S(RNE), 0x000000003f800000ull, 0, 0, 0, 0, D_QNAN, XS, 0 },
	{ FMV_X(SP), 0x0000000080000000ull, 0, 0, 0, 0, FS, 0xffffffff80000000ull, 0 },
	{ FMV_X(SP), 0x123456787f000000ull, 0, 0, 0, 0, FS, 0x7f000000, 0 },
	{ FMV_F(SP), 0, 0, 0, 0x12345678c0000000ull, 0, S(0xc0000000), XS, 0 },
	{ FMV_X(DP), 0x8123456789abcdefull, 0, 0, 0, 0, FS, 0x8123456789abcdefull, 0 },
	{ FMV_F(DP), 0, 0, 0, 0xfff0000000000001ull, 0, 0xfff0000000000001ull, XS, 0 },
	{ FCVT_F(SP, W, RNE), 0, 0, 0, 7, 0, S(0x40e00000), XS, 0 },

	/* sign injection */
	{ FSGNJ(DP), D_ONE, 0x8000000000000000ull, 0, 0, 0, D_MONE, XS, 0 },
	{ FSGNJN(DP), D_MONE, D_MONE, 0, 0, 0, D_ONE, XS, 0 },
	{ FSGNJX(DP), D_MONE, D_MONE, 0, 0, 0, D_ONE, XS, 0 },
	{ FSGNJX(SP), S(0xbf800000), S_ONE, 0, 0, 0, S(0xbf800000), XS, 0 },
	{ FSGNJ(SP), S_SNAN, S(0x80000000), 0, 0, 0, S(0xff800001), XS, 0 }, /* no NV */

	/* minimumNumber / maximumNumber */
	{ FMIN(DP), 0, 0x8000000000000000ull, 0, 0, 0, 0x8000000000000000ull, XS, 0 },
	{ FMAX(DP), 0x8000000000000000ull, 0, 0, 0, 0, 0, XS, 0 },
	{ FMIN(SP), S(0x00000000), S(0x80000000), 0, 0, 0, S(0x80000000), XS, 0 },
	{ FMAX(SP), S(0x80000000), S(0x00000000), 0, 0, 0, S(0x00000000), XS, 0 },
	{ FMIN(DP), D_QNAN, D_ONE, 0, 0, 0, D_ONE, XS, 0 },
	{ FMAX(DP), D_ONE, D_SNAN, 0, 0, 0, D_ONE, XS, NV },
	{ FMIN(DP), D_SNAN, D_QNAN, 0, 0, 0, D_QNAN, XS, NV },
	{ FMAX(SP), S(0x7fc01234), S(0xffc00001), 0, 0, 0, S_QNAN, XS, 0 },
	{ FMIN(DP), D_NINF, D_MONE, 0, 0, 0, D_NINF, XS, 0 },
	{ FMAX(SP), S(0xc0000000), S(0xbf800000), 0, 0, 0, S(0xbf800000), XS, 0 },

	/* comparisons: FEQ quiet, FLT/FLE signalling */
	{ FEQ(DP), 0, 0x8000000000000000ull, 0, 0, 0, FS, 1, 0 },
	{ FLT(DP), 0x8000000000000000ull, 0, 0, 0, 0, FS, 0, 0 },
	{ FLE(DP), 0x8000000000000000ull, 0, 0, 0, 0, FS, 1, 0 },
	{ FEQ(DP), D_QNAN, D_QNAN, 0, 0, 0, FS, 0, 0 },
	{ FEQ(SP), S_SNAN, S_ONE, 0, 0, 0, FS, 0, NV },
	{ FLT(DP), D_QNAN, D_ONE, 0, 0, 0, FS, 0, NV },
	{ FLE(SP), S_ONE, S_QNAN, 0, 0, 0, FS, 0, NV },
	{ FLT(SP), S(0xbf800000), S_ONE, 0, 0, 0, FS, 1, 0 },
	{ FLT(DP), D_MONE, 0xc000000000000000ull, 0, 0, 0, FS, 0, 0 },
	{ FLE(DP), D_NINF, D_INF, 0, 0, 0, FS, 1, 0 },

	/* rounding modes on an exact tie: 1 + 2^-24 (single) */
	{ FADD(SP, RNE), S_ONE, S(0x33800000), 0, 0, 0, S_ONE, XS, NX },
	{ FADD(SP, RTZ), S_ONE, S(0x33800000), 0, 0, 0, S_ONE, XS, NX },
	{ FADD(SP, RDN), S_ONE, S(0x33800000), 0, 0, 0, S_ONE, XS, NX },
	{ FADD(SP, RUP), S_ONE, S(0x33800000), 0, 0, 0, S(0x3f800001), XS, NX },
	{ FADD(SP, RMM), S_ONE, S(0x33800000), 0, 0, 0, S(0x3f800001), XS, NX },
	{ FADD(SP, RNE), S(0xbf800000), S(0xb3800000), 0, 0, 0, S(0xbf800000), XS, NX },
	{ FADD(SP, RDN), S(0xbf800000), S(0xb3800000), 0, 0, 0, S(0xbf800001), XS, NX },
	{ FADD(SP, RUP), S(0xbf800000), S(0xb3800000), 0, 0, 0, S(0xbf800000), XS, NX },
	{ FADD(SP, RMM), S(0xbf800000), S(0xb3800000), 0, 0, 0, S(0xbf800001), XS, NX },
	/* odd neighbour: RNE rounds up to even, RTZ down */
	{ FADD(SP, RNE), S(0x3f800001), S(0x33800000), 0, 0, 0, S(0x3f800002), XS, NX },
	{ FADD(SP, RTZ), S(0x3f800001), S(0x33800000), 0, 0, 0, S(0x3f800001), XS, NX },
	{ FADD(SP, RMM), S(0x3f800001), S(0x33800000), 0, 0, 0, S(0x3f800002), XS, NX },
	/* double tie 1 + 2^-53 */
	{ FADD(DP, RNE), D_ONE, 0x3ca0000000000000ull, 0, 0, 0, D_ONE, XS, NX },
	{ FADD(DP, RMM), D_ONE, 0x3ca0000000000000ull, 0, 0, 0, 0x3ff0000000000001ull, XS, NX },
	/* DYN takes frm */
	{ FADD(SP, DYN), S_ONE, S(0x33800000), 0, 0, RUP, S(0x3f800001), XS, NX },
	{ FADD(SP, DYN), S_ONE, S(0x33800000), 0, 0, RMM, S(0x3f800001), XS, NX },
	{ FADD(SP, DYN), S_ONE, S(0x33800000), 0, 0, RTZ, S_ONE, XS, NX },

	/* overflow: infinity or the largest finite number by rounding mode */
	{ FMUL(DP, RNE), D_MAX, D_TWO, 0, 0, 0, D_INF, XS, OF | NX },
	{ FMUL(DP, RTZ), D_MAX, D_TWO, 0, 0, 0, D_MAX, XS, OF | NX },
	{ FMUL(DP, RDN), D_MAX, D_TWO, 0, 0, 0, D_MAX, XS, OF | NX },
	{ FMUL(DP, RUP), D_MAX, D_TWO, 0, 0, 0, D_INF, XS, OF | NX },
	{ FMUL(DP, RMM), D_MAX, D_TWO, 0, 0, 0, D_INF, XS, OF | NX },
	{ FMUL(DP, RDN), D_MAX, 0xc000000000000000ull, 0, 0, 0, D_NINF, XS, OF | NX },
	{ FMUL(DP, RUP), D_MAX, 0xc000000000000000ull, 0, 0, 0, 0xffefffffffffffffull, XS, OF | NX },
	/* single max + one ulp / half an ulp (a tie, max is odd) / a quarter */
	{ FADD(SP, RNE), S(0x7f7fffff), S(0x73800000), 0, 0, 0, S_INF, XS, OF | NX },
	{ FADD(SP, RTZ), S(0x7f7fffff), S(0x73800000), 0, 0, 0, S(0x7f7fffff), XS, OF | NX },
	{ FADD(SP, RNE), S(0x7f7fffff), S(0x73000000), 0, 0, 0, S_INF, XS, OF | NX },
	{ FADD(SP, RTZ), S(0x7f7fffff), S(0x73000000), 0, 0, 0, S(0x7f7fffff), XS, NX },
	{ FADD(SP, RNE), S(0x7f7fffff), S(0x72800000), 0, 0, 0, S(0x7f7fffff), XS, NX },
	{ FMUL(DP, RNE), D_INF, D_TWO, 0, 0, 0, D_INF, XS, 0 }, /* infinity is exact */

	/* underflow: tininess is detected after rounding (§11.2) */
	/* 2^-126 (1 - 2^-25) rounds to 2^-126 at 24 bits: not tiny, NX only */
	{ FCVT_S_D(RNE), 0x380ffffff0000000ull, 0, 0, 0, 0, S(0x00800000), XS, NX },
	{ FCVT_S_D(RTZ), 0x380ffffff0000000ull, 0, 0, 0, 0, S(0x007fffff), XS, UF | NX },
	{ FCVT_S_D(RUP), 0x380ffffff0000000ull, 0, 0, 0, 0, S(0x00800000), XS, NX },
	/* 2^-1022 - 2^-1075 is exact at 53 bits, so tiny, yet rounds to 2^-1022 */
	{ FMUL(DP, RNE), 0x3fefffffffffffffull, D_MIN_NORM, 0, 0, 0, D_MIN_NORM, XS, UF | NX },
	{ FMUL(DP, RTZ), 0x3fefffffffffffffull, D_MIN_NORM, 0, 0, 0, 0x000fffffffffffffull, XS, UF | NX },
	/* exact subnormal results raise nothing */
	{ FMUL(DP, RNE), D_MIN_NORM, 0x3fe0000000000000ull, 0, 0, 0, 0x0008000000000000ull, XS, 0 },
	{ FSUB(SP, RNE), S(0x00800001), S(0x00800000), 0, 0, 0, S(0x00000001), XS, 0 },
	/* smallest subnormal halved: tie to zero / away */
	{ FMUL(SP, RNE), S(0x00000001), S(0x3f000000), 0, 0, 0, S(0), XS, UF | NX },
	{ FMUL(SP, RMM), S(0x00000001), S(0x3f000000), 0, 0, 0, S(0x00000001), XS, UF | NX },
	{ FMUL(SP, RUP), S(0x80000001), S(0x3f000000), 0, 0, 0, S(0x80000000), XS, UF | NX },
	{ FMUL(SP, RDN), S(0x80000001), S(0x3f000000), 0, 0, 0, S(0x80000001), XS, UF | NX },

	/* fused multiply-add: one rounding, inf*0 is NV even with a qNaN addend */
	{ FMADD(DP, RNE), 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_MONE, 0, 0,
	  0x3c9ffffffffffffeull, XS, 0 }, /* (1+2^-52)(1-2^-53) - 1 = 2^-53 - 2^-105 */
	{ FMADD(DP, RNE), D_INF, 0, D_QNAN, 0, 0, D_QNAN, XS, NV },
	{ FMADD(SP, RNE), S(0), S_INF, S_QNAN, 0, 0, S_QNAN, XS, NV },
	{ FMADD(DP, RNE), D_QNAN, D_ONE, D_ONE, 0, 0, D_QNAN, XS, 0 },
	{ FMADD(DP, RNE), D_ONE, D_ONE, D_SNAN, 0, 0, D_QNAN, XS, NV },
	{ FMADD(DP, RNE), D_INF, D_ONE, D_NINF, 0, 0, D_QNAN, XS, NV },
	{ FMSUB(DP, RNE), D_INF, D_ONE, D_INF, 0, 0, D_QNAN, XS, NV },
	{ FNMADD(DP, RNE), D_INF, D_ONE, D_INF, 0, 0, D_NINF, XS, 0 },
	{ FNMADD(DP, RNE), D_INF, D_ONE, D_NINF, 0, 0, D_QNAN, XS, NV },
	{ FMADD(DP, RNE), D_ONE, D_ONE, D_MONE, 0, 0, 0, XS, 0 },
	{ FMADD(DP, RDN), D_ONE, D_ONE, D_MONE, 0, 0, 0x8000000000000000ull, XS, 0 },
	{ FMADD(DP, RNE), 0x8000000000000000ull, D_ONE, 0x8000000000000000ull, 0, 0,
	  0x8000000000000000ull, XS, 0 },
	{ FMSUB(SP, RNE), S_TWO, S(0x40400000), S_ONE, 0, 0, S(0x40a00000), XS, 0 },  /* 2*3-1 */
	{ FNMSUB(SP, RNE), S_TWO, S(0x40400000), S_ONE, 0, 0, S(0xc0a00000), XS, 0 }, /* -(2*3)+1 */
	{ FNMADD(SP, RNE), S_TWO, S(0x40400000), S_ONE, 0, 0, S(0xc0e00000), XS, 0 }, /* -(2*3)-1 */
	{ FMADD(SP, RNE), S(0x7f7fffff), S_TWO, S(0xff7fffff), 0, 0, S(0x7f7fffff), XS, 0 },
	{ FMADD(SP, RMM), S(0x3f800001), S(0x3f800001), S(0), 0, 0, S(0x3f800002), XS, NX },

	/* float -> integer: rounding, saturation, NV without NX */
	{ FCVT_I(SP, W, RNE), S(0x40200000), 0, 0, 0, 0, FS, 2, NX },  /* 2.5 */
	{ FCVT_I(SP, W, RMM), S(0x40200000), 0, 0, 0, 0, FS, 3, NX },
	{ FCVT_I(SP, W, RMM), S(0xc0200000), 0, 0, 0, 0, FS, (uint64_t)-3, NX },
	{ FCVT_I(SP, W, RDN), S(0xc0200000), 0, 0, 0, 0, FS, (uint64_t)-3, NX },
	{ FCVT_I(SP, W, RUP), S(0xc0200000), 0, 0, 0, 0, FS, (uint64_t)-2, NX },
	{ FCVT_I(SP, W, RTZ), S(0xc0200000), 0, 0, 0, 0, FS, (uint64_t)-2, NX },
	{ FCVT_I(DP, W, RMM), 0x3fe0000000000000ull, 0, 0, 0, 0, FS, 1, NX }, /* 0.5 */
	{ FCVT_I(DP, W, RNE), 0x3fe0000000000000ull, 0, 0, 0, 0, FS, 0, NX },
	{ FCVT_I(DP, W, RNE), D_QNAN, 0, 0, 0, 0, FS, 0x7fffffff, NV },
	{ FCVT_I(DP, W, RNE), 0xfff8000000000000ull, 0, 0, 0, 0, FS, 0x7fffffff, NV },
	{ FCVT_I(DP, W, RNE), D_INF, 0, 0, 0, 0, FS, 0x7fffffff, NV },
	{ FCVT_I(DP, W, RNE), D_NINF, 0, 0, 0, 0, FS, 0xffffffff80000000ull, NV },
	{ FCVT_I(DP, W, RNE), 0x41e0000000000000ull, 0, 0, 0, 0, FS, 0x7fffffff, NV }, /* 2^31 */
	{ FCVT_I(DP, W, RNE), 0xc1e0000000000000ull, 0, 0, 0, 0, FS, 0xffffffff80000000ull, 0 },
	{ FCVT_I(DP, W, RTZ), 0xc1e0000000100000ull, 0, 0, 0, 0, FS, 0xffffffff80000000ull, NX },
	{ FCVT_I(DP, W, RNE), 0xc1e0000000100000ull, 0, 0, 0, 0, FS, 0xffffffff80000000ull, NX },
	{ FCVT_I(DP, W, RDN), 0xc1e0000000100000ull, 0, 0, 0, 0, FS, 0xffffffff80000000ull, NV },
	{ FCVT_I(DP, WU, RTZ), 0xbfeccccccccccccdull, 0, 0, 0, 0, FS, 0, NX }, /* -0.9 */
	{ FCVT_I(DP, WU, RNE), 0xbfeccccccccccccdull, 0, 0, 0, 0, FS, 0, NV },
	{ FCVT_I(DP, WU, RNE), D_MONE, 0, 0, 0, 0, FS, 0, NV },
	{ FCVT_I(DP, WU, RNE), 0x41efffffffe00000ull, 0, 0, 0, 0, FS, 0xffffffffffffffffull, 0 },
	{ FCVT_I(DP, WU, RNE), 0x41f0000000000000ull, 0, 0, 0, 0, FS, 0xffffffffffffffffull, NV },
	{ FCVT_I(DP, WU, RNE), D_QNAN, 0, 0, 0, 0, FS, 0xffffffffffffffffull, NV },
	{ FCVT_I(DP, WU, RNE), D_NINF, 0, 0, 0, 0, FS, 0, NV },
	{ FCVT_I(DP, L, RNE), 0xc3e0000000000000ull, 0, 0, 0, 0, FS, 0x8000000000000000ull, 0 },
	{ FCVT_I(DP, L, RNE), 0x43e0000000000000ull, 0, 0, 0, 0, FS, 0x7fffffffffffffffull, NV },
	{ FCVT_I(DP, L, RNE), D_QNAN, 0, 0, 0, 0, FS, 0x7fffffffffffffffull, NV },
	{ FCVT_I(DP, LU, RNE), 0x43efffffffffffffull, 0, 0, 0, 0, FS, 0xfffffffffffff800ull, 0 },
	{ FCVT_I(DP, LU, RNE), 0x43f0000000000000ull, 0, 0, 0, 0, FS, 0xffffffffffffffffull, NV },
	{ FCVT_I(DP, LU, RNE), D_NINF, 0, 0, 0, 0, FS, 0, NV },
	{ FCVT_I(SP, LU, RTZ), S(0xbf7fffff), 0, 0, 0, 0, FS, 0, NX },
	{ FCVT_I(SP, L, RNE), S(0x00000001), 0, 0, 0, 0, FS, 0, NX },
	{ FCVT_I(SP, L, RUP), S(0x00000001), 0, 0, 0, 0, FS, 1, NX },
	{ FCVT_I(SP, L, RNE), S(0x80000000), 0, 0, 0, 0, FS, 0, 0 },
	{ FCVT_I(SP, W, DYN), S(0x40200000), 0, 0, 0, RUP, FS, 3, NX },

	/* integer -> float */
	{ FCVT_F(SP, W, RNE), 0, 0, 0, 16777217, 0, S(0x4b800000), XS, NX },
	{ FCVT_F(SP, W, RUP), 0, 0, 0, 16777217, 0, S(0x4b800001), XS, NX },
	{ FCVT_F(SP, W, RMM), 0, 0, 0, 16777217, 0, S(0x4b800001), XS, NX },
	{ FCVT_F(SP, W, RNE), 0, 0, 0, 0x00000000ffffffffull, 0, S(0xbf800000), XS, 0 }, /* -1 */
	{ FCVT_F(SP, WU, RNE), 0, 0, 0, 0xffffffffffffffffull, 0, S(0x4f800000), XS, NX },
	{ FCVT_F(SP, WU, RTZ), 0, 0, 0, 0xffffffffffffffffull, 0, S(0x4f7fffff), XS, NX },
	{ FCVT_F(DP, W, RNE), 0, 0, 0, 0x80000000, 0, 0xc1e0000000000000ull, XS, 0 },
	{ FCVT_F(DP, WU, RNE), 0, 0, 0, 0x80000000, 0, 0x41e0000000000000ull, XS, 0 },
	{ FCVT_F(DP, L, RNE), 0, 0, 0, 0x8000000000000000ull, 0, 0xc3e0000000000000ull, XS, 0 },
	{ FCVT_F(DP, LU, RNE), 0, 0, 0, 0xffffffffffffffffull, 0, 0x43f0000000000000ull, XS, NX },
	{ FCVT_F(DP, LU, RDN), 0, 0, 0, 0xffffffffffffffffull, 0, 0x43efffffffffffffull, XS, NX },
	{ FCVT_F(DP, L, RNE), 0, 0, 0, 0, 0, 0, XS, 0 },
	{ FCVT_F(DP, L, RDN), 0, 0, 0, 0, 0, 0, XS, 0 }, /* +0, not -0 */

	/* fclass: all ten classes */
	{ FCLASS(DP), D_NINF, 0, 0, 0, 0, FS, 1 << 0, 0 },
	{ FCLASS(DP), D_MONE, 0, 0, 0, 0, FS, 1 << 1, 0 },
	{ FCLASS(DP), 0x800fffffffffffffull, 0, 0, 0, 0, FS, 1 << 2, 0 },
	{ FCLASS(DP), 0x8000000000000000ull, 0, 0, 0, 0, FS, 1 << 3, 0 },
	{ FCLASS(DP), 0, 0, 0, 0, 0, FS, 1 << 4, 0 },
	{ FCLASS(DP), 0x0000000000000001ull, 0, 0, 0, 0, FS, 1 << 5, 0 },
	{ FCLASS(DP), D_MIN_NORM, 0, 0, 0, 0, FS, 1 << 6, 0 },
	{ FCLASS(DP), D_INF, 0, 0, 0, 0, FS, 1 << 7, 0 },
	{ FCLASS(DP), D_SNAN, 0, 0, 0, 0, FS, 1 << 8, 0 },
	{ FCLASS(DP), 0xfff8000000000000ull, 0, 0, 0, 0, FS, 1 << 9, 0 },
	{ FCLASS(SP), S(0xff800000), 0, 0, 0, 0, FS, 1 << 0, 0 },
	{ FCLASS(SP), S(0x80800000), 0, 0, 0, 0, FS, 1 << 1, 0 },
	{ FCLASS(SP), S(0x80000001), 0, 0, 0, 0, FS, 1 << 2, 0 },
	{ FCLASS(SP), S(0x80000000), 0, 0, 0, 0, FS, 1 << 3, 0 },
	{ FCLASS(SP), S(0x00000000), 0, 0, 0, 0, FS, 1 << 4, 0 },
	{ FCLASS(SP), S(0x007fffff), 0, 0, 0, 0, FS, 1 << 5, 0 },
	{ FCLASS(SP), S(0x7f7fffff), 0, 0, 0, 0, FS, 1 << 6, 0 },
	{ FCLASS(SP), S_INF, 0, 0, 0, 0, FS, 1 << 7, 0 },
	{ FCLASS(SP), S(0xffbfffff), 0, 0, 0, 0, FS, 1 << 8, 0 },
	{ FCLASS(SP), S(0x7fc00000), 0, 0, 0, 0, FS, 1 << 9, 0 },
};

/* Reference vectors: random operands (specials, subnormals, ties, near
 * overflow, cancellations, badly boxed singles) run on QEMU 7.2's RISC-V
 * FPU with `qemu-riscv64 fpvec 40000 12345` (tests/guest/fp/fpvec.c), keeping
 * at most two vectors per (instruction, format, conversion type, fflags). */
static const struct vec ref_vectors[] = {
	{ 0x5a059753, 0x7ff0000000000000ull, 0xfff00000ffffffffull, 0x7fe8000000000001ull, 0x0000000080000000ull, 1, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x10c59753, 0xffffffff807fffffull, 0x8387626481c00001ull, 0xffffffffbc7fffffull, 0x0000000000000021ull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x22c5a753, 0xbddfffffffffffffull, 0x003fffffffffffffull, 0x8260000000000000ull, 0xfffffffffff4b780ull, 4, 0xbddfffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x22c59753, 0x001a4f6000000000ull, 0x801a4f6000000001ull, 0xbe9eca03551d913eull, 0x00003ed1ffd79813ull, 4, 0x001a4f6000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa0c58753, 0xffffffff01820000ull, 0x00fe3d24ff900000ull, 0xffffffff4bfffffeull, 0x00000004357fcbd0ull, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0xc015b753, 0xffffffffffc00000ull, 0xffffffff7fc00000ull, 0xffffffff3b400000ull, 0x00000000000089e3ull, 0, 0x5555555555555555ull, 0xffffffffffffffffull, 0x10 },
	{ 0xa2c59753, 0xc2435d50b2414731ull, 0x8000040000000000ull, 0xffeffffffffffffdull, 0x0000000000061982ull, 4, 0x5555555555555555ull, 0x0000000000000001ull, 0x00 },
	{ 0x68c5a747, 0xffffffff390cd0c5ull, 0xffffffff017ffffdull, 0xfffffffffebbec0bull, 0xfffdc464cf8a496aull, 2, 0xffffffff7ebbec0bull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xe0058753, 0xffffffff7ffffffdull, 0xfffffffffffffffdull, 0xffffffffff000000ull, 0x0000000080000000ull, 2, 0x5555555555555555ull, 0x000000007ffffffdull, 0x00 },
	{ 0x20c58753, 0xffffffff337ffffdull, 0xffffffff00fffffcull, 0xffffffff01ffffffull, 0x0000000000000001ull, 0, 0xffffffff337ffffdull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5974f, 0x801fffffffffffffull, 0x8300000000000080ull, 0xff60000000000000ull, 0xffffffffffffffffull, 4, 0x7f5fffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x18c5c753, 0xffffffff007fffffull, 0xffffffff802af56eull, 0xffffffff007fffffull, 0xffffffff7fffffffull, 3, 0xffffffffc03eb1d9ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xa0c5a753, 0xffffffff7fc00000ull, 0xfffffffffeffffffull, 0xffffffff7fc66400ull, 0x0000000000000a32ull, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x02c5a753, 0x800fc00000000000ull, 0x7fdc5dfa5a072929ull, 0xc200000000000000ull, 0x001788f2bb1fc78full, 1, 0x7fdc5dfa5a072928ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x5805c753, 0xffffffff7f800000ull, 0xfffffffffe004000ull, 0xffffffff7fc00001ull, 0x00af5c0cab0080b1ull, 0, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5c74f, 0x641b74e134000000ull, 0x699fffffffffffffull, 0x7ff0000000000000ull, 0xffffffffe0e268fdull, 4, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c59743, 0xffffffff7f800200ull, 0xffffffff7e5ee858ull, 0xffffffff2e7fffffull, 0xfffdf1ff528912acull, 2, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xa0c5a753, 0xffffffff007ffffcull, 0xffffffff807ffffcull, 0xffffffffff7fffffull, 0xffffffffeed93f74ull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x22c5a753, 0x90685a3640000000ull, 0x3d95200fffc00000ull, 0x3e80000000000000ull, 0xfffffffffb5e2afeull, 1, 0x90685a3640000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x4015b753, 0x803fffffffffffffull, 0xffffffff807fffffull, 0xffffffff7f1aeb00ull, 0x000000000001c9a7ull, 1, 0xffffffff80000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x20c59753, 0xffffffff7e0e9625ull, 0xfffffffffe0e9625ull, 0xfffffffffff5efaaull, 0x03312a03cbaae078ull, 0, 0xffffffff7e0e9625ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c59747, 0xffffffffb1800000ull, 0xffffffff80400000ull, 0xffffffffc37fffffull, 0xfffffff52e7505faull, 0, 0xffffffff437fffffull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x6ac5f74b, 0xfff6868e3c322000ull, 0x7ff6868e3c322000ull, 0xbbeffffffffffffdull, 0x000000ed6553112bull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xd0258753, 0x25a251b747c00000ull, 0xffffffff7f238000ull, 0xffffffffc5ddc6d8ull, 0x000000007fffffffull, 3, 0xffffffff4f000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xe2058753, 0x7fc8000000000002ull, 0xffe01e14d04e9e87ull, 0x7ff8000000000001ull, 0x0000000087ee0e58ull, 0, 0x5555555555555555ull, 0x7fc8000000000002ull, 0x00 },
	{ 0x2ac58753, 0xffd0000000000000ull, 0x7fd0000000000000ull, 0x3f28df3a42280000ull, 0x0000000000000201ull, 1, 0xffd0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa0c59753, 0xffffffffb8000200ull, 0xffffffffb8000200ull, 0xffffffffb4913c00ull, 0xffffffffffffffa5ull, 1, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x68c59743, 0xffffffff8001e000ull, 0xffffffff0142fc9bull, 0xffffffffd2800000ull, 0xffffffff7fffffffull, 1, 0xffffffffd2800000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x6ac58747, 0xa9336b8101000000ull, 0x7bc8000000000000ull, 0x7fffffffffffffffull, 0x1a13c107a4489380ull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5c74f, 0xbfbec180cabf4c67ull, 0xfffffffffffffffeull, 0xfff8000000000002ull, 0x0000001c42994554ull, 0, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x5805f753, 0xffffffff80ffffffull, 0xffffffffffc00003ull, 0xffffffff7fa53632ull, 0x000036fcd024170cull, 0, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x68c5b74b, 0xffffffffc05e5900ull, 0xffffffff405e5900ull, 0xffffffff00004000ull, 0xfffffffffeaaed5bull, 1, 0xffffffff41411e7bull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c5a74f, 0xfffffffffec4468dull, 0xffffffffc754ffcaull, 0xffffffffff800000ull, 0x000007efb27cdaecull, 3, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5b74b, 0x679fffffffffffffull, 0xfff0000000002000ull, 0xfff8000000000002ull, 0x95f57e41604e12ddull, 3, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x5a05a753, 0x000ffffffffffffdull, 0x8000000000000005ull, 0x0031bd290d8311e0ull, 0xfffffffffffffffcull, 3, 0x1ffffffffffffffcull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x2ac59753, 0x45f0c10a097b4000ull, 0xc5f0c10a097b4000ull, 0x8010000000008000ull, 0xfffe27acc55d566full, 0, 0x45f0c10a097b4000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x20c59753, 0xffffffff34fffffcull, 0x72d225593adac68bull, 0xfffffffffe000400ull, 0x00000000ffffffffull, 1, 0xffffffffb4fffffcull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x12c58753, 0x8000000000000000ull, 0xc128000000000002ull, 0x8585cb7aa2ebcc72ull, 0x0000000000000008ull, 0, 0x0000000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x2ac59753, 0xbf3888c656276b00ull, 0xffc283ac2dc6a1efull, 0xffd8000000000003ull, 0x0000000000000002ull, 2, 0xbf3888c656276b00ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x0ac5c753, 0x800fffffffffffffull, 0x000fffffffffffffull, 0xbd90000000000000ull, 0x0d22da71fff5ce03ull, 1, 0x801ffffffffffffeull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x08c58753, 0xffffffff00000000ull, 0xffffffff807ffffcull, 0xffffffff41900000ull, 0x0000000001000001ull, 2, 0xffffffff007ffffcull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5f74b, 0x7ffffffffffffffcull, 0x0020000000000000ull, 0x0010000000000008ull, 0x0000000000000032ull, 1, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x28c59753, 0x77d00ee344800000ull, 0x786e0c657f800200ull, 0xffffffff4f000000ull, 0x002003bda8989eaeull, 1, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x00c59753, 0xffffffff017fffffull, 0xffffffff80fffffeull, 0xffffffff01b99a9dull, 0x000000000000a38dull, 2, 0xffffffff01000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x10c5a753, 0xffffffff7fc00000ull, 0xffffffffbaffffffull, 0xffffffffe1800004ull, 0xffffffffff4419ddull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x20c58753, 0xfffffffffe010000ull, 0x000000007e00fffeull, 0xffffffff3e7ffffcull, 0x6f53a2b69aa2978bull, 2, 0xffffffff7e010000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc235c753, 0xc004000000000000ull, 0x87c0000000000800ull, 0xc01f350bd2e35f29ull, 0xfffff317174859f4ull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x1ac5c753, 0x7ff0000000000001ull, 0x7fe0ee6ea3e548a8ull, 0x7fc0000000000000ull, 0x00000006cc88b1a4ull, 0, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x18c5f753, 0xffffffff00000002ull, 0xffffffff80000004ull, 0xffffffff0196ff56ull, 0x0000000100000000ull, 3, 0xffffffffbf000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xd015b753, 0xffffffff487fffffull, 0xffffffff81800000ull, 0xffffffff4b400000ull, 0xfffffffffffffffeull, 4, 0xffffffff4f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x28c59753, 0xfffffffffe5fe800ull, 0xffffffff4d2d4dc2ull, 0xffffffff41800000ull, 0x00000a93199d7c77ull, 4, 0xffffffff4d2d4dc2ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa2c59753, 0x7fdffffffffffffeull, 0x7fdffffffffffffeull, 0xffffffffffffffffull, 0x0020000000000001ull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0xa0c59753, 0xffffffff81800000ull, 0xffffffff81800000ull, 0xffffffff7fc00002ull, 0x3442d46544c0d262ull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x6ac5874b, 0xbfaffffffffffffeull, 0x3faffffffffffffeull, 0x3f6ffffffffffffcull, 0xfffe7e2f914afa24ull, 4, 0x3f7ffffffffffffcull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x2ac58753, 0x0010020000000000ull, 0x3dcd5bdf3760d96cull, 0xffd68a469420bc00ull, 0x0000000000000595ull, 3, 0x0010020000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xd2058753, 0xffe8000000000002ull, 0x3ebce199f3ad1b1bull, 0x4248000000000001ull, 0x0000000000000041ull, 2, 0x4050400000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac59747, 0x003ffffffffffffdull, 0xbf50002000000000ull, 0x3f919d5bf25e0000ull, 0xfffffffffffdee65ull, 2, 0xbf919d5bf25e0000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c5f743, 0xffffffff45004000ull, 0xffffffff7f800020ull, 0xffffffff7fc00003ull, 0xfffffffff2d99cbdull, 0, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x6ac5c74f, 0x0007c0d229ce9ebcull, 0x8330000000000000ull, 0xbe40000000000000ull, 0xd90413184c8ab6f7ull, 2, 0x3e40000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x42058753, 0xffffffff81ffffffull, 0x7ff185c9937d4591ull, 0xfff0000000000000ull, 0xffffffffffffffffull, 2, 0xb83fffffe0000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5c74f, 0x3e9fffffffffffffull, 0x800ffffffffffffcull, 0x0000000080000001ull, 0xffffffffffffc0e9ull, 0, 0x8000000000000001ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x68c5a743, 0xfffffffffea00000ull, 0xfffffffffebaa802ull, 0xffffffff40000000ull, 0x000000bb886edf75ull, 0, 0xffffffff7f7fffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x5805a753, 0xffffffffbe400001ull, 0xffffffffb3c00003ull, 0xffffffff71f3c000ull, 0x01077a9b5d0a7681ull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc015b753, 0xffffffff4640e200ull, 0xffffffff80dcdb8aull, 0xffffffff15800000ull, 0xffffffffffffffffull, 1, 0x5555555555555555ull, 0x0000000000003039ull, 0x01 },
	{ 0xd225c753, 0x4210000000000000ull, 0x8b30000000000000ull, 0x001552d1b290b32eull, 0x000053753b14a13bull, 3, 0x42d4dd4ec5284ec0ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x1ac5c753, 0x000327b0e6102a00ull, 0x0000000000010000ull, 0x8007b3b499985637ull, 0x00000d7ac186af6cull, 4, 0x42093d8730815000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xe2058753, 0xc0afffffffffffffull, 0x40afffffffffffffull, 0xc038000000000001ull, 0x0000000000000003ull, 3, 0x5555555555555555ull, 0xc0afffffffffffffull, 0x00 },
	{ 0x22c59753, 0xfff8000000000001ull, 0x8030800000000000ull, 0xd41fffffffffffffull, 0x00000000000096e4ull, 2, 0x7ff8000000000001ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x22c58753, 0x800fffffffffffffull, 0x000fffffffffffffull, 0x8010000040000000ull, 0x00000000ffffffffull, 2, 0x000fffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xd225c753, 0x7fffffffffffffffull, 0x7fdffffffffffffcull, 0x7ffc300000000000ull, 0xffffff25c86cbecaull, 4, 0xc26b46f26826c000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x4015c753, 0xffefffffffffffffull, 0xffffffff01ffffffull, 0xfffffffff7cc7e4full, 0x0000000001000001ull, 3, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x40158753, 0xfff0000000400000ull, 0xffffffff01ffffffull, 0xffffffffff400000ull, 0x8000000000000000ull, 1, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xe0059753, 0xffffffffab2912b4ull, 0xffffffff2b2912b4ull, 0xfffffffffe0bb58eull, 0x000000007fffffffull, 4, 0x5555555555555555ull, 0x0000000000000002ull, 0x00 },
	{ 0x22c58753, 0x7fc0000000010000ull, 0x7fffffffffffffffull, 0xf398000000000001ull, 0xff7a74d58783b298ull, 1, 0x7fc0000000010000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa2c5a753, 0x0028000000000003ull, 0xbdb8000000000001ull, 0xbe63d80000000000ull, 0xfffffffffff2bc1full, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x42058753, 0xc4a195e0817fffffull, 0x801ffffffffffffdull, 0x8020000000000000ull, 0x00000000000002c4ull, 2, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc005f753, 0xffffffff7f72066bull, 0xffffffffff72066cull, 0xffffffffc07fffffull, 0x00007a432a44d88eull, 1, 0x5555555555555555ull, 0x000000007fffffffull, 0x10 },
	{ 0x68c58743, 0xffffffff80800020ull, 0xffffffff11dc0000ull, 0xfffffffffa400000ull, 0x000000000006c736ull, 3, 0xfffffffffa400000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x18c59753, 0xffffffffffffffffull, 0xffffffffffd1ee76ull, 0xffffffff00400002ull, 0x00155543bb262398ull, 2, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xf2058753, 0x7fc8000000000003ull, 0xfffd7a487047ce66ull, 0x3e4fffffffffffffull, 0xfffffffffffffcd8ull, 0, 0xfffffffffffffcd8ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x00c5c753, 0xffffffff46c00001ull, 0xffffffffc6c00001ull, 0xffffffff817fffffull, 0x00000000001019f1ull, 4, 0xffffffff00000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa0c58753, 0xffffffffffffffffull, 0xffffffff7f6831f0ull, 0xfffffffffec00003ull, 0x00bff0f3a6104ac1ull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x28c58753, 0xffffffff7f7fffffull, 0xffffffff80000000ull, 0xffffffff7e000000ull, 0x0000000000000003ull, 0, 0xffffffff80000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa0c59753, 0xffffffff00820000ull, 0xffffffff7fb4f000ull, 0xffffffffffffffffull, 0xffffffffffffffffull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x6ac5b743, 0xffffffffffffffffull, 0xffd67dacfac1f355ull, 0x0008000000000001ull, 0x7fffffffffffffffull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5c743, 0x7ff6312300000000ull, 0xfff6312300000002ull, 0x13a53ac37d90ce93ull, 0xfffffffffffdfd95ull, 0, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xa0c58753, 0xffffffff7f2a246full, 0xffffffffff2a246full, 0xffffffff687fffffull, 0x000000000000005eull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x5805a753, 0xffffffff3c000000ull, 0x00000000bbffffffull, 0xffffffffff008000ull, 0x0000000080000000ull, 4, 0xffffffff3db504f3ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x08c5b753, 0xffffffff807fffffull, 0xffffffff007fffffull, 0xffffffff7e000000ull, 0x00000000ffffffffull, 1, 0xffffffff80fffffeull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x18c5c753, 0xffffffff7e7fffffull, 0xffffffffff400002ull, 0xffffffffbe1b0b93ull, 0xfffffffffffffffeull, 2, 0xffffffffbeaaaaa8ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x0ac5b753, 0x000fffffffffffffull, 0x3fbfffffffffffffull, 0x3ee8000000000003ull, 0xffffffffffffe587ull, 3, 0xbfbffffffffffffeull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x00c5a753, 0xffffffff22900000ull, 0xffffffff5fffffffull, 0xffffffff2cfffffcull, 0x0000000100000000ull, 2, 0xffffffff5fffffffull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c5974f, 0xffffffff7ecb5125ull, 0xfffffffffecb5125ull, 0xffffffff4030e81eull, 0x00000000043e662dull, 2, 0xffffffff7f7fffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x0ac59753, 0xdd1fffffffffffffull, 0x7fd0000000000000ull, 0x8000000000000000ull, 0x002a41dbfbb8878dull, 1, 0xffd0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x58059753, 0xffffffff2ec00000ull, 0xffffffffffffffffull, 0xffffffff81ffffffull, 0x00000000ffffffffull, 4, 0xffffffff371cc470ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x6ac5f747, 0xffc8000000000003ull, 0xbd30000000000000ull, 0x7fd0000000000000ull, 0xfffffffffd6e2c68ull, 0, 0xffcffffffffffe80ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x28c58753, 0xffffffff00fffffcull, 0xffffffff0015d000ull, 0xffffffff7e7fffffull, 0x00000234a0e036bfull, 3, 0xffffffff0015d000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c5f74f, 0xffffffffe3e29d43ull, 0xffffffff7f800002ull, 0xffffffff00800002ull, 0x00000054b6e3731aull, 1, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x20c5a753, 0xffffffff00000080ull, 0xffffffff007ffffcull, 0xffffffffcf7fffffull, 0xffffffff021b5c71ull, 4, 0xffffffff00000080ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x12c5b753, 0xffe0000000000000ull, 0x7fe00000ffffffffull, 0xffe0000000000000ull, 0x000000007fffffffull, 2, 0xffefffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x6ac5a747, 0x63baeaab5f55d000ull, 0x8000000000000000ull, 0xffdffffffffffffcull, 0x000000001d7747cdull, 3, 0x7fdffffffffffffcull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x02c5c753, 0x001d01379c8fa000ull, 0x801d01379c8fa000ull, 0x000fffffffffffffull, 0x0000000000000000ull, 3, 0x0000000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x20c5a753, 0xffffffff7e800200ull, 0xffffffffffc00001ull, 0xffffffff7f3641f1ull, 0x0020000000000001ull, 0, 0xfffffffffe800200ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xe0059753, 0xfffffffffe680000ull, 0xffffffff0033539bull, 0xffffffff88000000ull, 0x0000000100000000ull, 3, 0x5555555555555555ull, 0x0000000000000002ull, 0x00 },
	{ 0x6ac5b74b, 0x8010000000000000ull, 0x0010000000000001ull, 0x000757dbe5d0a77aull, 0x000000000000000bull, 4, 0x000757dbe5d0a77bull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x12c5a753, 0xbdb0000000000080ull, 0x001e633cb33410c1ull, 0x7fd0000000000000ull, 0x8000000000000000ull, 0, 0x800000000001e634ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x08c59753, 0xffffffff00800000ull, 0xffffffff374c3f5dull, 0x7b57dc9280801000ull, 0x0000ee63c602c935ull, 2, 0xffffffffb74c3f5cull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x6ac5c743, 0xd91fffffffffffffull, 0x591fffffffffffffull, 0x000ffffffffffffcull, 0x00004f9954ce83b6ull, 4, 0xf24ffffffffffffeull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc025a753, 0xffffffff7f97e000ull, 0xfffffffffe9df1e8ull, 0xffffffffe0000001ull, 0x0000000080000000ull, 3, 0x5555555555555555ull, 0x7fffffffffffffffull, 0x10 },
	{ 0xf0058753, 0xffffffff9b800800ull, 0xffffffff7ffd58f0ull, 0xffffffff0cea3cd4ull, 0x0020000000000001ull, 2, 0xffffffff00000001ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa2c58753, 0x7fdfffffffffffffull, 0xffcffffffffffffcull, 0x0030000000000000ull, 0xffffffff7fffffffull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0xf0058753, 0xffffffff3da00000ull, 0xffffffffbda00000ull, 0xffffffff7f431948ull, 0x00000000397a63c6ull, 0, 0xffffffff397a63c6ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc005a753, 0xffffffffcf000000ull, 0xffffffffffa8f400ull, 0xffffffff94c00002ull, 0x8000000000000000ull, 4, 0x5555555555555555ull, 0xffffffff80000000ull, 0x00 },
	{ 0x1ac5b753, 0xe219142b65200000ull, 0x001fffffffffffffull, 0x41f8000000000000ull, 0xfffef2c5a2e770bdull, 0, 0xffefffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x1ac5f753, 0x001fffffffffffffull, 0x80200000fffffffeull, 0x8002c40000000000ull, 0x0000000000000003ull, 1, 0xbfeffffe00002002ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xa2c5a753, 0xfff0000000000000ull, 0xfffcb00000000000ull, 0x82a37aeffeef91b3ull, 0x0020000000000001ull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x00 },
	{ 0x18c58753, 0xffffffffff800000ull, 0xffffffff7f800000ull, 0xffffffff7e000400ull, 0x8072ef6e1c5c71d9ull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x40158753, 0x8000000000000000ull, 0xffffffff7e6e436dull, 0xffffffff80c00002ull, 0xff4327d3c0a3e955ull, 4, 0xffffffff80000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x0ac59753, 0x0008000000000003ull, 0x0010000000000000ull, 0xc158000000000002ull, 0x00000000ffffffffull, 0, 0x8007fffffffffffdull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c5b74f, 0xffffffffff800000ull, 0xffffffff8c880000ull, 0xffffffff00000000ull, 0x000000000301519cull, 3, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa2c58753, 0x960fffffffffffffull, 0x8030000200000000ull, 0xfff2000000000000ull, 0xfffffffffffffc17ull, 0, 0x5555555555555555ull, 0x0000000000000001ull, 0x00 },
	{ 0x08c59753, 0xffffffff64800008ull, 0xffffffff000c8e9full, 0xffffffff802f598eull, 0x0020000000000001ull, 2, 0xffffffff64800007ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c5f743, 0xffffffff817ffffcull, 0xdbcc050d007e3d1bull, 0xffffffff5178d686ull, 0x0000000000000003ull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xf2058753, 0x7fd8000000000002ull, 0x0000000000008000ull, 0x000babdf139d3dc6ull, 0xffffa1ce2919e47dull, 1, 0xffffa1ce2919e47dull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c5f74f, 0xffffffff7e800000ull, 0xfffffffffe800000ull, 0xffffffffe2400001ull, 0x0000000000000000ull, 0, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x6ac5874b, 0x7fd8000000000002ull, 0xffd8000000000004ull, 0xcd68000000000001ull, 0x000000000771360eull, 2, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc235b753, 0x0002cda018bcddd9ull, 0x8002cda118bcddd7ull, 0xfff8000000000002ull, 0xfffffffffe7b72cfull, 0, 0x5555555555555555ull, 0x0000000000000001ull, 0x01 },
	{ 0x6ac5b743, 0x7ff8000000000000ull, 0xfff8000000000000ull, 0x8008000000000002ull, 0xffffffffffffe855ull, 1, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c5b74b, 0xffffffff81000000ull, 0xffffffff01000001ull, 0xffffffff33ffffffull, 0x8000000000000000ull, 2, 0xffffffff34000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x12c5a753, 0x7fe62eb6cdc8ccebull, 0x3ee8000000000002ull, 0x80090b0a842ffd5aull, 0xfffc4715a06a2f01ull, 4, 0x7ee0a3091a5699b1ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c58747, 0xfffffffffe7ffffeull, 0xffffffff01400002ull, 0xffffffffffffffffull, 0x000007e3d292b798ull, 0, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa2c58753, 0xfff9a503ab000000ull, 0xfffda62406db3e76ull, 0x0011d6a000000000ull, 0xffffffffffff354cull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x10c58753, 0xffffffff817ffffcull, 0xffffffffb4000000ull, 0xffffffffc6800800ull, 0x0000000002031619ull, 2, 0xffffffff00000004ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xd235f753, 0x7fe0000000008000ull, 0x800ccf0000000000ull, 0x6610000000000200ull, 0x0020000000000001ull, 3, 0x4340000000000001ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c5f74f, 0xffffffffff800001ull, 0xffffffff7f7ffffdull, 0xffffffff00080000ull, 0x092958467f5316ecull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x1ac5b753, 0xbe6a5ea11b1ab000ull, 0x7ffffffffffffffcull, 0x000ff9ea0066b7a0ull, 0x000084455504fc86ull, 3, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x02c5b753, 0x0f60a8e7ea76d8f2ull, 0x8f60a8e7ea76d8f2ull, 0x7fe0000000000000ull, 0x0d9cd92ac16b8f1cull, 4, 0x0000000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xe2059753, 0x8000000000000000ull, 0x7ffffffffffffffeull, 0xfff8000000000000ull, 0xfffffffffa1ca742ull, 4, 0x5555555555555555ull, 0x0000000000000008ull, 0x00 },
	{ 0xc015b753, 0x3f936f25fe7ffffeull, 0xffffffff35400002ull, 0xffffffffff780000ull, 0x000000000000000full, 1, 0x5555555555555555ull, 0xffffffffffffffffull, 0x10 },
	{ 0x6ac58743, 0xbb00000000000000ull, 0xffe8000000000002ull, 0x0001000000000000ull, 0x0000000000000001ull, 0, 0x7af8000000000002ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xe2059753, 0x418ffffffffffffdull, 0x8008000000000003ull, 0xfff4f406c7460000ull, 0xfffffffffe722a9aull, 1, 0x5555555555555555ull, 0x0000000000000040ull, 0x00 },
	{ 0xc0358753, 0xffffffffcf800000ull, 0xffffffff81f6f493ull, 0xffffffffadc00003ull, 0x0000000000000f8bull, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x4015c753, 0xbe78000000000000ull, 0xffffffff7fc00000ull, 0xffffffffffc00001ull, 0xffffffff80000000ull, 2, 0xffffffffb3c00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5c74b, 0x8000400000000000ull, 0x7fc2000000000000ull, 0x0c4fffffffffffffull, 0x00000000ffffffffull, 2, 0x3f82000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x00c59753, 0xffffffffa5020000ull, 0xffffffff00ff8000ull, 0xffffffffff400003ull, 0xfffffffffc8f0dafull, 0, 0xffffffffa501ffffull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c5a747, 0xffffffff015a5750ull, 0xffffffff7ffffffdull, 0xffffffffffffffffull, 0xffffccd734f05198ull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x2ac59753, 0x7ff5c6dba0000000ull, 0x001099ffc57bdcd0ull, 0x7fd8000000000002ull, 0xfffffffffa34e416ull, 1, 0x001099ffc57bdcd0ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x2ac59753, 0x7ff0000000000008ull, 0xffeb1d564d2039aeull, 0x0000000080000000ull, 0xffd7493a29151c0aull, 2, 0xffeb1d564d2039aeull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xa0c58753, 0xffffffffff000002ull, 0xffffffffff000002ull, 0xffffffff00c00003ull, 0x0000069b862982fbull, 4, 0x5555555555555555ull, 0x0000000000000001ull, 0x00 },
	{ 0x68c5874f, 0xffffffffff2739faull, 0xffffffff9aed8799ull, 0xfffffffffe800000ull, 0xffffffbf6881c597ull, 2, 0xffffffff7e800000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x68c58743, 0xffffffff00000000ull, 0xffffffff4a040000ull, 0xffffffff2dffffffull, 0x00000002a42b5fe1ull, 4, 0xffffffff2dffffffull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x28c59753, 0xffffffff7f800000ull, 0xffffffffff800001ull, 0xffffffff7ff9d2faull, 0x0000000001000001ull, 1, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x02c5a753, 0x801e3fe4498d1179ull, 0x9b20040000000000ull, 0xbdb5d12b22d63000ull, 0x0000000000000006ull, 0, 0x9b20040000000001ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc0259753, 0xfffffffffff21b1full, 0xffffffffff800200ull, 0xffffffffffc00001ull, 0xfffffffffffffea5ull, 0, 0x5555555555555555ull, 0x7fffffffffffffffull, 0x10 },
	{ 0xd215a753, 0x7ff8000000000003ull, 0x3ebffffffffffffeull, 0x000f3c6400000000ull, 0x000000000000000eull, 0, 0x402c000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xd235f753, 0x8008000000000001ull, 0xffffffffffffffffull, 0x0000000200000000ull, 0x00000000000000b1ull, 4, 0x4066200000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc215a753, 0x41296a0c80000000ull, 0xaee4000000000000ull, 0x8034000000000000ull, 0xffffffff80000000ull, 0, 0x5555555555555555ull, 0x00000000000cb506ull, 0x01 },
	{ 0x6ac58743, 0xbe48000000000001ull, 0x7ff08798dcd10000ull, 0x0028000000000003ull, 0xfffffffc6230476aull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xd215a753, 0x133097e74e79d07cull, 0xffe8000000000001ull, 0x801358d6380fe5eeull, 0xfffffffffffffff2ull, 0, 0x41effffffe400000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x00c5c753, 0xffffffff7f800000ull, 0xffffffffff800000ull, 0xffffffff7e7fffffull, 0x00000000ffffffffull, 1, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x12c5f753, 0xffc0000000000010ull, 0x8010080000000000ull, 0x3e1fffffffffffffull, 0xfffd28473660c749ull, 4, 0x3fe0080000000010ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xe0058753, 0xffffffff81800000ull, 0xffffffff811c7ddaull, 0xffffffff80000000ull, 0xfffffffffffffffeull, 3, 0x5555555555555555ull, 0xffffffff81800000ull, 0x00 },
	{ 0x4015c753, 0x20b0000000000008ull, 0xffffffff36c00001ull, 0xffffffffff7fffffull, 0x153a2c349fe4fd06ull, 4, 0xffffffff00000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xd005c753, 0xffffffff80400000ull, 0xffffffff00400000ull, 0xffffffff817fffffull, 0x0ba5ce675afc0630ull, 1, 0xffffffff4eb5f80cull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xd205a753, 0x22b3d43beecaabcaull, 0x8038000000000000ull, 0xffe0000000000000ull, 0x0000000080000000ull, 2, 0xc1e0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc205c753, 0xc3e0000000000000ull, 0x000ffffffffffffeull, 0x8020000100000000ull, 0xfffffff879e516fdull, 3, 0x5555555555555555ull, 0xffffffff80000000ull, 0x10 },
	{ 0x68c5a74b, 0xffffffffffc00002ull, 0x77a8b34001010000ull, 0xffffffff7fc00000ull, 0x000000000000048cull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x1ac58753, 0x80100da800000000ull, 0x41e8000000000001ull, 0x403bace6db36ef56ull, 0x000000007fffffffull, 2, 0x800000000015678bull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xa0c59753, 0x0af63e4c00d40000ull, 0x0af63e4c00d40000ull, 0xffffffffe0800200ull, 0x05ec19f93e55e5e8ull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x12c5a753, 0x7ff9457eb52c3265ull, 0x0008000000000000ull, 0x001ffffffffffffdull, 0x00000000000ded89ull, 2, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5b74f, 0x67a8000000000002ull, 0xffdfffffffffffffull, 0x8000cfbd6cca703eull, 0xffffff871a95a24full, 1, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc235c753, 0xbfd0000000000000ull, 0x7ff8000000000002ull, 0x2390180bf51ef374ull, 0xfffffffffffffff8ull, 1, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0x5a05c753, 0x8028000000000000ull, 0x4150000000000000ull, 0x800a9919b058a98cull, 0xfffffffffffffffeull, 0, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x6ac5f74b, 0x7fd8000000000001ull, 0xffd8000000000001ull, 0x0008000000000001ull, 0x0000000000071755ull, 2, 0x7fefffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xd0358753, 0xffffffff7fc00002ull, 0xffffffff48400001ull, 0xffffffffb8040000ull, 0x0000000000030c32ull, 0, 0xffffffff48430c80ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x28c59753, 0xffffffff7f7fffffull, 0xffffffffffb65c00ull, 0xffffffff80c00003ull, 0x0000000080000000ull, 3, 0xffffffff7f7fffffull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x5a05c753, 0x8030000000000400ull, 0x7fffffffffffffffull, 0xfff9fdce6ac914b9ull, 0x0020000000000001ull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xa2c58753, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x3e8fffffffffffffull, 0x0000000000000004ull, 1, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x68c5b74b, 0xffffffffff801000ull, 0xffffffff01cad480ull, 0xfffffffffa000000ull, 0xfffffffffe2f8d77ull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc215f753, 0xc000000000000000ull, 0xfb10000000000000ull, 0xfff0000000000000ull, 0xe70a8772405358abull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x10c58753, 0xffffffff80000400ull, 0xffffffff017ffffcull, 0xffffffff80000004ull, 0x0000000000000000ull, 0, 0xffffffff80000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x6ac5c74b, 0x8000000000000000ull, 0x25130486cc039e11ull, 0x3fa8000000000001ull, 0x0000000000000010ull, 1, 0x3fa8000000000001ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x28c58753, 0xaa5e5b1d2f02aa80ull, 0xffffffffffa9c400ull, 0xffffffff00400000ull, 0x0000037fa173d785ull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc025a753, 0xffffffff007fffffull, 0xffffffffa7ffa4b0ull, 0xffffffff7ec3deb6ull, 0x0000000000000003ull, 1, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0xa2c59753, 0xfff9e00000000000ull, 0xfb14f83b77152000ull, 0xce6b96efde00be3cull, 0x0000000004a45f3cull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x40158753, 0xffec75bc8038a300ull, 0xffffffffd0443f9eull, 0xffffffff01c00003ull, 0xfffff992901e374dull, 0, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x68c5f74b, 0x02377428ff8e2cffull, 0x023774287f8e2cffull, 0xffffffff007fffffull, 0x439f2e6c2d750630ull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5f743, 0xfcf8000000000002ull, 0x7cf8000000000002ull, 0xffdd6ac1515a9220ull, 0xffffffffffda814aull, 4, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xa0c5a753, 0xffffffffff900000ull, 0xffffffffff900000ull, 0xec98df25fe7fffffull, 0x0000000000b73143ull, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x68c5b747, 0xffffffff007fffffull, 0xffffffff807fffffull, 0xffffffff00000002ull, 0xf9ef4f0d5ae55c37ull, 2, 0xffffffff80000002ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x10c58753, 0xffffffff3d000400ull, 0xffffffffbd000400ull, 0xffffffffffffffffull, 0xe03990c72a96ce33ull, 0, 0xffffffffba800800ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc0258753, 0xffffffff4f000000ull, 0xffffffff807ffffdull, 0xffffffffffffffffull, 0xffffffff80000000ull, 1, 0x5555555555555555ull, 0x0000000080000000ull, 0x00 },
	{ 0x68c5974f, 0xffffffff7effffffull, 0xffffffff00834bb3ull, 0xffffffff11ffffffull, 0xfff1a7385f0120a8ull, 3, 0xffffffffc0034bb2ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xd0259753, 0xffffffff803ceb95ull, 0xffffffffc5800000ull, 0xffffffff7f804000ull, 0x00000193b0579546ull, 2, 0xffffffff53c9d82bull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x18c58753, 0xfffffffffeffffffull, 0xffffffff007ffffcull, 0xffffffff2def0de0ull, 0x0001fa9d472bb579ull, 0, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x6ac5a743, 0x7fcfffffffffffffull, 0xffcfffffffffffffull, 0x41affffffffffffcull, 0xfffffffb144300baull, 0, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x68c5874b, 0xffffffffffc00003ull, 0xffffffff7fc00003ull, 0xffffffffffbfffffull, 0x0000000080000000ull, 2, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc215a753, 0x8018000000000000ull, 0x0018000000000001ull, 0x0020000000000004ull, 0xffffffff80000000ull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x1ac59753, 0x0030000000000000ull, 0x7ff0000400000000ull, 0x7ffea1bccfddef14ull, 0xfffffffffd06ec9aull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc205c753, 0x4020000000000000ull, 0x8000000000000000ull, 0xffdffffffffffffcull, 0x0000000000000002ull, 2, 0x5555555555555555ull, 0x0000000000000008ull, 0x00 },
	{ 0x10c58753, 0xffffffff007ffffdull, 0xffffffff6217c220ull, 0xffffffff7effffffull, 0x034ae24e0ee0ca8full, 4, 0xffffffff2317c21cull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x0ac5c753, 0x802f3b4f00000000ull, 0xfff0010000000000ull, 0xe080200000000000ull, 0xfffffff810f5d11dull, 0, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x4015a753, 0x7ff06a24ec272500ull, 0xffffffff81004000ull, 0xffffffff7fc00002ull, 0x0000000000000092ull, 0, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x5a05c753, 0x0010000000000001ull, 0x8010000100000000ull, 0x7ecffffffffffffeull, 0xfff1197c66fe913aull, 2, 0x2000000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc025b753, 0xffffffff40d80000ull, 0xffffffff66800000ull, 0xffffffffad400000ull, 0xffff662f20bcd2edull, 1, 0x5555555555555555ull, 0x0000000000000007ull, 0x01 },
	{ 0x68c59743, 0xffffffff817fffffull, 0xffffffff407fffffull, 0xffffffff027ffffdull, 0x0000000007dc8685ull, 4, 0xffffffff80000008ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xc0358753, 0xffffffffca7ffffdull, 0xffffffff4a7ffffdull, 0xffffffff38008000ull, 0xfffffffffffff6fbull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0xa0c5a753, 0xffffffff80800000ull, 0xffffffffff8c8000ull, 0xffffffffd3500000ull, 0xfffffffffffffffeull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x40159753, 0x4150000000000010ull, 0xffffffffe626d400ull, 0xffffffffffc00000ull, 0x000000000fbb1eebull, 3, 0xffffffff4a800000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xd035c753, 0xffffffffff800004ull, 0xffffffffff400001ull, 0xffffffffff000000ull, 0x00000000ffffffffull, 0, 0xffffffff4f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x6ac5f74f, 0x8008000000000000ull, 0x3738000000000000ull, 0x800ffffffffffffcull, 0x0020000000000001ull, 0, 0x000ffffffffffffcull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x68c58743, 0xffffffff7effffffull, 0xfffffffffeffffffull, 0xffffffffabf3d451ull, 0xfffffffffffffe37ull, 3, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x00c59753, 0xd1a766357f000800ull, 0xffffffff7f800400ull, 0xffffffff7effffffull, 0x00001a0764926af9ull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x12c58753, 0x8028000000000000ull, 0x3e3fffffffffffffull, 0xbdf0000000000000ull, 0xffd8cfed89c4d9b6ull, 3, 0x8000000006000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x1ac5c753, 0x8032e4bd19459420ull, 0x886fffffffffffffull, 0xddafffffffffffffull, 0xfffffffffffffffeull, 3, 0x37b2e4bd19459421ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc215b753, 0x0f00000080000000ull, 0x8f00000080000000ull, 0x8000000000000000ull, 0x000000000000e4d2ull, 1, 0x5555555555555555ull, 0x0000000000000001ull, 0x01 },
	{ 0x18c5b753, 0xffffffffffab862eull, 0xffffffffa3840000ull, 0xffffffff3bc00000ull, 0x0000000000009ca7ull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x2ac58753, 0xfff332c4d5d82b55ull, 0x7ff332c4d5d82b55ull, 0xffe0000000000000ull, 0xfffffffffffffffeull, 3, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x6ac5c747, 0x7fcfffffffffffffull, 0xffffffffffffffffull, 0xfff3f70a978fce87ull, 0x000000e79773c88cull, 3, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc2258753, 0x412e847f00000000ull, 0xfff5978000000000ull, 0x7fcfffffffffffffull, 0xffffffffffd67234ull, 4, 0x5555555555555555ull, 0x00000000000f4240ull, 0x01 },
	{ 0xd0359753, 0xffffffffcf001000ull, 0xffffffff007ffffeull, 0xffffffff80c00001ull, 0x0000000000000000ull, 2, 0xffffffff00000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xa2c5a753, 0xc260000000000000ull, 0x7ff5f40000000000ull, 0x8000800000000000ull, 0xfffffffffffffff6ull, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x6ac5a74f, 0xfffffffffffffffeull, 0x7ff0004000000000ull, 0x7ff0080000000000ull, 0xffffffddb3c06c8eull, 1, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc2259753, 0x412e848000000000ull, 0xfffffffffffffffeull, 0xffc8000000000001ull, 0xffffffffeb00b8d5ull, 0, 0x5555555555555555ull, 0x00000000000f4240ull, 0x00 },
	{ 0xc225a753, 0x803fffffffffffffull, 0x8038000000000001ull, 0x8c06b07c00000000ull, 0x000000000000001cull, 3, 0x5555555555555555ull, 0xffffffffffffffffull, 0x01 },
	{ 0xc225f753, 0x4c9fffffffffffffull, 0x7fdffffffffffffdull, 0x0028000000000001ull, 0x00e33474c82e21d2ull, 0, 0x5555555555555555ull, 0x7fffffffffffffffull, 0x10 },
	{ 0x4205f753, 0xffffffffff800080ull, 0x1222000000000000ull, 0xffc720f1bebe2000ull, 0xffff7fe26b2df3e2ull, 2, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x10c5a753, 0xffffffff7ec00001ull, 0xffffffffff81910bull, 0xffffffff81c00000ull, 0x0000000000006e32ull, 0, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x68c59747, 0xffffffff5a334000ull, 0xffffffffff8ad415ull, 0xfffffffffe000000ull, 0x00000000021c1d0bull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xa2c59753, 0xfffffffffffffffcull, 0xa96169dd302198baull, 0xffcd8c62e2dfa20dull, 0xffffffffffff9458ull, 4, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0xc005c753, 0x59dd835f007fffffull, 0xffffffff7fb058abull, 0xffffffff81e70589ull, 0xffffffffffffb161ull, 1, 0x5555555555555555ull, 0x000000007fffffffull, 0x10 },
	{ 0xc205b753, 0xb07fffffffffffffull, 0xffc352a45121acc9ull, 0x7fc552e29594c786ull, 0x0000000000000000ull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0xc2359753, 0x7fe0000000008000ull, 0xffe0000000008000ull, 0x7fd0000000000000ull, 0x0000000000000000ull, 2, 0x5555555555555555ull, 0xffffffffffffffffull, 0x10 },
	{ 0x5a058753, 0x7ff8000000000001ull, 0xfff80000ffffffffull, 0x7fe0000000000000ull, 0x0000000001000001ull, 0, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xd235b753, 0x800ffffffffffffcull, 0xfad0000000000000ull, 0x7d1ffffffffffffcull, 0x0000000019e81dd5ull, 1, 0x41b9e81dd5000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc205b753, 0x803a5cdf883f780aull, 0x3edb3968791e0bc0ull, 0x8010000000000000ull, 0x000000002fbb4e53ull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0x1ac59753, 0xfb810132cfedb528ull, 0x0018000000000002ull, 0x80178e08ab347858ull, 0x0000000080000000ull, 1, 0xffefffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc025f753, 0xffffffffcf800000ull, 0xffffffffffa70670ull, 0xffffffff01ab0000ull, 0x0000006a73861961ull, 3, 0x5555555555555555ull, 0xffffffff00000000ull, 0x00 },
	{ 0x18c5f753, 0xfffffffffecd9586ull, 0xffffffff006f73f2ull, 0xffffffffb8a00000ull, 0xffffffff7fffffffull, 3, 0xffffffffff7fffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x0ac59753, 0x8000000000002000ull, 0xfff0000000000040ull, 0x5d18000000000000ull, 0xffffffffffff939cull, 3, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc015f753, 0xffffffffbf000000ull, 0xffffffffb7010000ull, 0xffffffff7e000000ull, 0x0000000000000003ull, 1, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0x6ac5b74f, 0x7fd0000000000000ull, 0x405c20d63dbdd992ull, 0x000fb5a7043babc3ull, 0x000000bc11a4d490ull, 1, 0xffefffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x4015f753, 0xbde2cc2cac94734aull, 0xffffffffffc00001ull, 0xfffffffff5fffffdull, 0x000000000000755dull, 3, 0xffffffffaf166165ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xd005c753, 0xffffffffff800000ull, 0xffffffff7f800000ull, 0xffffffff80000007ull, 0x000000007fffffffull, 2, 0xffffffff4f000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc005b753, 0xffffffff47200000ull, 0xffffffff81861520ull, 0xfffffffffe000040ull, 0x0000000000000000ull, 2, 0x5555555555555555ull, 0x000000000000a000ull, 0x00 },
	{ 0x28c58753, 0xffffffff00000010ull, 0xffffffffffafd5a3ull, 0xfffffffffe800000ull, 0xfffffffffffffff8ull, 2, 0xffffffff00000010ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x6ac5a747, 0xffc0000800000000ull, 0x7fc0000800000000ull, 0xc23ac730fa9b52b7ull, 0x0000000000000684ull, 1, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x12c5c753, 0x7fe1ebe210dc44bdull, 0xf35fffffffffffffull, 0x7fd91d3dda9fa619ull, 0x0000000000000620ull, 4, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x6ac5c747, 0xf8efffffffffffffull, 0x7fe0000000000800ull, 0xffc0000000000000ull, 0x0000000ce295c8fdull, 4, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc2059753, 0x4018000000000000ull, 0x7ffffffffffffffcull, 0x8007700000000000ull, 0x0000000000000000ull, 3, 0x5555555555555555ull, 0x0000000000000006ull, 0x00 },
	{ 0x68c5b747, 0xffffffff7f800000ull, 0xffffffffff820000ull, 0xffffffffffc00001ull, 0x7ba228bce585b62aull, 1, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x68c5a743, 0xffffffff00ffffffull, 0xffffffff807fffffull, 0xffffffff007ffffcull, 0xffffffff80000000ull, 0, 0xffffffff007ffffbull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x08c5b753, 0xffffffff7f400000ull, 0xfffffffffec00001ull, 0xffffffff2d7fffffull, 0x0000002d3d3555ddull, 1, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xd0358753, 0xffffffff817ffffeull, 0xffffffff81fffffdull, 0xffffffff7fffffffull, 0x7fffffffffffffffull, 3, 0xffffffff5f000000ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc225a753, 0x7fc1b9983b46baeeull, 0x00040e6f49d87900ull, 0x7fd8000000000003ull, 0x0000000000000135ull, 1, 0x5555555555555555ull, 0x7fffffffffffffffull, 0x10 },
	{ 0xd0159753, 0xffffffff7e000000ull, 0xffffffff32d57280ull, 0x7d99dbd549400003ull, 0x8000000000000000ull, 2, 0xffffffff00000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5c747, 0x800fffffffffffffull, 0x0010000000000000ull, 0x0000000000000002ull, 0xfc591713b2584a9aull, 2, 0x8000000000000002ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x68c5974f, 0xffffffff80000002ull, 0xffffffff00fffffeull, 0xffffffff00800000ull, 0x0000000000000001ull, 0, 0xffffffff807fffffull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xc035f753, 0xffffffff807ffffdull, 0x00000000007ffffcull, 0xffffffff7f900000ull, 0x000000000002f249ull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0xc0059753, 0xffffffff01fffffdull, 0xffffffffa5000000ull, 0xfffffffffe7ffffdull, 0x7fffffffffffffffull, 2, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0xc035a753, 0xffffffff5f000000ull, 0xffffffff003c4b9cull, 0xffffffff4f7ffffcull, 0x0000000000004882ull, 0, 0x5555555555555555ull, 0x8000000000000000ull, 0x00 },
	{ 0x6ac5874f, 0x7ab0000000000000ull, 0xfab0000000000000ull, 0x7ff0000000000001ull, 0xfffffffffffffffeull, 1, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x6ac5a747, 0x7ff2fc8000000000ull, 0xc1b0000000400000ull, 0xc340000000000000ull, 0xfffffff9f0f3c81bull, 1, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x6ac5a743, 0x0010d0f6bcb20000ull, 0x8010d0f7bcb1fffeull, 0x00000000fffffffeull, 0x0000000000000001ull, 0, 0x00000000fffffffdull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xc005c753, 0xffffffffb4eefc80ull, 0xffffffff807ffffcull, 0xffffffff00004000ull, 0xffffffffecedc336ull, 3, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0xc2259753, 0xc1f0000000100000ull, 0xbfd0040000000000ull, 0x803fffffffffffffull, 0x000000000000000dull, 0, 0x5555555555555555ull, 0xfffffffeffffffffull, 0x00 },
	{ 0x68c5b74f, 0xffffffff817f8580ull, 0xffffffff2bffffffull, 0xffffffff807ffffeull, 0x0000000000000001ull, 2, 0xffffffff007fffffull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x6ac5b747, 0x0030200000000000ull, 0x3f2fffffffffffffull, 0x000ffffffffffffeull, 0xfffffffff43dce5cull, 0, 0x800ffbf7fffffffeull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x6ac59743, 0x8008000000000002ull, 0x9d8f880000000000ull, 0x8000000000000002ull, 0xffffffffff664a35ull, 1, 0x8000000000000001ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xd005a753, 0xffffffff456002ecull, 0xffffffff001b69ceull, 0xffffffff0064ffaeull, 0xffffffffffffe4fbull, 0, 0xffffffffc5d82800ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x08c5b753, 0xffffffff7f7fffffull, 0xffffffffacffffffull, 0xfffffffffffffffeull, 0xfffeada4837c7cecull, 0, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc035c753, 0xffffffff3e800000ull, 0x35336ec4fe17a00cull, 0xfffffffffec00001ull, 0x000000005d517360ull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x01 },
	{ 0x58059753, 0x4a4f846effffffffull, 0x4a4f846e80000001ull, 0xd77e4f4280000004ull, 0x0020000000000001ull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xd015a753, 0xffffffff4a400000ull, 0xffffffff7ff5aae6ull, 0xffffffffbbfb45c0ull, 0x0000000000000002ull, 1, 0xffffffff40000000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x2ac58753, 0x7ff7260500f7a1bdull, 0xc22fffffffffffffull, 0x11d85c6c8ea696f9ull, 0x0000000080000000ull, 4, 0xc22fffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xc205a753, 0xfff75c8633956c58ull, 0x4165726768791a8cull, 0x80006cd4c889c03cull, 0xfffffffffff31d4eull, 4, 0x5555555555555555ull, 0x000000007fffffffull, 0x10 },
	{ 0x08c58753, 0xffffffffff8a0ce0ull, 0xffffffff7ea1c000ull, 0xffffffff7ffffffdull, 0x00000000000007ffull, 0, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x18c58753, 0xffffffff00c00003ull, 0xffffffff80000000ull, 0xffffffff81dddf40ull, 0x000000007fffffffull, 0, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x08 },
	{ 0x10c58753, 0xffffffff4f000000ull, 0xffffffffff000000ull, 0xffffffff7f800010ull, 0xfffffffffffffffcull, 4, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xd235a753, 0x001d41b8d668698cull, 0xffdffffffffffffeull, 0x801ffffffffffffeull, 0xffffffff7fffffffull, 3, 0x43efffffffefffffull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x1ac5f753, 0x0000000020000000ull, 0x0000000000000000ull, 0x8027800000000000ull, 0xffffffffcc57ad42ull, 4, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x08 },
	{ 0x12c5b753, 0xfff0000010000000ull, 0x7110000000000000ull, 0x001fffffffffffffull, 0x1aed9e2d94f8bcf9ull, 1, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x10c5a753, 0xffffffffff470480ull, 0xffffffff7f470480ull, 0x969eac218056e8ddull, 0xfffffffffffffffdull, 0, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x68c59747, 0xffffffff00da33d8ull, 0xffffffff80da33d8ull, 0xffffffff00000001ull, 0xffffffffffffffc4ull, 2, 0xffffffff80000001ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x08c5a753, 0xffffffff7f87f200ull, 0xffffffff7f613d93ull, 0xfffffffffe609aa2ull, 0x00001dcf3597b698ull, 3, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x68c5c74b, 0xffffffffff000002ull, 0xffffffff7f000002ull, 0xffffffffb2000000ull, 0xffffffffaea11235ull, 4, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x68c5874b, 0xffffffffc3929f2eull, 0xffffffff7e801000ull, 0xffffffffc3000400ull, 0xfffff4c3b63a2269ull, 1, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xd0158753, 0xffffffff3d810000ull, 0xffffffff817ffffeull, 0xfffffffffe302600ull, 0x000000382dd50755ull, 4, 0xffffffff4e37541dull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0x02c5f753, 0xfff2e7a724a00000ull, 0x7ff2e7a724a00000ull, 0xffe2000000000000ull, 0x032f73e92852b71bull, 2, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x12c59753, 0x7ff445404e248946ull, 0xfff445404e248946ull, 0x1b5fffffffffffffull, 0xfffe8391f9eee1c0ull, 2, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x02c59753, 0xfff33274ea03b813ull, 0x7fe0800000000000ull, 0xffe0000000000000ull, 0x0000000000c83c61ull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0xa2c5a753, 0xfff0000040000000ull, 0x400a37794749fe27ull, 0xffeffffffffffffeull, 0x00000000ffffffffull, 0, 0x5555555555555555ull, 0x0000000000000000ull, 0x10 },
	{ 0x68c5974b, 0xffffffffb7e8fb7dull, 0xffffffff80400002ull, 0xffffffff80000074ull, 0x0000000000000001ull, 2, 0xffffffff800000e8ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xd005f753, 0xffffffff81c00003ull, 0x0000000001c00001ull, 0xffffffff7ffffffdull, 0xffffffffffffffffull, 2, 0xffffffffbf800000ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0xc235c753, 0x41efffffffc00000ull, 0x802ffffffffffffcull, 0x0004295b71a337ccull, 0x0000000000000002ull, 0, 0x5555555555555555ull, 0x00000000fffffffeull, 0x00 },
	{ 0xd0258753, 0xffffffff6a000000ull, 0xffffffffea000001ull, 0xffffffff7fffffffull, 0x000000000000f047ull, 1, 0xffffffff47704700ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x68c5a74b, 0xffffffff007fffffull, 0xffffffff01ffffffull, 0xffffffff80000000ull, 0x00000000000004a8ull, 4, 0xffffffff80000001ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x68c5a747, 0xffffffff7e000000ull, 0xfffffffffe000002ull, 0xffffffff00800000ull, 0xffffffffffd9c9a9ull, 0, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc235f753, 0x41efffffffc00000ull, 0x000601b20b77e7b0ull, 0x7ff8000000000002ull, 0x0000000100000000ull, 3, 0x5555555555555555ull, 0x00000000fffffffeull, 0x00 },
	{ 0x1ac59753, 0x800fffffffffffffull, 0xc7387abed5a29000ull, 0x4310004000000000ull, 0x7fffffffffffffffull, 1, 0x0000000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0xd225b753, 0x8000c0fc48b98315ull, 0x0000c0fc48b98315ull, 0xfffea4b1fd4ff5e6ull, 0x0ddbb151f200fc26ull, 3, 0x43abb762a3e401f9ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xd0258753, 0xffffffff8021e03dull, 0x000000000021e03bull, 0xffffffffff800000ull, 0x0000000000003c02ull, 2, 0xffffffff46700800ull, 0xaaaaaaaaaaaaaaaaull, 0x00 },
	{ 0x6ac5974b, 0x8020000000100000ull, 0x80047a3ae9e73eb5ull, 0x8000000000000000ull, 0xffffffff7fffffffull, 3, 0x8000000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x18c58753, 0xffffffffb9fffffdull, 0xffffffff80000000ull, 0xffffffff83800002ull, 0x0020000000000001ull, 3, 0xffffffff7f800000ull, 0xaaaaaaaaaaaaaaaaull, 0x08 },
	{ 0x4205f753, 0xffffffff7f800100ull, 0x00079e17da00625dull, 0x8008000000000000ull, 0x000c45e3e773b03bull, 4, 0x7ff8000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x68c58747, 0xffffffff7e7fffffull, 0xffffffffcca00000ull, 0xffffffff7f7fffffull, 0x7fffffffffffffffull, 1, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x18c5a753, 0xffffffff00cb1db0ull, 0xffffffff7f000000ull, 0xffffffff814e97a5ull, 0x0000000000000053ull, 2, 0xffffffff00000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x10c59753, 0xffffffffff800010ull, 0xffffffff02c00000ull, 0xffffffffffffffffull, 0xffffffe1ed463c0bull, 4, 0xffffffff7fc00000ull, 0xaaaaaaaaaaaaaaaaull, 0x10 },
	{ 0x18c59753, 0xffffffff008afe6cull, 0xffffffff4bffffffull, 0xffffffff4a820000ull, 0x00000042ca317645ull, 0, 0xffffffff00000000ull, 0xaaaaaaaaaaaaaaaaull, 0x03 },
	{ 0x1ac5b753, 0x7fd1000000000000ull, 0x0000000000000000ull, 0x7ff80cfac6c67500ull, 0xfffffffff9d19f55ull, 4, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x08 },
	{ 0xc0158753, 0xffffffff4f000000ull, 0xffffffff00c00000ull, 0xffffffff007ffffcull, 0x00000000043cc293ull, 4, 0x5555555555555555ull, 0xffffffff80000000ull, 0x00 },
	{ 0xd225c753, 0xc08ffffffffffffdull, 0x408ffffffffffffdull, 0xffc925666e806ac1ull, 0x1796e770eda8b8d7ull, 3, 0x43b796e770eda8b9ull, 0xaaaaaaaaaaaaaaaaull, 0x01 },
	{ 0xc2159753, 0x4000000000000000ull, 0x803ffffffffffffcull, 0x000fc04000000000ull, 0x0020000000000001ull, 0, 0x5555555555555555ull, 0x0000000000000002ull, 0x00 },
	{ 0xc035f753, 0xffffffff4640e000ull, 0xffffffff81800000ull, 0xffffffff3e484000ull, 0x0000000000000022ull, 0, 0x5555555555555555ull, 0x0000000000003038ull, 0x00 },
	{ 0x0ac5c753, 0x7fe0000000040000ull, 0xffe2000000000000ull, 0x0000000000000000ull, 0x0000000000838c45ull, 2, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc215c753, 0x4018000000000000ull, 0xc440000000040000ull, 0xbe80543df209cef5ull, 0x0000000000000001ull, 0, 0x5555555555555555ull, 0x0000000000000006ull, 0x00 },
	{ 0x02c5a753, 0xffefffffffffffffull, 0xffc56a4071000000ull, 0x7ff8000000000000ull, 0x0000000000000002ull, 2, 0xfff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0xc0159753, 0xffffffff497423f0ull, 0xffffffff2c800400ull, 0xffffffffff400000ull, 0xedf4e73a49a4b5afull, 2, 0x5555555555555555ull, 0x00000000000f423full, 0x00 },
	{ 0x0ac58753, 0x7fea0ace54000000ull, 0xffea0ace54000000ull, 0xc0c54e7ee8f8e61bull, 0x0000000080000000ull, 3, 0x7ff0000000000000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x02c59753, 0xffe8000000000003ull, 0xffe0100000000000ull, 0x0010000000000000ull, 0x00000000ffffffffull, 0, 0xffefffffffffffffull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
	{ 0x00c5a753, 0xffffffffff7fffffull, 0xfffffffffe7fffffull, 0xffffffff7f800000ull, 0xfffffffc375ac615ull, 0, 0xffffffffff800000ull, 0xaaaaaaaaaaaaaaaaull, 0x05 },
};

#endif
