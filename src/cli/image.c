/* `vessel image`: disk images for users without qemu-img. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "vm/block/block.h"

static void usage(FILE *f)
{
	fputs("usage: vessel image create FILE SIZE [--backing BASE]\n"
	      "       vessel image create FILE --backing BASE      (size of the base)\n"
	      "       vessel image info FILE\n"
	      "\n"
	      "create   makes a qcow2 (v3) image; with --backing, a copy-on-write overlay\n"
	      "         whose unwritten clusters read from BASE (a relative BASE is taken\n"
	      "         relative to FILE's directory, as qemu-img does)\n"
	      "info     prints the format, sizes and the backing chain of an image\n",
	      f);
}

static int fail(struct verr *e)
{
	fprintf(stderr, "vessel image: %s\n", e->msg);
	verr_free(e);
	return 1;
}

static void human(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;
	double d = (double)v;
	while (d >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)v);
	else
		snprintf(buf, len, "%.3g %s", d, units[u]);
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backing", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *backing = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': backing = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	int rest = argc - optind;
	if (rest < 1 || rest > 2 || (rest == 1 && !backing)) {
		usage(stderr);
		return 2;
	}
	const char *file = argv[optind];
	uint64_t size = 0;
	if (rest == 2 && parse_size(argv[optind + 1], &size) < 0) {
		fprintf(stderr, "vessel image: invalid size '%s' (use e.g. 4G, 512M, 1048576)\n",
			argv[optind + 1]);
		return 2;
	}
	struct verr *e = NULL;
	if (qcow2_create(file, size, backing, &e) < 0)
		return fail(e);
	struct block *b;
	if (block_open(file, BLOCK_FMT_QCOW2, true, &b, &e) < 0)
		return fail(e);
	char hs[32];
	human(b->size, hs, sizeof(hs));
	printf("created %s: qcow2, %s (%llu bytes)%s%s\n", file, hs, (unsigned long long)b->size,
	       backing ? ", backing file " : "", backing ? backing : "");
	block_close(b);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		usage(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	struct verr *e = NULL;
	struct block *top;
	if (block_open(argv[1], BLOCK_FMT_AUTO, true, &top, &e) < 0)
		return fail(e);
	unsigned depth = 0;
	for (struct block *b = top; b; b = b->backing, depth++) {
		struct stat st;
		uint64_t alloc = 0;
		char vs[32], ds[32], as[32];
		int r = b->ops->allocated(b, &alloc);
		if (r < 0) {
			verr_set(&e, -r, "read '%s'", b->path);
			block_close(top);
			return fail(e);
		}
		human(b->size, vs, sizeof(vs));
		human(stat(b->path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0, ds, sizeof(ds));
		human(alloc, as, sizeof(as));
		printf("%simage: %s\n", depth ? "\n" : "", b->path);
		printf("format: %s\n", block_format_name(b->format));
		printf("virtual size: %s (%llu bytes)\n", vs, (unsigned long long)b->size);
		printf("disk size: %s\n", ds);
		printf("allocated: %s (%.1f%% of the virtual size, in this file)\n", as,
		       b->size ? 100.0 * (double)alloc / (double)b->size : 0.0);
		if (b->backing_path)
			printf("backing file: %s (%s)\n", b->backing_path, block_format_name(b->backing->format));
	}
	block_close(top);
	return 0;
}

int cli_image_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "create") == 0)
		return cmd_create(argc - 1, argv + 1);
	if (strcmp(cmd, "info") == 0)
		return cmd_info(argc - 1, argv + 1);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vessel image: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
