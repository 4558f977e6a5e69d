/* The root disk builder of src/image/: a directory becomes an ext4 qcow2
 * image; checked with the reference tools (qemu-img check, qemu-img convert,
 * e2fsck -fn, debugfs). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "image/image_int.h"
#include "vm/block/block.h"

static char *sh_out(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *buf = xcalloc(1, 65536);
	size_t n = fread(buf, 1, 65535, p);
	buf[n] = '\0';
	int st = pclose(p);
	if (st != 0)
		fail_msg("'%s' failed (%d): %s", cmd, st, buf);
	return buf;
}

static void test_disk_build(void **state)
{
	char dir[] = "/tmp/vessel-test-disk.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *root = xasprintf("%s/root", dir);
	char *out = xasprintf("%s/root.qcow2", dir);
	assert_int_equal(mkdir(root, 0755), 0);
	static const char bb[] = "#!/bin/sh\necho not really busybox\n";
	struct verr *e = NULL;
	assert_int_equal(disk_populate(root, bb, sizeof(bb) - 1, &e), 0);
	/* a file with data in a later cluster, to exercise zero skipping */
	char *big_path = xasprintf("%s/root/home/big", dir);
	FILE *f = fopen(big_path, "w");
	assert_non_null(f);
	for (int i = 0; i < 200000; i++)
		fprintf(f, "line %d\n", i);
	fclose(f);
	assert_int_equal(disk_build(root, 32u << 20, out, &e), 0);
	assert_null(e);

	struct block *b;
	assert_int_equal(block_open(out, BLOCK_FMT_AUTO, true, &b, &e), 0);
	assert_int_equal(b->format, BLOCK_FMT_QCOW2);
	assert_int_equal(b->size, 32u << 20);
	uint64_t alloc = 0;
	assert_int_equal(b->ops->allocated(b, &alloc), 0);
	/* sparse: far less than the virtual size is stored */
	assert_true(alloc > 0 && alloc < (16u << 20));
	block_close(b);

	char *cmd = xasprintf("qemu-img check -f qcow2 %s 2>&1", out);
	free(sh_out(cmd));
	free(cmd);
	cmd = xasprintf("qemu-img convert -f qcow2 -O raw %s %s/raw && "
			"PATH=$PATH:/sbin:/usr/sbin e2fsck -fn %s/raw 2>&1",
			out, dir, dir);
	free(sh_out(cmd));
	free(cmd);
	cmd = xasprintf("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'cat /bin/busybox' %s/raw 2>/dev/null",
			dir);
	char *got = sh_out(cmd);
	assert_string_equal(got, bb);
	free(got);
	free(cmd);
	cmd = xasprintf("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'cat /home/big' %s/raw 2>/dev/null "
			"| cmp - %s && echo same",
			dir, big_path);
	got = sh_out(cmd);
	assert_string_equal(got, "same\n");
	free(got);
	free(cmd);
	cmd = xasprintf("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'stat /sbin/init' %s/raw 2>/dev/null "
			"| grep -c 'Fast link dest: \"../bin/busybox\"'",
			dir);
	got = sh_out(cmd);
	assert_string_equal(got, "1\n");
	free(got);
	free(cmd);
	cmd = xasprintf("PATH=$PATH:/sbin:/usr/sbin debugfs -R 'cat /etc/init.d/rcS' %s/raw "
			"2>/dev/null | grep -c 'vessel-guest: ready (disk)'",
			dir);
	got = sh_out(cmd);
	assert_string_equal(got, "1\n");
	free(got);
	free(cmd);

	/* errors: too small, and a missing source directory; nothing left */
	assert_int_equal(disk_build(root, 1u << 20, out, &e), -1);
	assert_non_null(strstr(e->msg, "at least 8 MiB"));
	verr_clear(&e);
	char *out2 = xasprintf("%s/other.qcow2", dir);
	char *nodir = xasprintf("%s/nosuchdir", dir);
	assert_int_equal(disk_build(nodir, 16u << 20, out2, &e), -1);
	assert_non_null(strstr(e->msg, "mke2fs failed"));
	verr_clear(&e);
	assert_int_equal(access(out2, F_OK), -1);
	free(out2);
	free(nodir);

	cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(big_path);
	free(root);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
