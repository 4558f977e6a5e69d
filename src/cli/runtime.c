#include <stdio.h>

#include "cli/cli.h"

int cli_runtime_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("vessel runtime: not built yet\n", stderr);
	return 2;
}
