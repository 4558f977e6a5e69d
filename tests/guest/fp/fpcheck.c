/* Replays the lines printed by fpvec (see fpvec.c) through fpu_exec and
 * reports every difference in result or fflags. Host program, built with
 * src/vm/cpu/fpu.c. Usage: fpvec N SEED | fpcheck [-v]
 * Exit status 0 when every line matched, 1 otherwise. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vm/cpu/fpu.h"

int main(int argc, char **argv)
{
	int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	char line[512];
	unsigned long n = 0, bad = 0;
	while (fgets(line, sizeof(line), stdin)) {
		unsigned insn, frm, fl;
		uint64_t f11, f12, f13, x11, f14, x14;
		if (sscanf(line,
			   "%x %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %u | %" SCNx64 " %" SCNx64
			   " %x",
			   &insn, &f11, &f12, &f13, &x11, &frm, &f14, &x14, &fl) != 9)
			continue;
		struct fpu_state fs;
		uint64_t x[32];
		memset(&fs, 0, sizeof(fs));
		memset(x, 0, sizeof(x));
		fs.f[11] = f11;
		fs.f[12] = f12;
		fs.f[13] = f13;
		fs.f[14] = 0x5555555555555555ull;
		x[11] = x11;
		x[14] = 0xaaaaaaaaaaaaaaaaull;
		fs.frm = (uint8_t)frm;
		int rc = fpu_exec(&fs, x, insn);
		n++;
		if (rc != 0 || fs.f[14] != f14 || x[14] != x14 || fs.fflags != fl) {
			bad++;
			if (verbose || bad <= 30)
				printf("MISMATCH %s  got rc=%d f=%016" PRIx64 " x=%016" PRIx64 " fl=%02x\n",
				       strtok(line, "\n"), rc, fs.f[14], x[14], fs.fflags);
		}
	}
	printf("%lu vectors, %lu mismatches\n", n, bad);
	return bad != 0;
}
