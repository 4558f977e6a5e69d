/* OCI hooks: state on stdin, args, env, exit status, timeout. */
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
#include "oci/hooks.h"

static char dir[] = "/tmp/vessel-hooks-XXXXXX";

static struct oci_hook sh_hook(const char *script, char **env, int timeout)
{
	char **args = xcalloc(4, sizeof(char *));
	args[0] = xstrdup("sh");
	args[1] = xstrdup("-c");
	args[2] = xstrdup(script);
	return (struct oci_hook){.path = xstrdup("/bin/sh"), .args = args, .env = env, .timeout = timeout};
}

static void hook_free(struct oci_hook *h)
{
	free(h->path);
	oci_strv_free(h->args);
	oci_strv_free(h->env);
}

static void test_state_on_stdin_and_env(void **state)
{
	(void)state;
	char *out = xasprintf("%s/stdin", dir);
	char *script = xasprintf("cat > %s; echo \"$A\" >> %s", out, out);
	char **env = xcalloc(2, sizeof(char *));
	env[0] = xstrdup("A=from-env");
	struct oci_hook h[2] = {sh_hook(script, env, 5), sh_hook("exit 0", NULL, 0)};
	struct verr *err = NULL;
	assert_int_equal(oci_hooks_run(h, 2, "{\"id\":\"x\"}", "prestart", &err), 0);
	assert_null(err);
	char *data;
	size_t len;
	assert_int_equal(read_file(out, 4096, &data, &len), 0);
	assert_string_equal(data, "{\"id\":\"x\"}from-env\n");
	free(data);
	hook_free(&h[0]);
	hook_free(&h[1]);
	free(script);
	free(out);
}

static void test_failures(void **state)
{
	(void)state;
	struct verr *err = NULL;
	struct oci_hook h = sh_hook("exit 3", NULL, 0);
	assert_int_equal(oci_hooks_run(&h, 1, "{}", "poststop", &err), -1);
	assert_non_null(strstr(err->msg, "poststop hook 0"));
	assert_non_null(strstr(err->msg, "exited with status 3"));
	verr_clear(&err);
	hook_free(&h);

	/* the second hook is not run after the first fails */
	char *marker = xasprintf("%s/second", dir);
	char *script = xasprintf("touch %s", marker);
	struct oci_hook two[2] = {sh_hook("exit 1", NULL, 0), sh_hook(script, NULL, 0)};
	assert_int_equal(oci_hooks_run(two, 2, "{}", "createRuntime", &err), -1);
	verr_clear(&err);
	assert_int_equal(access(marker, F_OK), -1);
	hook_free(&two[0]);
	hook_free(&two[1]);
	free(script);
	free(marker);

	struct oci_hook missing = {.path = "/nonexistent/hook"};
	assert_int_equal(oci_hooks_run(&missing, 1, "{}", "prestart", &err), -1);
	assert_non_null(strstr(err->msg, "could not be executed"));
	verr_clear(&err);

	h = sh_hook("kill -9 $$", NULL, 0);
	assert_int_equal(oci_hooks_run(&h, 1, "{}", "prestart", &err), -1);
	assert_non_null(strstr(err->msg, "signal 9"));
	verr_clear(&err);
	hook_free(&h);
}

static void test_timeout(void **state)
{
	(void)state;
	struct verr *err = NULL;
	struct oci_hook h = sh_hook("sleep 20", NULL, 1);
	uint64_t t0 = now_ns();
	assert_int_equal(oci_hooks_run(&h, 1, "{}", "poststart", &err), -1);
	uint64_t ms = (now_ns() - t0) / 1000000;
	assert_non_null(strstr(err->msg, "timed out after 1 s"));
	assert_true(ms >= 900 && ms < 10000);
	verr_clear(&err);
	hook_free(&h);
}

static void test_large_state_not_read(void **state)
{
	(void)state;
	/* A hook that never reads its stdin must not block the runtime, even
	 * with a state larger than a pipe buffer. */
	size_t n = 256 * 1024;
	char *big = xmalloc(n + 1);
	memset(big, 'x', n);
	big[n] = 0;
	struct oci_hook h = sh_hook("exit 0", NULL, 5);
	struct verr *err = NULL;
	assert_int_equal(oci_hooks_run(&h, 1, big, "prestart", &err), 0);
	hook_free(&h);
	/* ... and one that reads gets all of it. */
	char *out = xasprintf("%s/count", dir);
	char *script = xasprintf("sleep 0.2; wc -c > %s", out);
	h = sh_hook(script, NULL, 10);
	assert_int_equal(oci_hooks_run(&h, 1, big, "prestart", &err), 0);
	char *data;
	size_t len;
	assert_int_equal(read_file(out, 4096, &data, &len), 0);
	assert_int_equal(strtoul(data, NULL, 10), n);
	free(data);
	hook_free(&h);
	free(script);
	free(out);
	free(big);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf %s", dir);
	int r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_on_stdin_and_env),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_large_state_not_read),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
