/* Multi-call entry point: `vessel GROUP ...`, or the OCI runtime directly
 * when invoked through a link named `vessel-runtime`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef VESSEL_VERSION
#define VESSEL_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
	fputs("usage: vessel COMMAND [ARGS...]\n"
	      "\n"
	      "commands:\n"
	      "  vm        run and control virtual machines (vessel vm --help)\n"
	      "  runtime   OCI container runtime, runc-compatible (also as vessel-runtime)\n"
	      "  image     guest kernels and disk images\n"
	      "  version   print the version\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/');
	prog = prog ? prog + 1 : argv[0];
	if (strcmp(prog, "vessel-runtime") == 0)
		return cli_runtime_main(argc, argv);

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "vm") == 0)
		return cli_vm_main(argc - 1, argv + 1);
	if (strcmp(cmd, "runtime") == 0)
		return cli_runtime_main(argc - 1, argv + 1);
	if (strcmp(cmd, "image") == 0)
		return cli_image_main(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vessel %s\n", VESSEL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vessel: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
