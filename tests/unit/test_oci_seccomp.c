/* oci/seccomp: compile linux.seccomp objects and load them in forked
 * children, checking what the filtered syscalls then do. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "oci/seccomp.h"

static struct oci_seccomp *compile_ok(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad test JSON: %s", jerr.text);
	struct oci_seccomp *f = NULL;
	struct verr *err = NULL;
	int rc = oci_seccomp_compile(j, &f, &err);
	if (rc != 0)
		fail_msg("compile failed: %s", err ? err->msg : "?");
	json_decref(j);
	assert_non_null(f);
	return f;
}

static char *compile_err(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	struct oci_seccomp *f = NULL;
	struct verr *err = NULL;
	assert_int_equal(oci_seccomp_compile(j, &f, &err), -1);
	assert_null(f);
	assert_non_null(err);
	json_decref(j);
	char *msg = strdup(err->msg);
	verr_free(err);
	return msg;
}

/* Runs body(arg) in a child that first loads f (with no_new_privs); returns
 * the raw wait status. The child is killed if it outlives 10 s. */
static int run_filtered(struct oci_seccomp *f, int (*body)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10);
		/* cmocka catches SIGSYS; the child must die of it like a container would */
		signal(SIGSYS, SIG_DFL);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(100);
		if (oci_seccomp_load(f, NULL) < 0)
			_exit(101);
		/* exit_group directly: ASan's _exit runs a leak check that needs
		 * syscalls the filter may deny */
		syscall(SYS_exit_group, body());
		_exit(102);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* Returns the errno of getcwd-free syscalls as the exit code (0 = success). */
static int body_mkdir_errno(void)
{
	if (syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-dir/x", 0700) < 0)
		return errno == ENOENT ? 0 : errno;
	return 0;
}

static int body_getpid(void)
{
	syscall(SYS_getpid);
	return 0;
}

/* dup3(fd, newfd, flags): exits with errno of dup3(0, 77, 0) and then of
 * dup3(0, 78, 0), encoded as a*0 + ...: returns 1 when 77 works and 78
 * fails with EACCES. */
static int body_dup3_args(void)
{
	int a = (int)syscall(SYS_dup3, 0, 77, 0);
	int ea = a < 0 ? errno : 0;
	int b = (int)syscall(SYS_dup3, 0, 78, 0);
	int eb = b < 0 ? errno : 0;
	if (ea == 0 && eb == EACCES)
		return 1;
	return 2;
}

static void test_errno_action(void **state)
{
	(void)state;
	/* mkdirat is denied with EROFS; everything else allowed. */
	struct oci_seccomp *f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		"{\"names\":[\"mkdirat\",\"mkdir\",\"no_such_syscall_xyz\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":30}]}");
	int st = run_filtered(f, body_mkdir_errno);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EROFS);
	oci_seccomp_free(f);

	/* errnoRet absent => EPERM */
	f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		       "{\"names\":[\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	st = run_filtered(f, body_mkdir_errno);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EPERM);
	oci_seccomp_free(f);

	/* without the filter the syscall fails with ENOENT (exit 0) */
	pid_t pid = fork();
	if (pid == 0)
		_exit(body_mkdir_errno());
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_kill_actions(void **state)
{
	(void)state;
	const char *actions[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD" };
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		char buf[256];
		snprintf(buf, sizeof(buf),
			 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"%s\"}]}",
			 actions[i]);
		struct oci_seccomp *f = compile_ok(buf);
		int st = run_filtered(f, body_getpid);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
		oci_seccomp_free(f);
	}
	/* TRAP delivers SIGSYS, default disposition kills */
	struct oci_seccomp *f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_TRAP\"}]}");
	int st = run_filtered(f, body_getpid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	oci_seccomp_free(f);
}

