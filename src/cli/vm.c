#include <stdio.h>

#include "cli/cli.h"

int cli_vm_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("vessel vm: not built yet\n", stderr);
	return 2;
}
