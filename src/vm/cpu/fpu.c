/* F and D extensions (RISC-V unprivileged ISA, ch. 11 "F", ch. 12 "D").
 *
 * Software floating point in integer arithmetic, so that every result and
 * every flag follows the RISC-V spec and not the host FPU: rounding modes
 * including RMM (no host has it), tininess detected after rounding, canonical
 * NaNs, saturating conversions. The host's fenv is never touched.
 *
 * Internal form of a finite non-zero number: value = sig / 2^62 * 2^exp with
 * sig normalized so that bit 62 is its leading one (bit 63 is headroom). The
 * bits below the format's precision are round/sticky bits; shifts that drop
 * bits "jam" them into bit 0, which keeps rounding exact as long as at least
 * two such bits remain (S keeps 39, D keeps 10).
 */
#include "vm/cpu/fpu.h"

#include <stdbool.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 u128;

/* The helpers take the format as a pointer to one of two constants; forcing
 * them inline into the two specialised copies of exec_fmt() lets the compiler
 * fold the format's fields (about 1.5x faster than a generic version). */
#define FP_INLINE static inline __attribute__((always_inline))

enum { RM_RNE = 0, RM_RTZ = 1, RM_RDN = 2, RM_RUP = 3, RM_RMM = 4, RM_DYN = 7 };

struct ffmt {
	int mbits; /* stored fraction bits */
	int ebits; /* exponent bits */
	int bias;
	uint64_t qnan; /* canonical NaN (§11.3) */
};

static const struct ffmt fmt_s = {23, 8, 127, 0x7fc00000u};
static const struct ffmt fmt_d = {52, 11, 1023, 0x7ff8000000000000ull};

enum fclass { FN_ZERO, FN_FINITE, FN_INF, FN_QNAN, FN_SNAN };

struct fnum {
	enum fclass cls;
	bool sign;
	int exp;
	uint64_t sig;
};

#define BOX_S 0xffffffff00000000ull

static inline bool is_nan(const struct fnum *a)
{
	return a->cls == FN_QNAN || a->cls == FN_SNAN;
}

static inline uint64_t shr_jam64(uint64_t v, unsigned n)
{
	if (n == 0)
		return v;
	if (n >= 64)
		return v != 0;
	return (v >> n) | ((v << (64 - n)) != 0);
}

static inline u128 shr_jam128(u128 v, unsigned n)
{
	if (n == 0)
		return v;
	if (n >= 128)
		return v != 0;
	return (v >> n) | ((v << (128 - n)) != 0);
}

static inline int clz128(u128 v)
{
	uint64_t hi = (uint64_t)(v >> 64);
	if (hi)
		return __builtin_clzll(hi);
	return 64 + __builtin_clzll((uint64_t)v);
}

FP_INLINE uint64_t sign_bit(const struct ffmt *f, bool sign)
{
	return (uint64_t)sign << (f->mbits + f->ebits);
}

FP_INLINE uint64_t pack_inf(const struct ffmt *f, bool sign)
{
	return sign_bit(f, sign) | ((((uint64_t)1 << f->ebits) - 1) << f->mbits);
}

FP_INLINE uint64_t pack_zero(const struct ffmt *f, bool sign)
{
	return sign_bit(f, sign);
}

/* Reads a register as format f: a single whose upper half is not all ones
 * is not a valid NaN-boxed value and reads as the canonical NaN (§12.2). */
FP_INLINE uint64_t read_reg(const struct ffmt *f, uint64_t r)
{
	if (f == &fmt_s)
		return (r & BOX_S) == BOX_S ? (r & 0xffffffffu) : fmt_s.qnan;
	return r;
}

FP_INLINE uint64_t box(const struct ffmt *f, uint64_t bits)
{
	return f == &fmt_s ? (bits | BOX_S) : bits;
}

