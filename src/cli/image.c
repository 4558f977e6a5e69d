#include <stdio.h>

#include "cli/cli.h"

int cli_image_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("vessel image: no subcommands yet (guest images arrive with the paravirtual I/O work)\n", stderr);
	return 2;
}
