/* Debian index parsers (Release SHA256 section, Packages stanzas, Depends)
 * and the SHA-256 helpers of src/image/. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "image/apt_index.h"
#include "image/image_int.h"
#include "image/image.h"

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static const char release_text[] =
	"Origin: Debian\n"
	"Suite: stable\n"
	"Codename: trixie\n"
	"Date: Sat, 12 Sep 2026 07:55:41 UTC\n"
	"Acquire-By-Hash: yes\n"
	"Description: Debian 13\n"
	"MD5Sum:\n"
	" 951bf2d54ce4b931674e501064778302   164344 main/binary-riscv64/Packages\n"
	"SHA256:\n"
	" " H1 " 54322586 main/binary-riscv64/Packages\n"
	" " H2 "  9385284 main/binary-riscv64/Packages.xz\n";

static void test_release(void **state)
{
	struct apt_release *r = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_release_parse(release_text, strlen(release_text), &r, &e), 0);
	assert_null(e);
	assert_string_equal(r->suite, "stable");
	assert_string_equal(r->codename, "trixie");
	assert_true(r->by_hash);
	assert_int_equal(r->n_files, 2); /* MD5Sum lines are not SHA256 entries */
	const struct apt_release_file *f = apt_release_find(r, "main/binary-riscv64/Packages.xz");
	assert_non_null(f);
	assert_int_equal(f->size, 9385284);
	for (int i = 0; i < 32; i++)
		assert_int_equal(f->sha256[i], 0xff);
	f = apt_release_find(r, "main/binary-riscv64/Packages");
	assert_non_null(f);
	assert_int_equal(f->sha256[0], 0x01);
	assert_int_equal(f->sha256[31], 0xef);
	assert_null(apt_release_find(r, "main/binary-amd64/Packages"));
	apt_release_free(r);
}

/* Each malformed Release gives an error whose message contains `want`. */
static void release_bad(const char *text, const char *want)
{
	struct apt_release *r = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_release_parse(text, strlen(text), &r, &e), -1);
	assert_null(r);
	assert_non_null(e);
	if (!strstr(e->msg, want))
		fail_msg("'%s' does not contain '%s'", e->msg, want);
	verr_free(e);
}

static void test_release_malformed(void **state)
{
	release_bad("Suite: stable\n", "no SHA256 field");
	release_bad("SHA256:\n " H1 " 12x main/x\n", "line 2: SHA256 field: invalid size");
	release_bad("SHA256:\n 0123 12 main/x\n", "line 2: SHA256 field: invalid hash");
	release_bad("SHA256:\n " H1 " 12\n", "missing file name");
	release_bad("SHA256:\n " H1 " 12 a b\n", "trailing text");
	release_bad("SHA256: " H1 " 12 a\n", "expected the list on the next lines");
	release_bad("Suite: a\nbroken line\n", "line 2: expected 'Field: value'");
	release_bad(" leading continuation\n", "line 1: continuation line without a field");
	release_bad("Suite: a\n\nSuite: b\n", "second");
	release_bad("Suite: a\nSuite: b\nSHA256:\n", "given twice");
	release_bad("SHA256:\n " H1 " 99999999999999999999 a\n", "invalid size");
	static const char nul[] = "Suite: a\nCodename: b\0c\nSHA256:\n";
	struct apt_release *r = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_release_parse(nul, sizeof(nul) - 1, &r, &e), -1);
	assert_string_equal(e->msg, "Release file: line 2: NUL byte in text");
	verr_free(e);
}