FP_INLINE struct fnum unpack(const struct ffmt *f, uint64_t bits)
{
	struct fnum a;
	uint64_t emask = ((uint64_t)1 << f->ebits) - 1;
	uint64_t frac = bits & (((uint64_t)1 << f->mbits) - 1);
	uint64_t e = (bits >> f->mbits) & emask;
	a.sign = (bits >> (f->mbits + f->ebits)) & 1;
	a.exp = 0;
	a.sig = 0;
	if (e == emask) {
		if (frac == 0)
			a.cls = FN_INF;
		else
			a.cls = (frac >> (f->mbits - 1)) & 1 ? FN_QNAN : FN_SNAN;
	} else if (e == 0) {
		if (frac == 0) {
			a.cls = FN_ZERO;
		} else {
			int lz;
			a.cls = FN_FINITE;
			a.sig = frac << (62 - f->mbits);
			lz = __builtin_clzll(a.sig);
			a.sig <<= lz - 1;
			a.exp = 1 - f->bias - (lz - 1);
		}
	} else {
		a.cls = FN_FINITE;
		a.sig = ((uint64_t)1 << 62) | (frac << (62 - f->mbits));
		a.exp = (int)e - f->bias;
	}
	return a;
}

/* Whether to add one unit in the last place, given the discarded bits r
 * (half is the weight of the first discarded bit). */
FP_INLINE bool round_up(int rm, bool sign, bool odd, uint64_t r, uint64_t half)
{
	switch (rm) {
	case RM_RNE: return r > half || (r == half && odd);
	case RM_RMM: return r >= half;
	case RM_RDN: return sign && r;
	case RM_RUP: return !sign && r;
	default: return false;
	}
}

/* Rounds sign * sig/2^62 * 2^exp (sig != 0, any normalization) to format f
 * and accrues NX/UF/OF. Tininess is detected after rounding (§11.2: "tininess
 * is detected after rounding"); UF is raised only when also inexact. */
FP_INLINE uint64_t round_pack(const struct ffmt *f, bool sign, int exp, uint64_t sig, int rm, uint8_t *flags)
{
	const int shift = 62 - f->mbits;
	const uint64_t mask = ((uint64_t)1 << shift) - 1;
	const uint64_t half = (uint64_t)1 << (shift - 1);
	const int emax = (1 << f->ebits) - 1;
	uint64_t q, r;
	int e;

	if (sig >> 63) {
		sig = (sig >> 1) | (sig & 1);
		exp++;
	} else {
		int lz = __builtin_clzll(sig);
		sig <<= lz - 1;
		exp -= lz - 1;
	}
	e = exp + f->bias;
	if (e >= 1) {
		q = sig >> shift;
		r = sig & mask;
		q += round_up(rm, sign, q & 1, r, half);
		if (q >> (f->mbits + 1)) {
			q >>= 1;
			e++;
		}
		if (e >= emax) {
			bool to_inf =
			    rm == RM_RNE || rm == RM_RMM || (rm == RM_RDN && sign) || (rm == RM_RUP && !sign);
			*flags |= FFLAG_OF | FFLAG_NX;
			return to_inf ? pack_inf(f, sign) : pack_inf(f, sign) - 1;
		}
		if (r)
			*flags |= FFLAG_NX;
		return sign_bit(f, sign) | ((uint64_t)e << f->mbits) | (q & (((uint64_t)1 << f->mbits) - 1));
	}
	/* Below the normal range. Tiny unless rounding to the full precision
	 * with an unbounded exponent would reach 2^emin. */
	bool tiny = true;
	if (e == 0) {
		q = sig >> shift;
		r = sig & mask;
		q += round_up(rm, sign, q & 1, r, half);
		tiny = !(q >> (f->mbits + 1));
	}
	sig = shr_jam64(sig, (unsigned)(1 - e));
	q = sig >> shift;
	r = sig & mask;
	q += round_up(rm, sign, q & 1, r, half);
	if (r) {
		*flags |= FFLAG_NX;
		if (tiny)
			*flags |= FFLAG_UF;
	}
	/* a carry into bit mbits is exactly the smallest normal's exponent 1 */
	return sign_bit(f, sign) | q;
}

FP_INLINE uint64_t pack_exact(const struct ffmt *f, const struct fnum *a)
{
	uint8_t dummy = 0;
	if (a->cls == FN_ZERO)
		return pack_zero(f, a->sign);
	if (a->cls == FN_INF)
		return pack_inf(f, a->sign);
	return round_pack(f, a->sign, a->exp, a->sig, RM_RNE, &dummy);
}

