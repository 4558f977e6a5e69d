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

/* A POST that the CLI follows (vm_follow.c): the request runs on a thread;
 * meanwhile, every interval_ms, `progress` gets each 200 answer of GET
 * poll_path (no polling when progress is NULL). */
typedef struct json_t json_t;
struct verr;
struct cli_follow {
	const char *sock, *post_path, *poll_path;
	json_t *body; /* borrowed */
	unsigned interval_ms;
	void (*progress)(json_t *answer, void *opaque);
	void *opaque;
	/* results: the POST's HTTP status and parsed answer (the caller
	 * json_decref()s reply), or status -1 with err set when it could not
	 * be sent (the caller frees err) */
	long status;
	json_t *reply;
	struct verr *err;
};
/* Runs it; 0 once the POST answered or failed (see status), -1 when no
 * thread could be started. */
int cli_follow_post(struct cli_follow *f);
/* o[key] as a string ("" when absent) / an integer (0 when absent). */
const char *cli_jstr(json_t *o, const char *key);
long long cli_jint(json_t *o, const char *key);

#endif
