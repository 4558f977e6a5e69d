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

static void test_err_chain(void **state)
{
	(void)state;
	struct verr *e = NULL;
	assert_int_equal(verr_set(&e, 0, "version %d is newer than this build (%d)", 3, 2), -1);
	verr_wrap(&e, "section %s", "cpu0");
	verr_wrap(&e, "restore '%s'", "vm.snap");
	assert_string_equal(e->msg, "restore 'vm.snap': section cpu0: version 3 is newer than this build (2)");
	/* a second set does not overwrite the first error */
	verr_set(&e, EIO, "other");
	assert_int_equal(e->errnum, 0);
	verr_clear(&e);
	assert_null(e);
	verr_set(&e, ENOENT, "open 'x'");
	assert_string_equal(e->msg, "open 'x': No such file or directory");
	verr_free(e);
	verr_wrap(NULL, "ignored");
}

static void test_parse_size(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("256M", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("2k", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
	assert_int_equal(parse_size("12Q", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
}

static void test_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/vessel-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/f", dir);
	assert_int_equal(write_file_atomic(path, "hello", 5, 0600), 0);
	char *buf;
	size_t len;
	assert_int_equal(read_file(path, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	assert_int_equal(read_file(path, 3, &buf, &len), -EFBIG);
	assert_int_equal(read_file("/nonexistent/x", 3, &buf, &len), -ENOENT);
	unlink(path);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_chain),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
