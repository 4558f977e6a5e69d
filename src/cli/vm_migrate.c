/* `vessel vm migrate`: starts a live migration through a VM's control API
 * (POST /vm/migrate, which answers when it is over) and follows it with
 * GET /vm/migration on a second connection. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "vm/api/api.h"

static void migrate_usage(FILE *f)
{
	fputs("usage: vessel vm migrate --api-socket PATH --to tcp:HOST:PORT [--mode precopy|postcopy]\n"
	      "                         [--precopy-rounds N] [--disks shared|copy] [--max-downtime-ms N]\n"
	      "                         [--wait] [--json]\n"
	      "       vessel vm migrate-postcopy|migrate-cancel --api-socket PATH\n"
	      "\n"
	      "Moves the running VM to a `vessel vm run --incoming tcp:HOST:PORT` process.\n"
	      "precopy (default) copies memory while the guest runs, then pauses it for the\n"
	      "last pages (at most --max-downtime-ms at the measured bandwidth, default 20);\n"
	      "postcopy starts the guest on the destination at once and moves memory after,\n"
	      "after up to --precopy-rounds precopy rounds (default 0).\n"
	      "--disks shared (default): the destination opens the same disk files;\n"
	      "--disks copy: it has its own images (same virtual sizes), and the disks'\n"
	      "contents are streamed into them while the guest runs.\n"
	      "With --wait, shows progress and the final figures; without, returns once\n"
	      "the migration is under way (follow it with GET /vm/migration).\n"
	      "migrate-postcopy switches a running migration to postcopy after its current\n"
	      "precopy round (for a guest that writes memory faster than precopy copies it);\n"
	      "migrate-cancel stops it, and the VM runs on here (until the VM stops for the\n"
	      "last pages or the switch: after that it is too late).\n"
	      "Exit status: 0 done (or started), 1 failed, 2 bad usage.\n",
	      f);
}

static void show_progress(json_t *p)
{
	fprintf(stderr, "migration: %s, round %lld, %.1f MiB sent, %lld pages left, %.0f MiB/s", cli_jstr(p, "phase"),
		cli_jint(p, "iterations"), (double)cli_jint(p, "bytes") / (1 << 20), cli_jint(p, "remaining_pages"),
		(double)cli_jint(p, "bandwidth_bps") / (1 << 20));
	if (!strcmp(cli_jstr(p, "disks"), "copy"))
		fprintf(stderr, ", disks: %.1f MiB sent, %.1f MiB left", (double)cli_jint(p, "disk_bytes") / (1 << 20),
			(double)cli_jint(p, "disk_remaining_bytes") / (1 << 20));
	if (cli_jint(p, "throttle_percent"))
		fprintf(stderr, ", vCPUs throttled %lld%%", cli_jint(p, "throttle_percent"));
	fputc('\n', stderr);
}

struct migrate_follow {
	const char *to, *mode;
	bool wait;
	uint64_t last_print;
};

static void follow_progress(json_t *p, void *opaque)
{
	struct migrate_follow *mf = opaque;
	if (strcmp(cli_jstr(p, "status"), "active"))
		return;
	if (!mf->wait) {
		printf("migration to %s started (%s)\n", mf->to, mf->mode);
		fflush(stdout);
		_exit(0); /* the VM carries on; the POST's answer is not needed */
	}
	if (now_ns() - mf->last_print > 1000000000ull) {
		show_progress(p);
		mf->last_print = now_ns();
	}
}

