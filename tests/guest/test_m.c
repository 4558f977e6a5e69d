/* M extension: multiplication high parts and the division corner cases of
 * unprivileged spec 13.2 (table 13.1): divide by zero gives all ones
 * (quotient) and the dividend (remainder); signed overflow (MIN / -1) gives
 * MIN and remainder 0; W forms sign-extend their 32-bit results. */
#include "rt.h"

#define R(insn, a, b)                                                          \
	({                                                                     \
		uint64_t _r;                                                   \
		__asm__ volatile(insn " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); \
		_r;                                                            \
	})

int test_main(void)
{
	const uint64_t neg1 = ~0ull, min64 = 1ull << 63;
	const uint64_t min32 = 0xffffffff80000000ull; /* INT32_MIN sign-extended */

	CHECK_EQ(R("mul", 0x100000001ull, 0x100000001ull), 0x200000001ull);
	CHECK_EQ(R("mul", neg1, neg1), 1);
	CHECK_EQ(R("mulh", neg1, neg1), 0);        /* (-1)*(-1) = 1 */
	CHECK_EQ(R("mulhu", neg1, neg1), neg1 - 1); /* (2^64-1)^2 >> 64 */
	CHECK_EQ(R("mulhsu", neg1, neg1), neg1);    /* -1 * (2^64-1) >> 64 */
	CHECK_EQ(R("mulh", min64, min64), 1ull << 62);
	CHECK_EQ(R("mulhsu", min64, 2), neg1);
	CHECK_EQ(R("mulhu", 1ull << 32, 1ull << 32), 1);
	CHECK_EQ(R("mulw", 0x10000ull, 0x8000ull), min32);
	CHECK_EQ(R("mulw", 0xffffffff00000003ull, 5), 15);

	/* by zero */
	CHECK_EQ(R("div", 42, 0), neg1);
	CHECK_EQ(R("divu", 42, 0), neg1);
	CHECK_EQ(R("rem", (uint64_t)-42, 0), (uint64_t)-42);
	CHECK_EQ(R("remu", 42, 0), 42);
	CHECK_EQ(R("divw", 42, 0), neg1);
	CHECK_EQ(R("divuw", 42, 0), neg1);
	CHECK_EQ(R("remw", 0x80000000ull, 0), min32);
	CHECK_EQ(R("remuw", 0x80000000ull, 0), min32);
	/* overflow */
	CHECK_EQ(R("div", min64, neg1), min64);
	CHECK_EQ(R("rem", min64, neg1), 0);
	CHECK_EQ(R("divw", 0x80000000ull, neg1), min32);
	CHECK_EQ(R("remw", 0x80000000ull, neg1), 0);
	/* signs: truncation toward zero, remainder has the dividend's sign */
	CHECK_EQ(R("div", (uint64_t)-7, 2), (uint64_t)-3);
	CHECK_EQ(R("rem", (uint64_t)-7, 2), (uint64_t)-1);
	CHECK_EQ(R("div", 7, (uint64_t)-2), (uint64_t)-3);
	CHECK_EQ(R("rem", 7, (uint64_t)-2), 1);
	CHECK_EQ(R("divu", neg1, 2), neg1 >> 1);
	CHECK_EQ(R("remu", neg1, 10), 5);
	/* W forms use only the low 32 bits of the operands */
	CHECK_EQ(R("divw", 0x12345678fffffff9ull, 2), (uint64_t)-3);
	CHECK_EQ(R("divuw", 0xfffffffeull, 1), 0xfffffffffffffffeull);
	CHECK_EQ(R("remuw", 0xffffffffull, 0x10ull), 15);
	CHECK_EQ(R("remw", 0xfffffff9ull, 2), neg1);
	CHECK_EQ(R("divuw", 0xabcdef0000000064ull, 0x1200000007ull), 14);
	return 0;
}
