/* `vessel vm snapshot`: writes a snapshot through a VM's control API (POST
 * /vm/snapshot, which answers once the file is on disk); on a terminal it
 * follows the writer with GET /vm/snapshot on a second connection. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "vm/api/api.h"

static void snapshot_usage(FILE *f)
{
	fputs("usage: vessel vm snapshot --api-socket PATH [--paused] [--json] FILE\n"
	      "\n"
	      "Writes the running VM's state and RAM to FILE (replaced atomically). The\n"
	      "guest pauses only while the VMM forks; a copy-on-write child writes the\n"
	      "file. --paused leaves the VM paused afterwards. On a terminal, shows the\n"
	      "writer's progress; then prints the size, how long the guest was paused, the\n"
	      "total time and the rate. Exit status: 0 written, 1 failed, 2 bad usage.\n",
	      f);
}

/* One progress line, rewritten in place. */
static void show_progress(json_t *p)
{
	const char *phase = json_string_value(json_object_get(p, "phase"));
	long long bytes = cli_jint(p, "bytes"), total = cli_jint(p, "total_bytes");
	fprintf(stderr, "\r\033[Ksnapshot: %s", phase ? phase : "?");
	if (total > 0)
		fprintf(stderr, ", %.1f of %.1f MiB (%lld%%)", (double)bytes / (1 << 20), (double)total / (1 << 20),
			bytes * 100 / total);
	else if (bytes > 0)
		fprintf(stderr, ", %.1f MiB", (double)bytes / (1 << 20));
	fflush(stderr);
}

static void follow_progress(json_t *p, void *opaque)
{
	if (strcmp(cli_jstr(p, "status"), "active"))
		return;
	show_progress(p);
	*(bool *)opaque = true;
}

int cli_vm_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 's' },
		{ "paused", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	bool paused = false, json_out = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'p': paused = true; break;
		case 'j': json_out = true; break;
		case 'h': snapshot_usage(stdout); return 0;
		default: snapshot_usage(stderr); return 2;
		}
	}
	if (!sock) {
		fprintf(stderr, "vessel vm snapshot: --api-socket PATH is required\n");
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vessel vm snapshot: expected one FILE\n");
		return 2;
	}
	/* the server resolves relative paths against its own directory: send
	 * an absolute one */
	const char *file = argv[optind];
	cleanup_free char *abs = NULL;
	if (file[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd))) {
			perror("vessel vm snapshot: getcwd");
			return 1;
		}
		abs = xasprintf("%s/%s", cwd, file);
		file = abs;
	}
	bool shown = false;
	struct cli_follow j = {
		.sock = sock,
		.post_path = "/vm/snapshot",
		.poll_path = "/vm/snapshot",
		.interval_ms = 200,
		.progress = isatty(STDERR_FILENO) && !json_out ? follow_progress : NULL,
		.opaque = &shown,
	};
	j.body = json_pack("{s:s, s:b}", "path", file, "paused", paused);
	if (cli_follow_post(&j) < 0) {
		json_decref(j.body);
		fprintf(stderr, "vessel vm snapshot: cannot start a thread\n");
		return 1;
	}
	json_decref(j.body);
	if (shown)
		fputs("\r\033[K", stderr);
	int ret = 0;
	if (j.status < 0) {
		fprintf(stderr, "vessel vm snapshot: %s\n", j.err->msg);
		verr_free(j.err);
		ret = 1;
	} else if (j.status != 200) {
		json_t *e = j.reply ? json_object_get(j.reply, "error") : NULL;
		fprintf(stderr, "vessel vm snapshot: %s (HTTP %ld)\n", json_is_string(e) ? json_string_value(e) : "failed",
			j.status);
		ret = 1;
	} else if (json_out) {
		char *s = json_dumps(j.reply, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	} else {
		long long bytes = cli_jint(j.reply, "bytes"), total_ms = cli_jint(j.reply, "total_ms");
		printf("snapshot %s: %lld bytes (%.1f MiB), VM paused %lld ms, %lld ms in all (%.0f MiB/s)%s\n", file,
		       bytes, (double)bytes / (1 << 20), cli_jint(j.reply, "ms"), total_ms,
		       total_ms > 0 ? (double)bytes / (1 << 20) * 1000 / (double)total_ms : 0.0,
		       paused ? ", stays paused" : "");
	}
	json_decref(j.reply);
	return ret;
}
