/* RV64I: ALU (register and immediate forms, W variants and their sign
 * extension), shifts with amount masking, compares, LUI/AUIPC, loads with
 * sign/zero extension, partial stores, branches, JAL/JALR and x0.
 * Unprivileged spec chapter 2 (RV32I) and 4 (RV64I). */
#include "rt.h"

#define R(insn, a, b)                                                          \
	({                                                                     \
		uint64_t _r;                                                   \
		__asm__ volatile(insn " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); \
		_r;                                                            \
	})
#define I(insn, a, imm)                                                        \
	({                                                                     \
		uint64_t _r;                                                   \
		__asm__ volatile(insn " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "i"(imm)); \
		_r;                                                            \
	})

static volatile uint64_t mem[4];

static int branch_taken(int which, uint64_t a, uint64_t b)
{
	int t = 0;
	switch (which) {
	case 0: __asm__ volatile("li %0, 0\n beq %1, %2, 1f\n j 2f\n 1: li %0, 1\n 2:" : "=&r"(t) : "r"(a), "r"(b)); break;
	case 1: __asm__ volatile("li %0, 0\n bne %1, %2, 1f\n j 2f\n 1: li %0, 1\n 2:" : "=&r"(t) : "r"(a), "r"(b)); break;
	case 2: __asm__ volatile("li %0, 0\n blt %1, %2, 1f\n j 2f\n 1: li %0, 1\n 2:" : "=&r"(t) : "r"(a), "r"(b)); break;
	case 3: __asm__ volatile("li %0, 0\n bge %1, %2, 1f\n j 2f\n 1: li %0, 1\n 2:" : "=&r"(t) : "r"(a), "r"(b)); break;
	case 4: __asm__ volatile("li %0, 0\n bltu %1, %2, 1f\n j 2f\n 1: li %0, 1\n 2:" : "=&r"(t) : "r"(a), "r"(b)); break;
	case 5: __asm__ volatile("li %0, 0\n bgeu %1, %2, 1f\n j 2f\n 1: li %0, 1\n 2:" : "=&r"(t) : "r"(a), "r"(b)); break;
	}
	return t;
}

int test_main(void)
{
	const uint64_t neg1 = ~0ull, min64 = 1ull << 63;

	/* add/sub wrap; W forms compute on 32 bits and sign-extend */
	CHECK_EQ(R("add", neg1, 1), 0);
	CHECK_EQ(R("sub", 0, 1), neg1);
	CHECK_EQ(R("addw", 0x7fffffff, 1), 0xffffffff80000000ull);
	CHECK_EQ(R("addw", 0x1234567800000005ull, 3), 8);
	CHECK_EQ(R("subw", 0, 1), neg1);
	CHECK_EQ(R("subw", 0x80000000ull, 1), 0x7fffffff);
	CHECK_EQ(I("addi", 5, -6), neg1);
	CHECK_EQ(I("addiw", 0x7fffffff, 1), 0xffffffff80000000ull);
	CHECK_EQ(I("addiw", 0xffffffff00000000ull, -1), neg1);

	/* shifts: 6-bit amount for 64-bit ops, 5-bit for W ops */
	CHECK_EQ(R("sll", 1, 65), 2);
	CHECK_EQ(R("srl", min64, 63), 1);
	CHECK_EQ(R("sra", min64, 63), neg1);
	CHECK_EQ(R("sra", min64, 64 + 4), 0xf800000000000000ull);
	CHECK_EQ(R("sllw", 1, 31), 0xffffffff80000000ull);
	CHECK_EQ(R("sllw", 1, 33), 2);
	CHECK_EQ(R("srlw", 0xffffffff80000000ull, 31), 1);
	CHECK_EQ(R("srlw", 0x80000000ull, 0), 0xffffffff80000000ull);
	CHECK_EQ(R("sraw", 0x80000000ull, 4), 0xfffffffff8000000ull);
	CHECK_EQ(I("slli", 1, 63), min64);
	CHECK_EQ(I("srli", neg1, 60), 15);
	CHECK_EQ(I("srai", 0x8000000000000000ull, 1), 0xc000000000000000ull);
	CHECK_EQ(I("slliw", 3, 31), 0xffffffff80000000ull);
	CHECK_EQ(I("srliw", neg1, 28), 15);
	CHECK_EQ(I("sraiw", 0x80000000ull, 31), neg1);

	/* compares */
	CHECK_EQ(R("slt", neg1, 0), 1);
	CHECK_EQ(R("sltu", neg1, 0), 0);
	CHECK_EQ(R("slt", min64, neg1), 1);
	CHECK_EQ(I("slti", neg1, 0), 1);
	CHECK_EQ(I("sltiu", 5, -1), 1); /* immediate sign-extended, then unsigned */
	CHECK_EQ(I("sltiu", neg1, -1), 0);
	CHECK_EQ(R("sltu", 0, 1), 1);

	/* logic, immediates sign-extended */
	CHECK_EQ(I("andi", 0x123456789abcdef0ull, -16), 0x123456789abcdef0ull);
	CHECK_EQ(I("andi", neg1, 0x7ff), 0x7ff);
	CHECK_EQ(I("ori", 0, -2048), 0xfffffffffffff800ull);
	CHECK_EQ(I("xori", 0x0f, -1), 0xfffffffffffffff0ull);
	CHECK_EQ(R("xor", 0xff00ff00ull, 0x0ff00ff0ull), 0xf0f0f0f0ull);
	CHECK_EQ(R("or", 0xf0, 0x0f), 0xff);
	CHECK_EQ(R("and", 0xf0f0, 0xff00), 0xf000);

	/* LUI sign-extends bit 31; AUIPC adds to its own pc */
	uint64_t v, pc1, pc2;
	__asm__ volatile("lui %0, 0x80000" : "=r"(v));
	CHECK_EQ(v, 0xffffffff80000000ull);
	__asm__ volatile("lui %0, 0x7ffff" : "=r"(v));
	CHECK_EQ(v, 0x7ffff000ull);
	__asm__ volatile("1: auipc %0, 0\n la %1, 1b" : "=r"(pc1), "=r"(pc2));
	CHECK_EQ(pc1, pc2);
	__asm__ volatile("1: auipc %0, 1\n la %1, 1b" : "=r"(pc1), "=r"(pc2));
	CHECK_EQ(pc1, pc2 + 0x1000);

	/* loads: sign vs zero extension */
	mem[0] = 0x8081828384858687ull;
	volatile uint8_t *b = (volatile uint8_t *)mem;
	__asm__ volatile("lb %0, 0(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0xffffffffffffff87ull);
	__asm__ volatile("lbu %0, 0(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0x87);
	__asm__ volatile("lh %0, 6(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0xffffffffffff8081ull);
	__asm__ volatile("lhu %0, 6(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0x8081);
	__asm__ volatile("lw %0, 4(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0xffffffff80818283ull);
	__asm__ volatile("lwu %0, 4(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0x80818283ull);
	__asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(b));
	CHECK_EQ(v, 0x8081828384858687ull);
	/* negative offsets */
	__asm__ volatile("lbu %0, -1(%1)" : "=r"(v) : "r"(b + 8));
	CHECK_EQ(v, 0x80);

	/* stores write only their bytes (little-endian) */
	mem[1] = 0;
	__asm__ volatile("sb %0, 0(%1)" ::"r"(0x1122334455667788ull), "r"(&mem[1]) : "memory");
	CHECK_EQ(mem[1], 0x88);
	__asm__ volatile("sh %0, 2(%1)" ::"r"(0xaabbccddull), "r"(&mem[1]) : "memory");
	CHECK_EQ(mem[1], 0xccdd0088ull);
	__asm__ volatile("sw %0, 4(%1)" ::"r"(0xdeadbeefcafef00dull), "r"(&mem[1]) : "memory");
	CHECK_EQ(mem[1], 0xcafef00dccdd0088ull);
	__asm__ volatile("sd %0, 0(%1)" ::"r"(neg1), "r"(&mem[1]) : "memory");
	CHECK_EQ(mem[1], neg1);

	/* branches: signed vs unsigned */
	CHECK_EQ(branch_taken(0, 5, 5), 1);
	CHECK_EQ(branch_taken(0, 5, 6), 0);
	CHECK_EQ(branch_taken(1, 5, 6), 1);
	CHECK_EQ(branch_taken(2, neg1, 0), 1);
	CHECK_EQ(branch_taken(2, 0, neg1), 0);
	CHECK_EQ(branch_taken(3, 0, neg1), 1);
	CHECK_EQ(branch_taken(3, 7, 7), 1);
	CHECK_EQ(branch_taken(4, 0, neg1), 1);
	CHECK_EQ(branch_taken(4, neg1, 0), 0);
	CHECK_EQ(branch_taken(5, neg1, 0), 1);
	CHECK_EQ(branch_taken(5, min64, min64), 1);

	/* JAL links pc+4; JALR clears bit 0 of the target */
	uint64_t link, target;
	__asm__ volatile("jal %0, 1f\n 2: j 3f\n 1: la %1, 2b\n 3:" : "=r"(link), "=r"(target));
	CHECK_EQ(link, target);
	__asm__ volatile("la t0, 1f\n addi t0, t0, 1\n jalr %0, 0(t0)\n 2: j 3f\n .align 2\n 1: la %1, 2b\n 3:"
		: "=r"(link), "=r"(target) : : "t0");
	CHECK_EQ(link, target);
	/* rd = rs1 in JALR: target computed from the old value */
	__asm__ volatile("la %0, 1f\n jalr %0, 0(%0)\n 2: j 3f\n 1: la %1, 2b\n 3:" : "=&r"(link), "=&r"(target));
	CHECK_EQ(link, target);

	/* writes to x0 are discarded */
	__asm__ volatile("li t0, 5\n add zero, t0, t0\n addi zero, zero, 9\n mv %0, zero" : "=r"(v) : : "t0");
	CHECK_EQ(v, 0);

	/* a long dependent loop, to exercise the interpreter's fast path */
	uint64_t acc = 0;
	for (uint64_t i = 0; i < 100000; i++)
		acc = acc * 6364136223846793005ull + i;
	/* expected value computed on the host (Python, 64-bit wrap-around) */
	CHECK_EQ(acc, 0xf4d39b790fd016b0ull);
	return 0;
}