/* NaN operands: NV for any signalling NaN, result is always canonical. */
FP_INLINE uint64_t nan_result(const struct ffmt *f, const struct fnum *a, const struct fnum *b,
			      uint8_t *flags)
{
	if (a->cls == FN_SNAN || (b && b->cls == FN_SNAN))
		*flags |= FFLAG_NV;
	return f->qnan;
}

FP_INLINE uint64_t f_add(const struct ffmt *f, struct fnum a, struct fnum b, int rm, uint8_t *flags)
{
	if (is_nan(&a) || is_nan(&b))
		return nan_result(f, &a, &b, flags);
	if (a.cls == FN_INF) {
		if (b.cls == FN_INF && a.sign != b.sign) {
			*flags |= FFLAG_NV;
			return f->qnan;
		}
		return pack_inf(f, a.sign);
	}
	if (b.cls == FN_INF)
		return pack_inf(f, b.sign);
	if (a.cls == FN_ZERO && b.cls == FN_ZERO)
		return pack_zero(f, a.sign == b.sign ? a.sign : rm == RM_RDN);
	if (a.cls == FN_ZERO)
		return pack_exact(f, &b);
	if (b.cls == FN_ZERO)
		return pack_exact(f, &a);
	if (a.exp < b.exp || (a.exp == b.exp && a.sig < b.sig)) {
		struct fnum t = a;
		a = b;
		b = t;
	}
	uint64_t bs = shr_jam64(b.sig, (unsigned)(a.exp - b.exp));
	if (a.sign == b.sign)
		return round_pack(f, a.sign, a.exp, a.sig + bs, rm, flags);
	if (a.sig == bs)
		return pack_zero(f, rm == RM_RDN);
	return round_pack(f, a.sign, a.exp, a.sig - bs, rm, flags);
}

FP_INLINE uint64_t f_mul(const struct ffmt *f, struct fnum a, struct fnum b, int rm, uint8_t *flags)
{
	bool sign = a.sign ^ b.sign;
	if (is_nan(&a) || is_nan(&b))
		return nan_result(f, &a, &b, flags);
	if ((a.cls == FN_INF && b.cls == FN_ZERO) || (a.cls == FN_ZERO && b.cls == FN_INF)) {
		*flags |= FFLAG_NV;
		return f->qnan;
	}
	if (a.cls == FN_INF || b.cls == FN_INF)
		return pack_inf(f, sign);
	if (a.cls == FN_ZERO || b.cls == FN_ZERO)
		return pack_zero(f, sign);
	u128 p = (u128)a.sig * b.sig;
	uint64_t sig = (uint64_t)(p >> 62) | (((uint64_t)p & (((uint64_t)1 << 62) - 1)) != 0);
	return round_pack(f, sign, a.exp + b.exp, sig, rm, flags);
}

FP_INLINE uint64_t f_div(const struct ffmt *f, struct fnum a, struct fnum b, int rm, uint8_t *flags)
{
	bool sign = a.sign ^ b.sign;
	if (is_nan(&a) || is_nan(&b))
		return nan_result(f, &a, &b, flags);
	if ((a.cls == FN_INF && b.cls == FN_INF) || (a.cls == FN_ZERO && b.cls == FN_ZERO)) {
		*flags |= FFLAG_NV;
		return f->qnan;
	}
	if (a.cls == FN_INF)
		return pack_inf(f, sign);
	if (b.cls == FN_INF || a.cls == FN_ZERO)
		return pack_zero(f, sign);
	if (b.cls == FN_ZERO) {
		*flags |= FFLAG_DZ;
		return pack_inf(f, sign);
	}
	u128 n = (u128)a.sig << 62;
	uint64_t q = (uint64_t)(n / b.sig);
	uint64_t rem = (uint64_t)(n % b.sig);
	return round_pack(f, sign, a.exp - b.exp, q | (rem != 0), rm, flags);
}

/* floor(sqrt(n)) for n in [2^124, 2^126); *exact tells if it was exact. The
 * host's sqrt only gives a first guess; one Newton step and the integer
 * corrections below make the result exact whatever the guess was. */
