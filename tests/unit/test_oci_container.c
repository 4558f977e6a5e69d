/* Container operations that fail before any process is made: argument and
 * bundle validation, missing containers, an empty root. */
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
#include "oci/container.h"
#include "oci/state.h"

static char root[] = "/tmp/vessel-ctr-root-XXXXXX";
static char bundle[] = "/tmp/vessel-ctr-bundle-XXXXXX";

static void write_config(const char *json)
{
	char *p = xasprintf("%s/config.json", bundle);
	assert_int_equal(write_file_atomic(p, json, strlen(json), 0644), 0);
	free(p);
}

static char *create_err(const char *id, const char *console)
{
	struct oci_runtime rt = {.root = root};
	struct oci_create_opts o = {.id = id, .bundle = bundle, .console_socket = console, .console_fd = -1};
	struct verr *err = NULL;
	pid_t pid = 0;
	assert_int_equal(oci_container_create(&rt, &o, &pid, &err), -1);
	assert_non_null(err);
	char *m = xstrdup(err->msg);
	verr_free(err);
	/* nothing is left under the root */
	char *dir = oci_state_dir(root, id);
	struct stat sb;
	if (strchr(id, '/') == NULL)
		assert_int_equal(stat(dir, &sb), -1);
	free(dir);
	return m;
}

#define BASE "\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"}"
#define PROC "\"process\":{\"cwd\":\"/\",\"args\":[\"true\"]"
#define NS   "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}"

static void test_create_refusals(void **state)
{
	(void)state;
	char *m;
	m = create_err("bad/id", NULL);
	assert_non_null(strstr(m, "invalid container id"));
	free(m);

	write_config("{" BASE "," NS "}");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "process is required"));
	free(m);

	write_config("{" BASE "," PROC "}}");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "mount namespace is required"));
	free(m);

	write_config("{" BASE "," PROC "}," NS "}");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "root.path")); /* rootfs does not exist yet */
	free(m);

	char *rootfs = xasprintf("%s/rootfs", bundle);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	free(rootfs);
	write_config("{" BASE "," PROC ",\"terminal\":true}," NS "}");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "--console-socket is required"));
	free(m);

	write_config("{" BASE "," PROC "}," NS "}");
	m = create_err("c1", "/tmp/no-such-socket");
	assert_non_null(strstr(m, "process.terminal is false"));
	free(m);

	write_config("{" BASE "," PROC ",\"selinuxLabel\":\"system_u:system_r:container_t:s0\"}," NS "}");
	if (access("/sys/fs/selinux/enforce", F_OK) < 0) {
		m = create_err("c1", NULL);
		assert_non_null(strstr(m, "SELinux is not enabled"));
		free(m);
	}

	write_config("{" BASE "," PROC "},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
		     "\"sysctl\":{\"kernel.core_pattern\":\"|/x\"}}}");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "not namespaced"));
	free(m);

	write_config("{" BASE "," PROC "},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
		     "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}}}");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "own network namespace"));
	free(m);

	write_config("{\"ociVersion\":\"1.0.0\"");
	m = create_err("c1", NULL);
	assert_non_null(strstr(m, "config.json"));
	free(m);
}

static void test_missing_containers(void **state)
{
	(void)state;
	struct oci_runtime rt = {.root = root};
	struct verr *err = NULL;
	json_t *j = NULL;
	assert_int_equal(oci_container_state(&rt, "nope", &j, &err), -1);
	assert_non_null(strstr(err->msg, "does not exist"));
	verr_clear(&err);
	assert_int_equal(oci_container_start(&rt, "nope", &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_container_kill(&rt, "nope", 9, false, &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_container_delete(&rt, "nope", true, &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_container_pause(&rt, "nope", true, &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_container_state(&rt, "../etc", &j, &err), -1);
	assert_non_null(strstr(err->msg, "invalid container id"));
	verr_clear(&err);

	/* a directory without state.json (a create that died): delete
	 * --force removes it, plain delete does not */
	char *dir = oci_state_dir(root, "half");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(oci_container_delete(&rt, "half", false, &err), -1);
	verr_clear(&err);
	assert_int_equal(access(dir, F_OK), 0);
	assert_int_equal(oci_container_delete(&rt, "half", true, &err), 0);
	assert_int_equal(access(dir, F_OK), -1);
	free(dir);

	json_t *a = NULL;
	assert_int_equal(oci_container_list(&rt, &a, &err), 0);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	struct oci_runtime none = {.root = "/tmp/vessel-no-such-root-dir"};
	assert_int_equal(oci_container_list(&none, &a, &err), 0);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(root) && mkdtemp(bundle) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	oci_rmtree(root);
	oci_rmtree(bundle);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_refusals),
	    cmocka_unit_test(test_missing_containers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
