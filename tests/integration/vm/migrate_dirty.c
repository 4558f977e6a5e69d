/* Guest program for tests/integration/vm/migrate.sh and bench/migrate.sh: a
 * freestanding static riscv64 Linux binary (no libc) that dirties memory
 * as fast as it can: it writes one word in every page of a MiB-sized buffer
 * (argv[1], default 64), round after round, for ever. */
#include <stddef.h>
#include <stdint.h>

#define MAX_MIB 128

static uint8_t buf[(size_t)MAX_MIB << 20] __attribute__((aligned(4096)));

static long sys_write(int fd, const void *p, size_t n)
{
	register long a0 __asm__("a0") = fd;
	register long a1 __asm__("a1") = (long)p;
	register long a2 __asm__("a2") = (long)n;
	register long a7 __asm__("a7") = 64; /* write */
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
	return a0;
}

static unsigned parse_mib(const char *s)
{
	unsigned v = 0;
	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned)(*s++ - '0');
	return v == 0 || v > MAX_MIB ? 64 : v;
}

/* Linux starts us with sp -> argc, argv[0], argv[1], ... */
__attribute__((noreturn, used)) static void dirty_main(long *sp)
{
	long argc = sp[0];
	const char *arg = argc > 1 ? (const char *)sp[2] : NULL;
	size_t len = (size_t)parse_mib(arg) << 20;
	static const char msg[] = "dirty: running\n";
	sys_write(1, msg, sizeof(msg) - 1);
	for (uint64_t round = 1;; round++)
		for (size_t off = 0; off < len; off += 4096)
			*(volatile uint64_t *)(buf + off) = round;
}

__asm__(".globl _start\n"
	"_start:\n"
	"	mv a0, sp\n"
	"	andi sp, sp, -16\n"
	"	call dirty_main\n");