static uint64_t isqrt128(u128 n, bool *exact)
{
	uint64_t r = (uint64_t)(sqrt((double)(uint64_t)(n >> 62)) * 2147483648.0);
	if (r < ((uint64_t)1 << 62) || r >= ((uint64_t)1 << 63))
		r = (uint64_t)1 << 62;
	r = (uint64_t)(((u128)r + n / r) >> 1);
	if (r >= ((uint64_t)1 << 63))
		r = ((uint64_t)1 << 63) - 1;
	while ((u128)r * r > n)
		r--;
	while ((u128)(r + 1) * (r + 1) <= n)
		r++;
	*exact = (u128)r * r == n;
	return r;
}

FP_INLINE uint64_t f_sqrt(const struct ffmt *f, struct fnum a, int rm, uint8_t *flags)
{
	if (is_nan(&a))
		return nan_result(f, &a, NULL, flags);
	if (a.cls == FN_ZERO)
		return pack_zero(f, a.sign);
	if (a.sign) {
		*flags |= FFLAG_NV;
		return f->qnan;
	}
	if (a.cls == FN_INF)
		return pack_inf(f, false);
	uint64_t sig = a.sig;
	int e = a.exp;
	if (e & 1) {
		sig <<= 1;
		e--;
	}
	bool exact;
	uint64_t r = isqrt128((u128)sig << 62, &exact);
	return round_pack(f, false, e / 2, r | !exact, rm, flags);
}

/* a*b + c with one rounding; neg_prod/neg_c give FMSUB/FNMSUB/FNMADD. */
FP_INLINE uint64_t f_fma(const struct ffmt *f, struct fnum a, struct fnum b, struct fnum c, int rm,
			 uint8_t *flags)
{
	bool psign = a.sign ^ b.sign;
	if (a.cls == FN_SNAN || b.cls == FN_SNAN || c.cls == FN_SNAN)
		*flags |= FFLAG_NV;
	/* §11.6: inf * 0 raises NV even when the addend is a quiet NaN */
	if ((a.cls == FN_INF && b.cls == FN_ZERO) || (a.cls == FN_ZERO && b.cls == FN_INF)) {
		*flags |= FFLAG_NV;
		return f->qnan;
	}
	if (is_nan(&a) || is_nan(&b) || is_nan(&c))
		return f->qnan;
	if (a.cls == FN_INF || b.cls == FN_INF) {
		if (c.cls == FN_INF && c.sign != psign) {
			*flags |= FFLAG_NV;
			return f->qnan;
		}
		return pack_inf(f, psign);
	}
	if (c.cls == FN_INF)
		return pack_inf(f, c.sign);
	if (a.cls == FN_ZERO || b.cls == FN_ZERO) {
		if (c.cls == FN_ZERO)
			return pack_zero(f, psign == c.sign ? psign : rm == RM_RDN);
		return pack_exact(f, &c);
	}
	/* both terms as value = X / 2^124 * 2^e */
	u128 p = (u128)a.sig * b.sig;
	int e = a.exp + b.exp;
	bool sign = psign;
	if (c.cls != FN_ZERO) {
		u128 cs = (u128)c.sig << 62;
		int ce = c.exp;
		/* align to the larger exponent; only the smaller term can lose
		 * bits (a shift by one of the product is exact) */
		if (e >= ce) {
			cs = shr_jam128(cs, (unsigned)(e - ce));
		} else {
			p = shr_jam128(p, (unsigned)(ce - e));
			e = ce;
		}
		if (psign == c.sign) {
			p += cs;
		} else if (p > cs) {
			p -= cs;
		} else if (p < cs) {
			p = cs - p;
			sign = c.sign;
		} else {
			return pack_zero(f, rm == RM_RDN);
		}
	}
	int lz = clz128(p);
	p <<= lz - 1;
	uint64_t sig = (uint64_t)(p >> 64) | ((uint64_t)p != 0);
	return round_pack(f, sign, e + 3 - lz, sig, rm, flags);
}

/* minimumNumber/maximumNumber (§11.6, v2.2): -0 < +0; one NaN gives the
 * other operand; two NaNs give the canonical NaN; sNaN raises NV. */
