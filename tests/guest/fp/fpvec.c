/* Reference-vector generator for the FPU (runs as a riscv64 Linux user
 * program, e.g. under qemu-riscv64). It executes random F/D instructions on
 * the real (or reference) hardware and prints one line per instruction:
 *   insn f11 f12 f13 x11 frm | f14 x14 fflags
 * tests/guest/fp/fpcheck.c replays the lines through fpu_exec and compares.
 * Usage: fpvec [count] [seed], or fpvec - to execute the lines
 * "insn f11 f12 f13 x11 frm" read from stdin instead of random ones.
 * Registers: rd = 14 (f14 or a4), rs1 = 11 (f11 or a1), rs2 = 12, rs3 = 13. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct io {
	uint64_t f11, f12, f13, x11, x14_in, f14_in, f14_out, x14_out;
};

void fp_stub_begin(void);
void fp_stub_insn(void);
void fp_stub_end(void);

__asm__(".option push\n.option norvc\n"
	".text\n.balign 4\n.globl fp_stub_begin\nfp_stub_begin:\n"
	"fld f11, 0(a0)\nfld f12, 8(a0)\nfld f13, 16(a0)\nld a1, 24(a0)\n"
	"ld a4, 32(a0)\nfld f14, 40(a0)\n"
	".globl fp_stub_insn\nfp_stub_insn:\nnop\n"
	"fsd f14, 48(a0)\nsd a4, 56(a0)\nret\n"
	".globl fp_stub_end\nfp_stub_end:\n.option pop\n");

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* an interesting value of a format with ebits/mbits */
static uint64_t rnd_float(int ebits, int mbits)
{
	uint64_t emax = (1ull << ebits) - 1, bias = emax >> 1;
	uint64_t fmask = (1ull << mbits) - 1;
	uint64_t s = rnd() & 1, e, m;
	switch (rnd_below(6)) {
	case 0: e = 0; break;
	case 1: e = emax; break;
	case 2: e = 1 + rnd_below(3); break;
	case 3: e = emax - 1 - rnd_below(3); break;
	case 4: e = bias - 40 + rnd_below(80); break;
	default: e = rnd() & emax; break;
	}
	switch (rnd_below(7)) {
	case 0: m = 0; break;
	case 1: m = fmask; break;
	case 2: m = 1ull << rnd_below(mbits); break;
	case 3: m = rnd() & fmask & ~(fmask >> rnd_below(mbits)); break; /* few top bits */
	case 4: m = fmask - rnd_below(4); break;
	case 5: m = (1ull << (mbits - 1)) | (rnd() & 3); break; /* qNaN-ish */
	default: m = rnd() & fmask; break;
	}
	if (e == 0 && m == 0 && rnd_below(3) == 0)
		m = rnd() & 7;
	return (s << (ebits + mbits)) | (e << mbits) | m;
}

static uint64_t rnd_int(void)
{
	static const uint64_t special[] = {
	    0,
	    1,
	    2,
	    3,
	    0x7fffffff,
	    0x80000000,
	    0xffffffff,
	    0x100000000ull,
	    0x7fffffffffffffffull,
	    0x8000000000000000ull,
	    0xffffffffffffffffull,
	    0xffffffff80000000ull,
	    0xffffffff7fffffffull,
	    0x1000001,
	    0x20000000000001ull,
	    0xfffffffffffffffeull,
	};
	if (rnd_below(3) == 0)
		return special[rnd_below(sizeof(special) / sizeof(special[0]))];
	uint64_t v = rnd() >> rnd_below(64);
	if (rnd() & 1)
		v = -v;
	return v;
}

/* a value near an integer, for conversions to integers */
static uint64_t rnd_near_int(int dbl)
{
	static const double base[] = {0,
				      1,
				      2,
				      3,
				      7,
				      2147483647.0,
				      2147483648.0,
				      4294967295.0,
				      4294967296.0,
				      9223372036854775807.0,
				      18446744073709551616.0,
				      1e6,
				      12345.0};
	static const double frac[] = {0, 0.25, 0.5, 0.75, -0.5, -0.25, 1, -1, 0.5000001};
	double v =
	    base[rnd_below(sizeof(base) / sizeof(base[0]))] + frac[rnd_below(sizeof(frac) / sizeof(frac[0]))];
	if (rnd() & 1)
		v = -v;
	if (dbl) {
		uint64_t b;
		memcpy(&b, &v, 8);
		return b;
	}
	float fv = (float)v;
	uint32_t b;
	memcpy(&b, &fv, 4);
	return b;
}

