/* The initramfs writer (read back with libarchive) and kernel module
 * dependency resolution of src/image/. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "image/image_int.h"

/* A minimal ELF64 LE relocatable with sections: null, .shstrtab, .modinfo. */
static size_t make_ko(uint8_t *buf, size_t cap, const char *modinfo, size_t modinfo_len)
{
	static const char shstr[] = "\0.shstrtab\0.modinfo";
	size_t shstr_off = 64, mi_off = 96, sh_off = (mi_off + modinfo_len + 7) & ~(size_t)7;
	size_t total = sh_off + 3 * 64;
	assert_true(total <= cap);
	memset(buf, 0, total);
	memcpy(buf, "\177ELF", 4);
	buf[4] = 2; /* ELFCLASS64 */
	buf[5] = 1; /* little endian */
	buf[6] = 1;
	uint64_t v64 = sh_off;
	memcpy(buf + 0x28, &v64, 8);
	uint16_t v16 = 64;
	memcpy(buf + 0x3a, &v16, 2);
	v16 = 3;
	memcpy(buf + 0x3c, &v16, 2);
	v16 = 1;
	memcpy(buf + 0x3e, &v16, 2);
	memcpy(buf + shstr_off, shstr, sizeof(shstr));
	memcpy(buf + mi_off, modinfo, modinfo_len);
	uint8_t *sh = buf + sh_off + 64; /* [1] .shstrtab */
	uint32_t name = 1;
	memcpy(sh, &name, 4);
	v64 = shstr_off;
	memcpy(sh + 24, &v64, 8);
	v64 = sizeof(shstr);
	memcpy(sh + 32, &v64, 8);
	sh = buf + sh_off + 128; /* [2] .modinfo */
	name = 11;
	memcpy(sh, &name, 4);
	v64 = mi_off;
	memcpy(sh + 24, &v64, 8);
	v64 = modinfo_len;
	memcpy(sh + 32, &v64, 8);
	return total;
}

static void test_kmod_depends(void **state)
{
	uint8_t ko[1024];
	static const char mi[] = "license=GPL\0depends=jbd2,mbcache,crc16\0name=ext4\0";
	size_t n = make_ko(ko, sizeof(ko), mi, sizeof(mi));
	char *deps = NULL;
	struct verr *e = NULL;
	assert_int_equal(kmod_depends(ko, n, &deps, &e), 0);
	assert_string_equal(deps, "jbd2,mbcache,crc16");
	free(deps);
	static const char none[] = "license=GPL\0name=x\0";
	n = make_ko(ko, sizeof(ko), none, sizeof(none));
	assert_int_equal(kmod_depends(ko, n, &deps, &e), 0);
	assert_string_equal(deps, "");
	free(deps);
	/* truncations and corruptions are errors, never reads past the end */
	for (size_t cut = 0; cut < n; cut += 7) {
		if (kmod_depends(ko, cut, &deps, &e) == 0)
			free(deps);
		verr_clear(&e);
	}
	ko[0x3e] = 9; /* shstrndx out of range */
	assert_int_equal(kmod_depends(ko, n, &deps, &e), -1);
	assert_non_null(strstr(e->msg, "section header"));
	verr_clear(&e);
	assert_int_equal(kmod_depends("hello", 5, &deps, &e), -1);
	verr_clear(&e);

	char *nm = kmod_name("kernel/drivers/char/hw_random/virtio-rng.ko.xz");
	assert_string_equal(nm, "virtio_rng");
	free(nm);
}

static void add_mod(struct kmod_set *s, const char *path, const char *deps)
{
	uint8_t ko[1024];
	char mi[256];
	int l = snprintf(mi, sizeof(mi), "depends=%s", deps);
	size_t n = make_ko(ko, sizeof(ko), mi, (size_t)l + 1);
	void *copy = xmalloc(n);
	memcpy(copy, ko, n);
	kmod_set_add(s, path, copy, n);
}

static void test_kmod_order(void **state)
{
	struct kmod_set *s = kmod_set_new();
	struct verr *e = NULL;
	add_mod(s, "kernel/fs/ext4/ext4.ko", "jbd2,mbcache,crc16");
	add_mod(s, "kernel/fs/jbd2/jbd2.ko", "crc16");
	add_mod(s, "kernel/fs/mbcache.ko", "");
	add_mod(s, "kernel/lib/crc16.ko", "");
	add_mod(s, "kernel/drivers/virtio/virtio_mmio.ko", "");
	add_mod(s, "kernel/drivers/block/virtio_blk.ko", "virtio_mmio");
	add_mod(s, "kernel/x/loop-a.ko", "loop_b");
	add_mod(s, "kernel/x/loop-b.ko", "loop_a");
	static const char builtin[] = "kernel/drivers/char/virtio_console.ko\n";
	kmod_set_builtin(s, builtin, sizeof(builtin) - 1);
	assert_int_equal(kmod_set_want(s, "virtio_mmio", &e), 0);
	assert_int_equal(kmod_set_want(s, "virtio-blk", &e), 0);
	assert_int_equal(kmod_set_want(s, "virtio_console", &e), 0); /* built in: skipped */
	assert_int_equal(kmod_set_want(s, "ext4", &e), 0);
	assert_int_equal(kmod_set_want(s, "crc16", &e), 0); /* already there */
	const char **names;
	const void **data;
	const size_t *lens;
	size_t n = kmod_set_order(s, &names, &data, &lens);
	assert_int_equal(n, 6);
	static const char *const want[] = {
		"virtio_mmio.ko", "virtio_blk.ko", "crc16.ko", "jbd2.ko", "mbcache.ko", "ext4.ko",
	};
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
	assert_memory_equal(data[0], "\177ELF", 4);
	assert_int_equal(kmod_set_want(s, "loop_a", &e), -1);
	assert_non_null(strstr(e->msg, "dependency cycle"));
	verr_clear(&e);
	assert_int_equal(kmod_set_want(s, "nosuch", &e), -1);
	assert_string_equal(e->msg, "module nosuch: not in the kernel package");
	verr_clear(&e);
	kmod_set_free(s);
}