static void test_default_errno(void **state)
{
	(void)state;
	/* default deny with EACCES (defaultErrnoRet), allow only what exit needs
	 * and mkdirat... mkdirat is NOT allowed so it fails with EACCES. */
	struct oci_seccomp *f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,"
		"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
		"\"syscalls\":[{\"names\":[\"exit\",\"exit_group\",\"rt_sigreturn\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
	int st = run_filtered(f, body_mkdir_errno);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EACCES);
	oci_seccomp_free(f);

	/* a rule's errnoRet defaults to EPERM, whatever defaultErrnoRet says */
	f = compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":13,\"syscalls\":["
		       "{\"names\":[\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	st = run_filtered(f, body_mkdir_errno);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EPERM);
	oci_seccomp_free(f);
}

static void test_arg_conditions(void **state)
{
	(void)state;
	/* dup3 with newfd (arg 1) == 78 is denied; other dup3 calls allowed. */
	struct oci_seccomp *f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":["
		"{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
		"\"args\":[{\"index\":1,\"value\":78,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	int st = run_filtered(f, body_dup3_args);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	oci_seccomp_free(f);

	/* MASKED_EQ: (newfd & 0xfe) == 78 matches 78 and 79, not 77 */
	f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		"{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
		"\"args\":[{\"index\":1,\"value\":254,\"valueTwo\":78,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}");
	st = run_filtered(f, body_dup3_args);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	oci_seccomp_free(f);

	/* two conditions on the same argument become separate rules (OR):
	 * newfd == 78 OR newfd == 1000 -> 78 denied, 77 allowed */
	f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		"{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
		"\"args\":[{\"index\":1,\"value\":78,\"op\":\"SCMP_CMP_EQ\"},"
		"{\"index\":1,\"value\":1000,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	st = run_filtered(f, body_dup3_args);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	oci_seccomp_free(f);

	/* GT on arg 1: newfd > 77 denied */
	f = compile_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		"{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
		"\"args\":[{\"index\":1,\"value\":77,\"op\":\"SCMP_CMP_GT\"}]}]}");
	st = run_filtered(f, body_dup3_args);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	oci_seccomp_free(f);
}

static void test_errors(void **state)
{
	(void)state;
	char *m = compile_err("{\"defaultAction\":\"SCMP_ACT_FOO\"}");
	assert_non_null(strstr(m, "unknown seccomp action 'SCMP_ACT_FOO'"));
	free(m);
	m = compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_BAR\"}]}");
	assert_non_null(strstr(m, "syscalls[0]"));
	assert_non_null(strstr(m, "SCMP_ACT_BAR"));
	free(m);
	m = compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}");
	assert_non_null(strstr(m, "SCMP_ARCH_VAX"));
	free(m);
	m = compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\","
			"\"args\":[{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_WHATEVER\"}]}]}");
	assert_non_null(strstr(m, "SCMP_CMP_WHATEVER"));
	free(m);
	m = compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\","
			"\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	assert_non_null(strstr(m, "index"));
	free(m);
	m = compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_BOGUS\"]}");
	assert_non_null(strstr(m, "SECCOMP_FILTER_FLAG_BOGUS"));
	free(m);
	m = compile_err("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}");
	assert_non_null(strstr(m, "not supported"));
	free(m);
	m = compile_err("[]");
	free(m);
}

static void test_features(void **state)
{
	(void)state;
	json_t *j = oci_seccomp_features();
	assert_true(json_is_true(json_object_get(j, "enabled")));
	json_t *a = json_object_get(j, "actions");
	assert_true(json_array_size(a) >= 8);
	assert_true(json_array_size(json_object_get(j, "operators")) == 7);
	assert_true(json_array_size(json_object_get(j, "archs")) > 10);
	/* every kernel with seccomp filters since 4.14 has TSYNC and LOG */
	json_t *sup = json_object_get(j, "supportedFlags");
	assert_true(json_array_size(sup) >= 2);
	assert_string_equal(json_string_value(json_array_get(sup, 0)), "SECCOMP_FILTER_FLAG_TSYNC");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_action),
		cmocka_unit_test(test_kill_actions),
		cmocka_unit_test(test_default_errno),
		cmocka_unit_test(test_arg_conditions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_features),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