static const char packages_text[] =
	"Package: linux-image-riscv64\n"
	"Source: linux-signed-riscv64 (6.12.107+1)\n"
	"Version: 6.12.107-1\n"
	"Depends: linux-image-6.12.107+deb13-riscv64 (= 6.12.107-1)\n"
	"Filename: pool/main/l/linux/linux-image-riscv64_6.12.107-1_riscv64.deb\n"
	"Size: 1234\n"
	"SHA256: " H1 "\n"
	"Description: Linux for 64-bit RISC-V (meta-package)\n"
	" This package depends on the latest Linux kernel\n"
	" .\n"
	" and modules for use on RISC-V.\n"
	"\n"
	"\n"
	"Package: linux-image-6.12.107+deb13-riscv64\n"
	"Version: 6.12.107-1\n"
	"Depends: kmod,\n"
	" linux-base (>= 4.3~),\n"
	"\tinitramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool\n"
	"Filename: pool/main/l/linux/linux-image-6.12.107+deb13-riscv64_6.12.107-1_riscv64.deb\n"
	"Size: 112012420\n"
	"SHA256: " H2 "\n"
	"\n"
	"Package: busybox-static\n"
	"Version: 1:1.37.0-6+b9\n"
	"Filename: pool/main/b/busybox/busybox-static_1.37.0-6+b9_riscv64.deb\n"
	"Size: 941532\n"
	"SHA256: " H1 "\n";

static void test_packages(void **state)
{
	struct apt_packages *p = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_packages_parse(packages_text, strlen(packages_text), &p, &e), 0);
	assert_int_equal(p->n, 3);
	const struct apt_package *k = apt_packages_find(p, "linux-image-6.12.107+deb13-riscv64");
	assert_non_null(k);
	assert_int_equal(k->size, 112012420);
	assert_int_equal(k->sha256[0], 0xff);
	assert_string_equal(k->version, "6.12.107-1");
	/* folded Depends joined on one line */
	assert_null(strchr(k->depends, '\n'));
	char **deps = NULL;
	assert_int_equal(apt_depends_first(k->depends, &deps, &e), 3);
	assert_string_equal(deps[0], "kmod");
	assert_string_equal(deps[1], "linux-base");
	assert_string_equal(deps[2], "initramfs-tools");
	assert_null(deps[3]);
	apt_strv_free(deps);
	const struct apt_package *b = apt_packages_find(p, "busybox-static");
	assert_non_null(b);
	assert_null(b->depends);
	assert_string_equal(b->version, "1:1.37.0-6+b9");
	assert_null(apt_packages_find(p, "busybox"));
	apt_packages_free(p);
}

static void packages_bad(const char *text, const char *want)
{
	struct apt_packages *p = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_packages_parse(text, strlen(text), &p, &e), -1);
	assert_null(p);
	assert_non_null(e);
	if (!strstr(e->msg, want))
		fail_msg("'%s' does not contain '%s'", e->msg, want);
	verr_free(e);
}

static void test_packages_malformed(void **state)
{
	packages_bad("Package: a\nVersion: 1\nFilename: x\nSize: 1\n", "package a: no SHA256 field");
	packages_bad("Version: 1\n", "paragraph at line 1: no Package field");
	packages_bad("Package: a\nSize: -1\n", "line 2: invalid Size");
	packages_bad("Package: a\nSize: 1 2\n", "line 2: invalid Size");
	packages_bad("Package: a\nSHA256: " H1 "0\n", "line 2: invalid SHA256");
	packages_bad("Package: a\nPackage: b\n", "line 2: field Package given twice");
	packages_bad("Package: a b\n", "unexpected space");
	packages_bad("Package:\n", "empty Package field");
	packages_bad(":x\n", "expected 'Field: value'");
	packages_bad("Pack age: x\n", "invalid character in field name");
	/* an empty file is a valid, empty index */
	struct apt_packages *p = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_packages_parse("\n\n", 2, &p, &e), 0);
	assert_int_equal(p->n, 0);
	apt_packages_free(p);
}

static void test_depends(void **state)
{
	char **v = NULL;
	struct verr *e = NULL;
	assert_int_equal(apt_depends_first("aa (>= 1) | bb, cc:any, dd [riscv64], e+e<!nocheck>", &v, &e), 4);
	assert_string_equal(v[0], "aa");
	assert_string_equal(v[1], "cc");
	assert_string_equal(v[2], "dd");
	assert_string_equal(v[3], "e+e");
	apt_strv_free(v);
	assert_int_equal(apt_depends_first("linux-image-6.1.0-9-riscv64", &v, &e), 1);
	assert_string_equal(v[0], "linux-image-6.1.0-9-riscv64");
	apt_strv_free(v);
	v = NULL;
	assert_int_equal(apt_depends_first("aa, , bb", &v, &e), -1);
	assert_null(v);
	assert_non_null(strstr(e->msg, "invalid package name"));
	verr_clear(&e);
	assert_int_equal(apt_depends_first("Upper", &v, &e), -1);
	verr_clear(&e);
	assert_int_equal(apt_depends_first("", &v, &e), -1);
	verr_clear(&e);
	/* names are at least two characters (Policy 5.6.1) */
	assert_int_equal(apt_depends_first("a", &v, &e), -1);
	verr_clear(&e);
	assert_int_equal(apt_depends_first("aa | (b)", &v, &e), 1);
	apt_strv_free(v);
}