struct seen {
	char path[64];
	mode_t mode;
	dev_t rdev;
	char *data;
	size_t len;
};

static size_t read_back(const char *path, struct seen *out, size_t cap)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_cpio(a);
	assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
	size_t n = 0;
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		assert_true(n < cap);
		struct seen *s = &out[n++];
		snprintf(s->path, sizeof(s->path), "%s", archive_entry_pathname(e));
		s->mode = archive_entry_mode(e);
		s->rdev = archive_entry_rdev(e);
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_gid(e), 0);
		s->len = S_ISREG(s->mode) ? (size_t)archive_entry_size(e) : 0;
		s->data = xmalloc(s->len + 1);
		assert_int_equal(archive_read_data(a, s->data, s->len), (la_ssize_t)s->len);
		s->data[s->len] = '\0';
	}
	archive_read_free(a);
	return n;
}

static const struct seen *find(const struct seen *s, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].path, path) == 0)
			return &s[i];
	fail_msg("no %s in the archive", path);
	return NULL;
}

static void test_initramfs(void **state)
{
	char dir[] = "/tmp/vessel-test-ifs.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *out = xasprintf("%s/initrd.img", dir);
	static const char bb[] = "\177ELF fake busybox";
	const char *names[] = { "virtio_mmio.ko", "virtio_blk.ko", "ext4.ko" };
	const void *data[] = { "m1", "m22", "m333" };
	const size_t lens[] = { 2, 3, 4 };
	struct verr *e = NULL;
	assert_int_equal(initramfs_build(out, bb, sizeof(bb), names, data, lens, 3, &e), 0);
	struct seen s[64];
	size_t n = read_back(out, s, 64);
	const struct seen *init = find(s, n, "init");
	assert_true(S_ISREG(init->mode));
	assert_int_equal(init->mode & 07777, 0755);
	assert_string_equal(init->data, initramfs_init_script);
	assert_true(strncmp(init->data, "#!/bin/busybox sh\n", 18) == 0);
	assert_non_null(strstr(init->data, "echo \"vessel-guest: ready"));
	assert_non_null(strstr(init->data, "vessel.cmd=*"));
	assert_non_null(strstr(init->data, "switch_root /newroot /sbin/init"));
	const struct seen *b = find(s, n, "bin/busybox");
	assert_int_equal(b->mode & 07777, 0755);
	assert_int_equal(b->len, sizeof(bb));
	assert_memory_equal(b->data, bb, sizeof(bb));
	const struct seen *sh = find(s, n, "bin/sh");
	assert_true(S_ISLNK(sh->mode));
	const struct seen *con = find(s, n, "dev/console");
	assert_true(S_ISCHR(con->mode));
	assert_int_equal(major(con->rdev), 5);
	assert_int_equal(minor(con->rdev), 1);
	assert_true(S_ISDIR(find(s, n, "proc")->mode));
	assert_string_equal(find(s, n, "lib/modules/load-order")->data,
			    "virtio_mmio.ko\nvirtio_blk.ko\next4.ko\n");
	assert_string_equal(find(s, n, "lib/modules/ext4.ko")->data, "m333");
	/* every directory comes before what it holds */
	for (size_t i = 0; i < n; i++) {
		char parent[64];
		snprintf(parent, sizeof(parent), "%s", s[i].path);
		char *slash = strrchr(parent, '/');
		if (!slash)
			continue;
		*slash = '\0';
		size_t j = 0;
		while (j < i && strcmp(s[j].path, parent) != 0)
			j++;
		if (j == i)
			fail_msg("%s comes before its directory", s[i].path);
	}
	for (size_t i = 0; i < n; i++)
		free(s[i].data);
	/* no temporary file is left behind */
	char *cmd = xasprintf("test $(ls -A %s | wc -l) = 1", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	/* unwritable destination: clear error, nothing left */
	char *bad = xasprintf("%s/nosuchdir/initrd.img", dir);
	assert_int_equal(initramfs_build(bad, bb, sizeof(bb), names, data, lens, 3, &e), -1);
	assert_non_null(strstr(e->msg, "nosuchdir"));
	verr_clear(&e);
	free(bad);
	unlink(out);
	rmdir(dir);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmod_depends),
		cmocka_unit_test(test_kmod_order),
		cmocka_unit_test(test_initramfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
