/* Firmware guest for tests/integration/vm/migrate_switch.sh and api.sh (built
 * by build_dirty_fw.sh): a bare-metal M-mode program (`vessel vm run --bios`,
 * loaded at 0x80000000, no kernel to boot) that dirties memory as fast as it
 * can: one word in every page of the 32 MiB at 0x81000000 (the guest needs
 * 64 MiB), round after round. About every 100 ms of guest time (mtime,
 * 10 MHz) it prints "C: N" on the UART with a counter kept in guest RAM, so
 * a migrated guest shows whether it continues where it was. */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000ul)
#define MTIME (*(volatile uint64_t *)0x0200bff8ul)
#define BUF ((volatile uint8_t *)0x81000000ul)
#define BUF_LEN (32ul << 20)

static uint64_t counter; /* in guest RAM: travels with the VM */

static void put_char(char c)
{
	while (!(UART[5] & 0x20)) /* LSR: transmitter holding register empty */
		;
	UART[0] = (uint8_t)c;
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_dec(uint64_t v)
{
	char b[24];
	int n = 0;
	do
		b[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		put_char(b[--n]);
}

void fw_main(void);

__attribute__((section(".text.entry"), naked)) void fw_start(void)
{
	__asm__ volatile("li sp, 0x80800000\n"
			 "j fw_main\n");
}

void fw_main(void)
{
	put_str("dirty-fw: running\n");
	uint64_t last = MTIME;
	for (uint64_t round = 1;; round++) {
		for (uint64_t off = 0; off < BUF_LEN; off += 4096)
			*(volatile uint64_t *)(BUF + off) = round;
		if (MTIME - last >= 1000000) {
			last = MTIME;
			counter++;
			put_str("C: ");
			put_dec(counter);
			put_char('\n');
		}
	}
}