FP_INLINE uint64_t f_minmax(const struct ffmt *f, uint64_t xa, uint64_t xb, bool max, uint8_t *flags)
{
	struct fnum a = unpack(f, xa), b = unpack(f, xb);
	if (a.cls == FN_SNAN || b.cls == FN_SNAN)
		*flags |= FFLAG_NV;
	if (is_nan(&a) && is_nan(&b))
		return f->qnan;
	if (is_nan(&a))
		return xb;
	if (is_nan(&b))
		return xa;
	int sbit = f->mbits + f->ebits;
	/* order of sign-magnitude encodings, -0 below +0 */
	int64_t ka = (xa >> sbit) & 1 ? -(int64_t)(xa & (((uint64_t)1 << sbit) - 1)) - 1 : (int64_t)xa;
	int64_t kb = (xb >> sbit) & 1 ? -(int64_t)(xb & (((uint64_t)1 << sbit) - 1)) - 1 : (int64_t)xb;
	if (max)
		return ka >= kb ? xa : xb;
	return ka <= kb ? xa : xb;
}

/* FEQ (quiet: NV only for sNaN), FLT/FLE (signalling: NV for any NaN). */
FP_INLINE uint64_t f_compare(const struct ffmt *f, uint64_t xa, uint64_t xb, int op, uint8_t *flags)
{
	struct fnum a = unpack(f, xa), b = unpack(f, xb);
	if (is_nan(&a) || is_nan(&b)) {
		if (op != 2 || a.cls == FN_SNAN || b.cls == FN_SNAN)
			*flags |= FFLAG_NV;
		return 0;
	}
	int sbit = f->mbits + f->ebits;
	uint64_t mag = ((uint64_t)1 << sbit) - 1;
	int64_t ka = (xa >> sbit) & 1 ? -(int64_t)(xa & mag) : (int64_t)(xa & mag);
	int64_t kb = (xb >> sbit) & 1 ? -(int64_t)(xb & mag) : (int64_t)(xb & mag);
	switch (op) {
	case 2: return ka == kb;
	case 1: return ka < kb;
	default: return ka <= kb;
	}
}

FP_INLINE uint64_t f_class(const struct ffmt *f, uint64_t x)
{
	struct fnum a = unpack(f, x);
	uint64_t emask = ((uint64_t)1 << f->ebits) - 1;
	bool sub = a.cls == FN_FINITE && ((x >> f->mbits) & emask) == 0;
	switch (a.cls) {
	case FN_INF: return a.sign ? 1u << 0 : 1u << 7;
	case FN_FINITE:
		if (sub)
			return a.sign ? 1u << 2 : 1u << 5;
		return a.sign ? 1u << 1 : 1u << 6;
	case FN_ZERO: return a.sign ? 1u << 3 : 1u << 4;
	case FN_SNAN: return 1u << 8;
	default: return 1u << 9;
	}
}

enum { CVT_W = 0, CVT_WU = 1, CVT_L = 2, CVT_LU = 3 };

/* FCVT.{W,WU,L,LU}.fmt: out-of-range and NaN inputs saturate with NV and no
 * NX (§11.7 table 11.4); W/WU results are sign-extended from 32 bits. */
FP_INLINE uint64_t f_to_int(const struct ffmt *f, uint64_t x, int kind, int rm, uint8_t *flags)
{
	struct fnum a = unpack(f, x);
	bool is_signed = kind == CVT_W || kind == CVT_L;
	bool is32 = kind == CVT_W || kind == CVT_WU;
	uint64_t max_pos =
	    is32 ? (is_signed ? 0x7fffffffu : 0xffffffffu) : (is_signed ? INT64_MAX : UINT64_MAX);
	uint64_t max_neg = is_signed ? max_pos + 1 : 0; /* magnitude of the minimum */
	uint64_t res, i = 0, fr = 0;
	bool invalid = false;

	if (is_nan(&a)) {
		invalid = true;
		a.sign = false;
	} else if (a.cls == FN_INF) {
		invalid = true;
	} else if (a.cls == FN_FINITE) {
		int shift = 62 - a.exp;
		if (a.exp > 63) {
			invalid = true;
		} else if (shift <= 0) {
			i = a.sig << -shift;
		} else if (shift < 64) {
			i = a.sig >> shift;
			fr = a.sig << (64 - shift);
		} else {
			fr = shr_jam64(a.sig, (unsigned)(shift - 64));
		}
		if (!invalid && round_up(rm, a.sign, i & 1, fr, (uint64_t)1 << 63)) {
			if (++i == 0)
				invalid = true;
		}
		if (!invalid && i > (a.sign ? max_neg : max_pos))
			invalid = true;
	}
	if (invalid) {
		*flags |= FFLAG_NV;
		res = a.sign ? (is_signed ? -max_neg : 0) : max_pos;
	} else {
		if (fr)
			*flags |= FFLAG_NX;
		res = a.sign ? -i : i;
	}
	if (is32)
		res = (uint64_t)(int64_t)(int32_t)(uint32_t)res;
	return res;
}