int cli_vm_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "disks", required_argument, NULL, 'D' },
		{ "max-downtime-ms", required_argument, NULL, 'd' },
		{ "precopy-rounds", required_argument, NULL, 'r' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *to = NULL, *mode = "precopy", *disks = NULL;
	long long downtime = 0, rounds = -1;
	bool wait = false, json_out = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 't': to = optarg; break;
		case 'm':
			if (strcmp(optarg, "precopy") && strcmp(optarg, "postcopy")) {
				fprintf(stderr, "vessel vm migrate: --mode '%s': expected precopy or postcopy\n", optarg);
				return 2;
			}
			mode = optarg;
			break;
		case 'D':
			if (strcmp(optarg, "shared") && strcmp(optarg, "copy")) {
				fprintf(stderr, "vessel vm migrate: --disks '%s': expected shared or copy\n", optarg);
				return 2;
			}
			disks = optarg;
			break;
		case 'd': {
			char *end;
			downtime = strtoll(optarg, &end, 10);
			if (!*optarg || *end || downtime < 1 || downtime > 3600000) {
				fprintf(stderr, "vessel vm migrate: --max-downtime-ms '%s': expected 1 to 3600000\n",
					optarg);
				return 2;
			}
			break;
		}
		case 'r': {
			char *end;
			rounds = strtoll(optarg, &end, 10);
			if (!*optarg || *end || rounds < 0 || rounds > VM_API_MAX_PRECOPY_ROUNDS) {
				fprintf(stderr, "vessel vm migrate: --precopy-rounds '%s': expected 0 to %d\n", optarg,
					VM_API_MAX_PRECOPY_ROUNDS);
				return 2;
			}
			break;
		}
		case 'w': wait = true; break;
		case 'j': json_out = true; break;
		case 'h': migrate_usage(stdout); return 0;
		default: migrate_usage(stderr); return 2;
		}
	}
	if (!sock || !to || optind != argc) {
		fprintf(stderr, "vessel vm migrate: %s\n",
			optind != argc ? "unexpected argument" : "--api-socket PATH and --to tcp:HOST:PORT are required");
		return 2;
	}
	if (rounds >= 0 && strcmp(mode, "postcopy")) {
		fprintf(stderr, "vessel vm migrate: --precopy-rounds needs --mode postcopy\n");
		return 2;
	}
	struct migrate_follow mf = { .to = to, .mode = mode, .wait = wait };
	struct cli_follow j = {
		.sock = sock,
		.post_path = "/vm/migrate",
		.poll_path = "/vm/migration",
		.interval_ms = 100,
		.progress = follow_progress,
		.opaque = &mf,
	};
	j.body = json_pack("{s:s, s:s}", "to", to, "mode", mode);
	if (downtime)
		json_object_set_new(j.body, "max_downtime_ms", json_integer(downtime));
	if (rounds >= 0)
		json_object_set_new(j.body, "precopy_rounds", json_integer(rounds));
	if (disks)
		json_object_set_new(j.body, "disks", json_string(disks));
	/* Follow it until the POST answers (or, without --wait, until it runs). */
	if (cli_follow_post(&j) < 0) {
		json_decref(j.body);
		fprintf(stderr, "vessel vm migrate: cannot start a thread\n");
		return 1;
	}
	json_decref(j.body);
	int ret = 0;
	if (j.status < 0) {
		fprintf(stderr, "vessel vm migrate: %s\n", j.err->msg);
		verr_free(j.err);
		ret = 1;
	} else if (j.status != 200) {
		fprintf(stderr, "vessel vm migrate: %s (HTTP %ld)\n",
			j.reply ? cli_jstr(j.reply, "error") : "no answer", j.status);
		ret = 1;
	} else if (json_out) {
		char *s = json_dumps(j.reply, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	} else {
		printf("migrated to %s (%s): total %lld ms, downtime %.2f ms, %lld rounds, %lld bytes", to,
		       cli_jstr(j.reply, "mode"), cli_jint(j.reply, "total_ms"),
		       json_number_value(json_object_get(j.reply, "downtime_ms")),
		       cli_jint(j.reply, "iterations"), cli_jint(j.reply, "bytes"));
		if (!strcmp(cli_jstr(j.reply, "disks"), "copy"))
			printf(", disks copied: %lld bytes", cli_jint(j.reply, "disk_bytes"));
		putchar('\n');
	}
	json_decref(j.reply);
	return ret;
}

/* migrate-postcopy / migrate-cancel: one POST on the current migration. */
static int migration_action(int argc, char **argv, const char *path, const char *done)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0], *sock = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'h': migrate_usage(stdout); return 0;
		default: migrate_usage(stderr); return 2;
		}
	}
	if (!sock || optind != argc) {
		fprintf(stderr, "vessel vm %s: %s\n", cmd,
			optind != argc ? "unexpected argument" : "--api-socket PATH is required");
		return 2;
	}
	long status = 0;
	json_t *reply = NULL;
	struct verr *e = NULL;
	if (vm_api_call(sock, "POST", path, NULL, &status, &reply, &e) < 0) {
		fprintf(stderr, "vessel vm %s: %s\n", cmd, e->msg);
		verr_free(e);
		return 1;
	}
	int ret = 0;
	if (status != 204) {
		fprintf(stderr, "vessel vm %s: %s (HTTP %ld)\n", cmd, reply ? cli_jstr(reply, "error") : "no answer", status);
		ret = 1;
	} else {
		printf("%s\n", done);
	}
	json_decref(reply);
	return ret;
}

int cli_vm_migrate_postcopy(int argc, char **argv)
{
	return migration_action(argc, argv, "/vm/migration/postcopy",
				"switching to postcopy after the current precopy round");
}

int cli_vm_migrate_cancel(int argc, char **argv)
{
	return migration_action(argc, argv, "/vm/migration/cancel",
				"cancelling the migration (the VM runs on here)");
}
