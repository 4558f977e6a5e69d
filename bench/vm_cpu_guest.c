/* CPU-bound bare-metal guest for bench/vm_boot.sh: built with the runtime of
 * tests/guest (start.S, rt.c), it runs a mixed integer workload in S-mode
 * under Sv39 paging (so loads and stores go through the MMU/TLB path, as a
 * Linux guest's do): a linked-list walk, a small matrix multiply, a CRC-32
 * and a byte-wise string scan, ROUNDS times. Prints a checksum (identical
 * on every correct RV64 machine) and exits through the test device. */
#include "rt.h"

#ifndef ROUNDS
#define ROUNDS 60
#endif

#define PTE_V 1ull
#define PTE_RWXAD (0x2ull | 0x4ull | 0x8ull | 0x40ull | 0x80ull)

struct node {
	struct node *next;
	uint64_t val;
};

static struct node nodes[4096];
static uint32_t ma[32][32], mb[32][32], mc[32][32];
static uint8_t text[16384];
static uint64_t root_pt[512] __attribute__((aligned(4096)));

static uint32_t crc32(const uint8_t *p, unsigned n, uint32_t crc)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static long workload(long rounds)
{
	uint64_t sum = 0, x = 12345;
	for (unsigned i = 0; i < 4096; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		nodes[i].val = x >> 33;
		nodes[i].next = &nodes[(i * 1031 + 17) % 4096];
	}
	for (unsigned i = 0; i < 32; i++)
		for (unsigned j = 0; j < 32; j++) {
			ma[i][j] = i * 33 + j;
			mb[i][j] = j * 7 + i;
		}
	for (unsigned i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(" etaoinshrdlu\n"[(i * 7 + (i >> 5)) % 14]);
	for (long r = 0; r < rounds; r++) {
		struct node *n = &nodes[r % 4096];
		for (unsigned i = 0; i < 20000; i++) {
			sum += n->val;
			n = n->next;
		}
		for (unsigned i = 0; i < 32; i++)
			for (unsigned j = 0; j < 32; j++) {
				uint32_t acc = 0;
				for (unsigned k = 0; k < 32; k++)
					acc += ma[i][k] * mb[k][j];
				mc[i][j] = acc + (uint32_t)r;
			}
		sum += mc[r % 32][(r * 7) % 32];
		sum = sum * 31 + crc32(text, 2048, (uint32_t)r);
		unsigned words = 0;
		for (unsigned i = 1; i < sizeof(text); i++)
			words += text[i] == ' ' && text[i - 1] != ' ';
		sum += words;
	}
	return (long)sum;
}

int test_main(void)
{
	/* identity gigapages: devices (0-1 GiB) and RAM (2-3 GiB) */
	root_pt[0] = (0ull >> 12) << 10 | PTE_V | PTE_RWXAD;
	root_pt[2] = (0x80000000ull >> 12) << 10 | PTE_V | PTE_RWXAD;
	csr_write(satp, (8ull << 60) | ((uint64_t)root_pt >> 12));
	__asm__ volatile("sfence.vma" ::: "memory");
	uint64_t t0 = mmio_read64(CLINT_MTIME);
	uint64_t sum = (uint64_t)rt_run_in(PRIV_S, workload, ROUNDS);
	uint64_t t1 = mmio_read64(CLINT_MTIME);
	rt_puts("vm_cpu checksum ");
	rt_puthex(sum);
	rt_puts(" guest_ms ");
	rt_putdec((int64_t)((t1 - t0) / 10000));
	rt_puts("\n");
	return 0;
}
