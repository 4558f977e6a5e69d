/* `vessel-image`: the image commands with the puller (libcurl, libarchive).
 * `vessel image pull` execs it, so that the VMM binary itself does not load
 * those libraries; see docs/architecture.md. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_image_main(argc, argv);
}
