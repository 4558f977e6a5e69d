/* Command groups of the `vessel` binary. Each takes the arguments that follow
 * its group name (argv[0] is the group name, or the program name for the
 * runtime when invoked as `vessel-runtime`) and returns the exit status. */
#ifndef VESSEL_CLI_H
#define VESSEL_CLI_H

int cli_vm_main(int argc, char **argv);
int cli_runtime_main(int argc, char **argv);
int cli_image_main(int argc, char **argv);
/* `vessel vm migrate` (vm_migrate.c); argv[0] is "migrate". */
int cli_vm_migrate(int argc, char **argv);
/* `vessel vm migrate-postcopy`: POST /vm/migration/postcopy (vm_migrate.c). */
int cli_vm_migrate_postcopy(int argc, char **argv);
/* `vessel vm migrate-cancel`: POST /vm/migration/cancel (vm_migrate.c). */
int cli_vm_migrate_cancel(int argc, char **argv);
/* `vessel vm snapshot` (vm_snapshot.c); argv[0] is "snapshot". */
int cli_vm_snapshot(int argc, char **argv);

#endif