static void test_sha256(void **state)
{
	/* FIPS 180-2 test vector "abc" */
	uint8_t sum[32];
	char hex[65];
	sha256_buf("abc", 3, sum);
	apt_sha256_hex(sum, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	uint8_t back[32];
	assert_int_equal(apt_hex_sha256(hex, 64, back), 0);
	assert_memory_equal(back, sum, 32);
	assert_int_equal(apt_hex_sha256(hex, 63, back), -1);
	char bad[65];
	memcpy(bad, hex, 65);
	bad[10] = 'g';
	assert_int_equal(apt_hex_sha256(bad, 64, back), -1);

	char path[] = "/tmp/vessel-test-sha.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write_full(fd, "abc", 3), 0);
	close(fd);
	uint64_t size = 0;
	uint8_t fsum[32];
	assert_int_equal(sha256_file(path, fsum, &size), 0);
	assert_int_equal(size, 3);
	assert_memory_equal(fsum, sum, 32);
	assert_true(sha256_file_matches(path, sum, 3));
	assert_false(sha256_file_matches(path, sum, 4));
	fsum[0] ^= 1;
	assert_false(sha256_file_matches(path, fsum, 3));
	unlink(path);
	assert_false(sha256_file_matches(path, sum, 3));
	assert_int_equal(sha256_file(path, fsum, &size), -ENOENT);
}

static void touch(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	assert_int_equal(write_file_atomic(p, "x", 1, 0644), 0);
	free(p);
}

static void test_resolve(void **state)
{
	char tmp[] = "/tmp/vessel-test-resolve.XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char *old = getenv("XDG_CACHE_HOME") ? xstrdup(getenv("XDG_CACHE_HOME")) : NULL;
	setenv("XDG_CACHE_HOME", tmp, 1);
	char *k = NULL, *i = NULL, *dir = NULL;
	struct verr *e = NULL;
	assert_int_equal(image_resolve("debian", &k, &i, &e), -1);
	assert_string_equal(e->msg, "image 'debian' is not pulled: run 'vessel image pull debian'");
	assert_null(k);
	verr_clear(&e);
	assert_int_equal(image_cache_dir("debian", &dir, &e), 0);
	char *want = xasprintf("%s/vessel/images/debian", tmp);
	assert_string_equal(dir, want);
	char *cmd = xasprintf("mkdir -p %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	touch(dir, "Image");
	touch(dir, "initrd.img");
	/* without the manifest (written last) the pull is incomplete */
	assert_int_equal(image_resolve("debian", &k, &i, &e), -1);
	verr_clear(&e);
	touch(dir, "manifest");
	assert_int_equal(image_resolve("debian", &k, &i, &e), 0);
	char *wk = xasprintf("%s/Image", dir), *wi = xasprintf("%s/initrd.img", dir);
	assert_string_equal(k, wk);
	assert_string_equal(i, wi);
	free(k);
	free(i);
	free(wk);
	free(wi);
	assert_int_equal(image_resolve("../etc", &k, &i, &e), -1);
	assert_non_null(strstr(e->msg, "invalid image name"));
	verr_clear(&e);
	cmd = xasprintf("rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
	free(want);
	if (old) {
		setenv("XDG_CACHE_HOME", old, 1);
		free(old);
	} else {
		unsetenv("XDG_CACHE_HOME");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_release_malformed),
		cmocka_unit_test(test_packages),
		cmocka_unit_test(test_packages_malformed),
		cmocka_unit_test(test_depends),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
