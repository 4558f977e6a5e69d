/* `vessel image`: disk images for users without qemu-img. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/cli.h"
#include "image/image.h"
#include "vm/block/block.h"

static void usage(FILE *f)
{
	fputs("usage: vessel image create FILE SIZE [--backing BASE]\n"
	      "       vessel image create FILE --backing BASE      (size of the base)\n"
	      "       vessel image info FILE\n"
	      "       vessel image pull debian [--release trixie] [--mirror URL]\n"
	      "                                [--disk SIZE [--output FILE]]\n"
	      "\n"
	      "create   makes a qcow2 (v3) image; with --backing, a copy-on-write overlay\n"
	      "         whose unwritten clusters read from BASE (a relative BASE is taken\n"
	      "         relative to FILE's directory, as qemu-img does)\n"
	      "info     prints the format, sizes and the backing chain of an image\n"
	      "pull     fetches Debian's riscv64 kernel and busybox from a Debian mirror,\n"
	      "         verifies them (gpgv, SHA256) and builds an initramfs under\n"
	      "         ${XDG_CACHE_HOME:-~/.cache}/vessel/images/debian/; with --disk, also\n"
	      "         an ext4 root disk (qcow2; default root.qcow2 there) that boots with\n"
	      "         --append root=/dev/vda\n",
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

#ifndef VESSEL_IMAGE_PULL_EXEC
struct pull_ui {
	bool tty;
	bool line_open;
};

static void pull_progress(void *ctx, const char *what, uint64_t done, uint64_t total,
			  uint64_t elapsed_ns)
{
	struct pull_ui *ui = ctx;
	if (!ui->tty)
		return;
	char d[32], t[32], r[32];
	human(done, d, sizeof(d));
	double secs = (double)elapsed_ns / 1e9;
	char rate[48] = "";
	if (secs > 0.2) {
		human((uint64_t)((double)done / secs), r, sizeof(r));
		snprintf(rate, sizeof(rate), ", %s/s", r);
	}
	if (total) {
		human(total, t, sizeof(t));
		fprintf(stderr, "\r\033[K%s: %s / %s (%3.0f%%)%s", what, d, t,
			100.0 * (double)done / (double)total, rate);
	} else {
		fprintf(stderr, "\r\033[K%s: %s%s", what, d, rate);
	}
	ui->line_open = true;
}

static void pull_end_line(struct pull_ui *ui)
{
	if (ui->line_open)
		fputc('\n', stderr);
	ui->line_open = false;
}

static void pull_note(void *ctx, const char *msg)
{
	struct pull_ui *ui = ctx;
	pull_end_line(ui);
	fprintf(stderr, "%s\n", msg);
}

static int cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "release", required_argument, NULL, 'r' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "keyring", required_argument, NULL, 'k' },
		{ "disk", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pull_ui ui = { .tty = isatty(2) };
	struct image_pull_opts o = {
		.progress = pull_progress, .note = pull_note, .cb_ctx = &ui,
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:m:k:d:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': o.release = optarg; break;
		case 'm': o.mirror = optarg; break;
		case 'k': o.keyring = optarg; break;
		case 'd':
			if (parse_size(optarg, &o.disk_size) < 0 || o.disk_size == 0) {
				fprintf(stderr, "vessel image: invalid disk size '%s' (use e.g. 1G, 512M)\n",
					optarg);
				return 2;
			}
			break;
		case 'o': o.disk_output = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	if (o.disk_output && !o.disk_size) {
		fprintf(stderr, "vessel image: --output needs --disk SIZE\n");
		return 2;
	}
	o.name = argv[optind];
	struct verr *e = NULL;
	struct image_pull_result res = { 0 };
	int r = image_pull(&o, &res, &e);
	pull_end_line(&ui);
	if (r < 0)
		return fail(e);
	char b[32];
	human(res.bytes, b, sizeof(b));
	double secs = (double)res.elapsed_ns / 1e9;
	if (res.up_to_date)
		printf("%s: up to date (%s %s, kernel %s)\n", o.name, res.kernel_package,
		       res.kernel_version, res.kernel_release);
	else
		printf("%s: pulled %s %s (kernel %s, %u modules), busybox-static %s\n", o.name,
		       res.kernel_package, res.kernel_version, res.kernel_release, res.n_modules,
		       res.busybox_version);
	printf("%u files downloaded, %s in %.1f s\n", res.downloads, b, secs);
	printf("kernel: %s/Image\ninitrd: %s/initrd.img\n", res.dir, res.dir);
	if (res.disk)
		printf("disk:   %s (boot with --append \"root=/dev/vda\")\n", res.disk);
	image_pull_result_free(&res);
	return 0;
}

#else
/* The VMM binary does not link the puller: run vessel-image, which lives
 * next to this executable. */
static int cmd_pull(int argc, char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		perror("vessel image: /proc/self/exe");
		return 1;
	}
	self[n] = 0;
	char *slash = strrchr(self, '/');
	cleanup_free char *tool = xasprintf("%.*s/vessel-image", slash ? (int)(slash - self) : 1,
					    slash ? self : ".");
	char **nargv = xcalloc((size_t)argc + 2, sizeof(char *));
	nargv[0] = "vessel-image";
	nargv[1] = "pull";
	for (int i = 1; i < argc; i++)
		nargv[i + 1] = argv[i];
	execv(tool, nargv);
	fprintf(stderr, "vessel image: cannot run '%s': %s (it is built and installed next to vessel)\n", tool,
		strerror(errno));
	free(nargv);
	return 1;
}
#endif

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
	if (strcmp(cmd, "pull") == 0)
		return cmd_pull(argc - 1, argv + 1);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vessel image: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