static uint64_t operand(int dbl)
{
	uint64_t v = dbl ? rnd_float(11, 52) : rnd_float(8, 23);
	if (!dbl)
		v |= rnd_below(20) == 0 ? (rnd() << 32) : 0xffffffff00000000ull;
	return v;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 10000;
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 88172645463325252ull;
	if (!rng_state)
		rng_state = 1;
	size_t len = (size_t)((char *)fp_stub_end - (char *)fp_stub_begin);
	size_t off = (size_t)((char *)fp_stub_insn - (char *)fp_stub_begin);
	uint32_t *code =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	memcpy(code, (void *)fp_stub_begin, len);
	void (*stub)(struct io *) = (void (*)(struct io *))(void *)code;

	int replay = argc > 1 && strcmp(argv[1], "-") == 0;
	for (long n = 0; replay || n < count; n++) {
		int dbl = rnd() & 1;
		uint32_t fmt = dbl ? 1 : 0;
		uint32_t rm = rnd_below(6);
		if (rm == 5)
			rm = 7;
		uint32_t frm = rnd_below(5);
		uint32_t insn, k = rnd_below(22);
		uint32_t rd = 14, r1 = 11, r2 = 12, r3 = 13;
		struct io io;
		io.f11 = operand(dbl);
		io.f12 = operand(dbl);
		io.f13 = operand(dbl);
		io.x11 = rnd_int();
		io.x14_in = 0xaaaaaaaaaaaaaaaaull;
		io.f14_in = 0x5555555555555555ull;
		/* cancellation for add/sub/fma: b close to -a, c close to -(a*b) */
		if (rnd_below(4) == 0) {
			uint64_t sbit = dbl ? 1ull << 63 : 1ull << 31;
			io.f12 = io.f11 ^ sbit;
			if (rnd() & 1)
				io.f12 += rnd_below(5) - 2;
		}
		if (k == 16 && rnd_below(2) == 0) {
			if (dbl) {
				double a, b, c;
				memcpy(&a, &io.f11, 8);
				memcpy(&b, &io.f12, 8);
				c = -(a * b);
				memcpy(&io.f13, &c, 8);
				io.f13 += rnd_below(5) - 2;
			} else {
				float a, b, c;
				memcpy(&a, &io.f11, 4);
				memcpy(&b, &io.f12, 4);
				c = -(a * b);
				uint32_t cb;
				memcpy(&cb, &c, 4);
				io.f13 = 0xffffffff00000000ull | (uint32_t)(cb + rnd_below(5) - 2);
			}
		}
		if (k == 10 && rnd() & 1)
			io.f11 = rnd_near_int(dbl) | (dbl ? 0 : 0xffffffff00000000ull);
		switch (k) {
		case 0:
		case 1:
		case 2:
		case 3: /* FADD FSUB FMUL FDIV */
			insn =
			    (k << 27) | (fmt << 25) | (r2 << 20) | (r1 << 15) | (rm << 12) | (rd << 7) | 0x53;
			break;
		case 4: /* FSQRT */
			insn = (0x0bu << 27) | (fmt << 25) | (r1 << 15) | (rm << 12) | (rd << 7) | 0x53;
			break;
		case 5:
		case 6:
		case 7: /* FSGNJ[N,X] */
			insn = (0x04u << 27) | (fmt << 25) | (r2 << 20) | (r1 << 15) | ((k - 5) << 12) |
			       (rd << 7) | 0x53;
			break;
		case 8:
		case 9: /* FMIN FMAX */
			insn = (0x05u << 27) | (fmt << 25) | (r2 << 20) | (r1 << 15) | ((k - 8) << 12) |
			       (rd << 7) | 0x53;
			break;
		case 10: /* FCVT.int.fmt */
			insn = (0x18u << 27) | (fmt << 25) | (rnd_below(4) << 20) | (r1 << 15) | (rm << 12) |
			       (rd << 7) | 0x53;
			break;
		case 11: /* FCVT.fmt.int */
			insn = (0x1au << 27) | (fmt << 25) | (rnd_below(4) << 20) | (r1 << 15) | (rm << 12) |
			       (rd << 7) | 0x53;
			break;
		case 12:
		case 13:
		case 14: /* FLE FLT FEQ */
			if (rnd_below(3) == 0)
				io.f12 = io.f11;
			insn = (0x14u << 27) | (fmt << 25) | (r2 << 20) | (r1 << 15) | ((k - 12) << 12) |
			       (rd << 7) | 0x53;
			break;
		case 15: /* FMV.X / FCLASS */
			insn = (0x1cu << 27) | (fmt << 25) | (r1 << 15) | (rnd_below(2) << 12) | (rd << 7) |
			       0x53;
			break;
		case 16:
		case 17:
		case 18:
		case 19: { /* FMADD FMSUB FNMSUB FNMADD */
			static const uint32_t op[] = {0x43, 0x47, 0x4b, 0x4f};
			insn = (r3 << 27) | (fmt << 25) | (r2 << 20) | (r1 << 15) | (rm << 12) | (rd << 7) |
			       op[rnd_below(4)];
			break;
		}
		case 20: /* FMV.fmt.X */
			insn = (0x1eu << 27) | (fmt << 25) | (r1 << 15) | (rd << 7) | 0x53;
			break;
		default: /* FCVT.S.D / FCVT.D.S; the source is of the other format */
			io.f11 = dbl ? operand(0) : operand(1);
			insn = (0x08u << 27) | (fmt << 25) | ((dbl ? 0u : 1u) << 20) | (r1 << 15) |
			       (rm << 12) | (rd << 7) | 0x53;
			break;
		}
		if (replay) {
			char line[256];
			unsigned long long a, b, c, xv;
			if (!fgets(line, sizeof(line), stdin))
				break;
			if (sscanf(line, "%x %llx %llx %llx %llx %u", &insn, &a, &b, &c, &xv, &frm) != 6)
				continue;
			io.f11 = a;
			io.f12 = b;
			io.f13 = c;
			io.x11 = xv;
		}
		code[off / 4] = insn;
		__builtin___clear_cache((char *)code, (char *)code + len);
		unsigned long fl;
		__asm__ volatile("csrw frm, %0\ncsrw fflags, zero" ::"r"((unsigned long)frm));
		stub(&io);
		__asm__ volatile("csrr %0, fflags" : "=r"(fl));
		printf("%08x %016llx %016llx %016llx %016llx %u | %016llx %016llx %02lx\n", insn,
		       (unsigned long long)io.f11, (unsigned long long)io.f12, (unsigned long long)io.f13,
		       (unsigned long long)io.x11, frm, (unsigned long long)io.f14_out,
		       (unsigned long long)io.x14_out, fl);
	}
	return 0;
}
