/* The lean `vessel-runtime` binary: the OCI runtime alone, linked only with
 * what it needs (jansson, libseccomp, libcap, statically where the system
 * has archives). A container start execs the runtime several times (the
 * sealed memfd re-exec, conmon's create/start/state calls), and each exec
 * of the full `vessel` binary pays for loading ~50 shared libraries the
 * runtime never uses; see docs/architecture.md. `vessel runtime ...` runs the
 * same code inside the full binary. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_runtime_main(argc, argv);
}