FP_INLINE uint64_t f_from_int(const struct ffmt *f, uint64_t v, int kind, int rm, uint8_t *flags)
{
	bool sign = false;
	switch (kind) {
	case CVT_W:
		v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
		/* fallthrough */
	case CVT_L:
		if ((int64_t)v < 0) {
			sign = true;
			v = -v;
		}
		break;
	case CVT_WU: v = (uint32_t)v; break;
	default: break;
	}
	if (v == 0)
		return pack_zero(f, false);
	return round_pack(f, sign, 62, v, rm, flags);
}

static uint64_t f_convert(const struct ffmt *to, const struct ffmt *from, uint64_t x, int rm, uint8_t *flags)
{
	struct fnum a = unpack(from, x);
	if (is_nan(&a))
		return nan_result(to, &a, NULL, flags);
	if (a.cls == FN_INF)
		return pack_inf(to, a.sign);
	if (a.cls == FN_ZERO)
		return pack_zero(to, a.sign);
	return round_pack(to, a.sign, a.exp, a.sig, rm, flags);
}

/* fpu_exec for one format f (&fmt_s or &fmt_d, a constant after inlining) */
FP_INLINE int exec_fmt(struct fpu_state *fs, uint64_t *x, uint32_t insn, const struct ffmt *f)
{
	const unsigned opcode = insn & 0x7f;
	const unsigned rd = (insn >> 7) & 31;
	const unsigned funct3 = (insn >> 12) & 7;
	const unsigned rs1 = (insn >> 15) & 31;
	const unsigned rs2 = (insn >> 20) & 31;
	uint8_t flags = 0;
	int rm = (int)funct3;
	uint64_t res;

	/* rm: 5 and 6 are reserved; DYN takes frm, whose 5..7 are reserved */
	if (rm == RM_DYN)
		rm = fs->frm;
	const bool rm_ok = rm <= RM_RMM;

	if (opcode != 0x53) {
		/* R4-type fused multiply-adds (§11.6) */
		if (opcode != 0x43 && opcode != 0x47 && opcode != 0x4b && opcode != 0x4f)
			return -1;
		if (!rm_ok)
			return -1;
		struct fnum a = unpack(f, read_reg(f, fs->f[rs1]));
		struct fnum b = unpack(f, read_reg(f, fs->f[rs2]));
		struct fnum c = unpack(f, read_reg(f, fs->f[insn >> 27]));
		if (opcode == 0x4b || opcode == 0x4f) /* FNMSUB, FNMADD: -(a*b) */
			a.sign = !a.sign;
		if (opcode == 0x47 || opcode == 0x4f) /* FMSUB, FNMADD: -c */
			c.sign = !c.sign;
		res = f_fma(f, a, b, c, rm, &flags);
		fs->f[rd] = box(f, res);
		fs->fflags |= flags;
		return 0;
	}

	const unsigned funct5 = insn >> 27;
	uint64_t va = read_reg(f, fs->f[rs1]);
	uint64_t vb = read_reg(f, fs->f[rs2]);
	switch (funct5) {
	case 0x00: /* FADD */
	case 0x01: /* FSUB */
	case 0x02: /* FMUL */
	case 0x03: /* FDIV */
	{
		if (!rm_ok)
			return -1;
		struct fnum a = unpack(f, va), b = unpack(f, vb);
		if (funct5 == 0x00) {
			res = f_add(f, a, b, rm, &flags);
		} else if (funct5 == 0x01) {
			b.sign = !b.sign;
			res = f_add(f, a, b, rm, &flags);
		} else if (funct5 == 0x02) {
			res = f_mul(f, a, b, rm, &flags);
		} else {
			res = f_div(f, a, b, rm, &flags);
		}
		fs->f[rd] = box(f, res);
		break;
	}
	case 0x0b: /* FSQRT */
		if (!rm_ok || rs2 != 0)
			return -1;
		fs->f[rd] = box(f, f_sqrt(f, unpack(f, va), rm, &flags));
		break;
	case 0x04: /* FSGNJ, FSGNJN, FSGNJX */
	{
		int sbit = f->mbits + f->ebits;
		uint64_t sb = (vb >> sbit) & 1;
		if (funct3 == 1)
			sb ^= 1;
		else if (funct3 == 2)
			sb ^= (va >> sbit) & 1;
		else if (funct3 != 0)
			return -1;
		res = (va & ~((uint64_t)1 << sbit)) | (sb << sbit);
		fs->f[rd] = box(f, res);
		break;
	}
	case 0x05: /* FMIN, FMAX */
		if (funct3 > 1)
			return -1;
		fs->f[rd] = box(f, f_minmax(f, va, vb, funct3 == 1, &flags));
		break;
	case 0x08: /* FCVT.S.D (fmt S, rs2 1), FCVT.D.S (fmt D, rs2 0) */
		if (!rm_ok)
			return -1;
		if (f == &fmt_s && rs2 == 1)
			res = f_convert(&fmt_s, &fmt_d, fs->f[rs1], rm, &flags);
		else if (f == &fmt_d && rs2 == 0)
			res = f_convert(&fmt_d, &fmt_s, read_reg(&fmt_s, fs->f[rs1]), rm, &flags);
		else
			return -1;
		fs->f[rd] = box(f, res);
		break;
	case 0x14: /* FLE, FLT, FEQ */
		if (funct3 > 2)
			return -1;
		res = f_compare(f, va, vb, (int)funct3, &flags);
		if (rd)
			x[rd] = res;
		break;
	case 0x18: /* FCVT.{W,WU,L,LU}.fmt */
		if (!rm_ok || rs2 > 3)
			return -1;
		res = f_to_int(f, va, (int)rs2, rm, &flags);
		if (rd)
			x[rd] = res;
		break;
	case 0x1a: /* FCVT.fmt.{W,WU,L,LU} */
		if (!rm_ok || rs2 > 3)
			return -1;
		fs->f[rd] = box(f, f_from_int(f, rs1 ? x[rs1] : 0, (int)rs2, rm, &flags));
		break;
	case 0x1c: /* FMV.X.W / FMV.X.D (raw bits), FCLASS */
		if (rs2 != 0)
			return -1;
		if (funct3 == 0)
			res = f == &fmt_s ? (uint64_t)(int64_t)(int32_t)(uint32_t)fs->f[rs1] : fs->f[rs1];
		else if (funct3 == 1)
			res = f_class(f, va);
		else
			return -1;
		if (rd)
			x[rd] = res;
		break;
	case 0x1e: /* FMV.W.X / FMV.D.X */
		if (rs2 != 0 || funct3 != 0)
			return -1;
		res = rs1 ? x[rs1] : 0;
		fs->f[rd] = f == &fmt_s ? ((uint32_t)res | BOX_S) : res;
		break;
	default: return -1;
	}
	fs->fflags |= flags;
	return 0;
}

static int exec_s(struct fpu_state *fs, uint64_t *x, uint32_t insn)
{
	return exec_fmt(fs, x, insn, &fmt_s);
}

static int exec_d(struct fpu_state *fs, uint64_t *x, uint32_t insn)
{
	return exec_fmt(fs, x, insn, &fmt_d);
}

int fpu_exec(struct fpu_state *fs, uint64_t *x, uint32_t insn)
{
	switch ((insn >> 25) & 3) {
	case 0: return exec_s(fs, x, insn);
	case 1: return exec_d(fs, x, insn);
	default: return -1; /* H and Q are not implemented */
	}
}
