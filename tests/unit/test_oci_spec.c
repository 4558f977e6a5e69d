/* config.json parsing, container ids, signal-free helpers of src/oci. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "oci/defaults.h"
#include "oci/mounts.h"
#include "oci/spec.h"
#include "oci/state.h"

static struct oci_spec *parse_ok(const char *json)
{
	struct oci_spec *s = NULL;
	struct verr *err = NULL;
	int r = oci_spec_parse(json, strlen(json), &s, &err);
	if (r < 0)
		fail_msg("parse failed: %s", err->msg);
	return s;
}

static char *parse_err(const char *json)
{
	struct oci_spec *s = NULL;
	struct verr *err = NULL;
	assert_int_equal(oci_spec_parse(json, strlen(json), &s, &err), -1);
	assert_null(s);
	assert_non_null(err);
	char *m = xstrdup(err->msg);
	verr_free(err);
	return m;
}

static void test_default_spec_round_trip(void **state)
{
	(void)state;
	json_t *d = oci_default_spec(false, 0, 0);
	char *text = json_dumps(d, 0);
	json_decref(d);
	struct oci_spec *s = parse_ok(text);
	free(text);
	assert_true(s->has_process);
	assert_string_equal(s->process.args[0], "sh");
	assert_true(s->process.terminal);
	assert_true(s->process.no_new_privileges);
	assert_true(s->root_readonly);
	assert_true(s->ns[OCI_NS_PID].present);
	assert_true(s->ns[OCI_NS_MOUNT].present);
	assert_false(s->ns[OCI_NS_USER].present);
	assert_int_equal(s->process.caps[OCI_CAP_BOUNDING],
			 (1ull << 29) | (1ull << 5) | (1ull << 10)); /* AUDIT_WRITE, KILL, NET_BIND_SERVICE */
	assert_int_equal(s->process.n_rlimits, 1);
	assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(s->process.rlimits[0].hard, 1024);
	/* /dev/pts: nosuid,noexec flags; the rest is data for devpts */
	const struct oci_mount *pts = NULL;
	for (size_t i = 0; i < s->n_mounts; i++)
		if (strcmp(s->mounts[i].destination, "/dev/pts") == 0)
			pts = &s->mounts[i];
	assert_non_null(pts);
	assert_int_equal(pts->flags, MS_NOSUID | MS_NOEXEC);
	assert_string_equal(pts->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	assert_non_null(s->masked_paths);
	assert_string_equal(s->masked_paths[0], "/proc/acpi");
	oci_spec_free(s);

	d = oci_default_spec(true, 1000, 1000);
	text = json_dumps(d, 0);
	json_decref(d);
	s = parse_ok(text);
	free(text);
	assert_true(s->ns[OCI_NS_USER].present);
	assert_false(s->ns[OCI_NS_NET].present);
	assert_int_equal(s->n_uid_mappings, 1);
	assert_int_equal(s->uid_mappings[0].host_id, 1000);
	oci_spec_free(s);
}

static void test_spec_errors(void **state)
{
	(void)state;
	char *m;
	m = parse_err("{");
	assert_non_null(strstr(m, "invalid JSON"));
	free(m);
	m = parse_err("[]");
	assert_non_null(strstr(m, "expected an object"));
	free(m);
	m = parse_err("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}");
	assert_non_null(strstr(m, "unsupported version"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\"}");
	assert_string_equal(m, "root: missing");
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"process\":{\"cwd\":\"/\",\"args\":[]}}");
	assert_non_null(strstr(m, "process.args"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"process\":{\"cwd\":\"rel\",\"args\":[\"x\"]}}");
	assert_non_null(strstr(m, "not an absolute path"));
	free(m);
	m = parse_err(
	    "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
	    "\"process\":{\"cwd\":\"/"
	    "\",\"args\":[\"x\"],\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}");
	assert_non_null(strstr(m, "unknown rlimit type 'RLIMIT_BOGUS'"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}");
	assert_non_null(strstr(m, "duplicate namespace"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}");
	assert_non_null(strstr(m, "uidMappings"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}");
	assert_non_null(strstr(m, "unknown namespace 'bogus'"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"mounts\":[{\"destination\":\"/x\",\"options\":[\"bind\"]}]}");
	assert_non_null(strstr(m, "needs a source"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"hostname\":\"h\"}");
	assert_non_null(strstr(m, "uts namespace"));
	free(m);
	m = parse_err(
	    "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
	    "\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\",\"major\":1,\"minor\":1}]}}");
	assert_non_null(strstr(m, "not one of c, b, u, p"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"linux\":{\"sysctl\":{\"../../etc\":\"1\"}}}");
	assert_non_null(strstr(m, "invalid key"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}");
	assert_non_null(strstr(m, "hooks.prestart[0].path"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"linux\":{\"timeOffsets\":{\"boottime\":{\"secs\":5}}}}");
	assert_non_null(strstr(m, "needs a new time namespace"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
		      "\"linux\":{\"namespaces\":[{\"type\":\"time\"}],"
		      "\"timeOffsets\":{\"boottime\":{\"secs\":5,\"nanosecs\":1000000000}}}}");
	assert_non_null(strstr(m, "nanosecs"));
	free(m);
	m = parse_err("{\"ociVersion\":\"1.0.0\",\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}");
	assert_non_null(strstr(m, "invalid JSON"));
	free(m);
}

static void test_spec_fields(void **state)
{
	(void)state;
	struct oci_spec *s = parse_ok(
	    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/r\"},"
	    "\"process\":{\"cwd\":\"/w\",\"args\":[\"a\",\"b\"],\"env\":[\"A=1\"],"
	    "\"user\":{\"uid\":5,\"gid\":6,\"umask\":18,\"additionalGids\":[7,8]},"
	    "\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\",\"CAP_NOT_A_CAP\"],\"ambient\":[\"CAP_KILL\"]}"
	    ","
	    "\"oomScoreAdj\":-500,\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"soft\":10,\"hard\":20}]},"
	    "\"mounts\":[{\"destination\":\"/"
	    "data\",\"source\":\"src\",\"options\":[\"rbind\",\"ro\",\"rslave\",\"nosuid\",\"rw\"]},"
	    "{\"destination\":\"/"
	    "t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=1m\",\"mode=700\",\"noexec\"]}],"
	    "\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":3}]},"
	    "\"annotations\":{\"k\":\"v\"},"
	    "\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/proc/1/ns/"
	    "net\"},{\"type\":\"user\"},{\"type\":\"mount\"}],"
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10}],"
	    "\"rootfsPropagation\":\"rshared\",\"devices\":[{\"path\":\"/dev/"
	    "fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438}],"
	    "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},\"cgroupsPath\":\"/a/b\"}}");
	assert_int_equal(s->process.uid, 5);
	assert_int_equal(s->process.gid, 6);
	assert_true(s->process.has_umask);
	assert_int_equal(s->process.umask, 18);
	assert_int_equal(s->process.n_additional_gids, 2);
	assert_int_equal(s->process.additional_gids[1], 8);
	assert_int_equal(s->process.caps[OCI_CAP_BOUNDING], 1ull << 21);
	assert_int_equal(s->process.caps[OCI_CAP_AMBIENT], 1ull << 5);
	assert_int_equal(s->process.oom_score_adj, -500);
	assert_string_equal(s->process.env[0], "A=1");
	assert_null(s->process.env[1]);
	const struct oci_mount *m = &s->mounts[0];
	assert_true(m->bind && m->recursive);
	assert_int_equal(m->flags, MS_NOSUID); /* "rw" cleared "ro" */
	assert_int_equal(m->clear_flags, MS_RDONLY);
	assert_int_equal(m->propagation, MS_SLAVE | MS_REC);
	assert_null(m->data);
	m = &s->mounts[1];
	assert_false(m->bind);
	assert_int_equal(m->flags, MS_NOEXEC);
	assert_string_equal(m->data, "size=1m,mode=700");
	assert_int_equal(s->hooks.n[OCI_HOOK_POSTSTOP], 1);
	assert_int_equal(s->hooks.list[OCI_HOOK_POSTSTOP][0].timeout, 3);
	assert_string_equal(s->ns[OCI_NS_NET].path, "/proc/1/ns/net");
	assert_null(s->ns[OCI_NS_USER].path);
	assert_int_equal(s->uid_mappings[0].size, 10);
	assert_int_equal(s->rootfs_propagation, MS_SHARED | MS_REC);
	assert_int_equal(s->devices[0].mode, 0666);
	assert_string_equal(s->cgroups_path, "/a/b");
	assert_non_null(s->sysctl);
	assert_string_equal(json_string_value(json_object_get(s->annotations, "k")), "v");
	oci_spec_free(s);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(oci_ns_kind_from_name("network"), OCI_NS_NET);
	assert_int_equal(oci_ns_kind_from_name("net"), -1);
	assert_string_equal(oci_ns_proc_name(OCI_NS_MOUNT), "mnt");
	assert_int_equal(oci_ns_clone_flag(OCI_NS_PID), CLONE_NEWPID);
	assert_int_equal(oci_cap_from_name("CAP_CHOWN"), 0);
	assert_int_equal(oci_cap_from_name("cap_sys_admin"), 21);
	assert_int_equal(oci_cap_from_name("CAP_NOPE"), -1);
	assert_string_equal(oci_cap_name(5), "CAP_KILL");
	assert_null(oci_cap_name(200));
	assert_int_equal(oci_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	assert_int_equal(oci_rlimit_from_name("NOFILE"), -1);
}

static void test_ids(void **state)
{
	(void)state;
	struct verr *err = NULL;
	assert_int_equal(oci_id_validate("abc-1_2.3+x", &err), 0);
	assert_int_equal(oci_id_validate("", &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_id_validate("..", &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_id_validate("a/b", &err), -1);
	assert_non_null(strstr(err->msg, "a/b"));
	verr_clear(&err);
	assert_int_equal(oci_id_validate("a b", NULL), -1);
	char big[1100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(oci_id_validate(big, NULL), -1);
}

static void test_state_dir(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-oci-test-XXXXXX";
	assert_non_null(mkdtemp(root));
	struct verr *err = NULL;
	assert_int_equal(oci_state_create_dir(root, "c1", &err), 0);
	assert_int_equal(oci_state_create_dir(root, "c1", &err), -1);
	assert_non_null(strstr(err->msg, "already exists"));
	verr_clear(&err);
	struct oci_state st = {.id = "c1",
			       .pid = getpid(),
			       .bundle = "/b",
			       .rootfs = "/b/rootfs",
			       .created = "2024-01-01T00:00:00Z",
			       .owner = "root"};
	st.pid_start = oci_proc_start_time(st.pid);
	assert_true(st.pid_start > 0);
	st.config = json_pack("{s:{s:s}}", "annotations", "a", "b");
	assert_int_equal(oci_state_save(root, &st, &err), 0);
	json_decref(st.config);
	struct oci_state *ld = NULL;
	assert_int_equal(oci_state_load(root, "c1", &ld, &err), 0);
	assert_int_equal(ld->pid, getpid());
	assert_string_equal(ld->bundle, "/b");
	/* our own process is alive: running; with exec.fifo: created */
	assert_int_equal(oci_state_status(root, ld, false), OCI_RUNNING);
	assert_int_equal(oci_state_status(root, ld, true), OCI_PAUSED);
	char *fifo = xasprintf("%s/c1/exec.fifo", root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(oci_state_status(root, ld, false), OCI_CREATED);
	json_t *j = oci_state_to_oci_json(ld, OCI_CREATED);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "created");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "annotations"), "a")), "b");
	json_decref(j);
	/* pid reuse is detected through the start time */
	ld->pid_start += 1;
	assert_int_equal(oci_state_status(root, ld, false), OCI_STOPPED);
	oci_state_free(ld);
	int fd;
	assert_int_equal(oci_state_lock(root, "c1", &fd, &err), 0);
	close(fd);
	assert_int_equal(oci_state_lock(root, "nope", &fd, &err), -1);
	assert_non_null(strstr(err->msg, "does not exist"));
	verr_clear(&err);
	assert_int_equal(oci_state_load(root, "nope", &ld, &err), -1);
	verr_clear(&err);
	free(fifo);
	assert_int_equal(oci_rmtree(root), 0);
	assert_int_equal(access(root, F_OK), -1);
}

static void test_open_in_root(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-oci-root-XXXXXX";
	assert_non_null(mkdtemp(root));
	char *p = xasprintf("%s/escape", root);
	/* a symlink pointing out of the root is resolved inside it */
	assert_int_equal(symlink("/../../../../tmp", p), 0);
	int rfd = open(root, O_PATH | O_DIRECTORY);
	assert_true(rfd >= 0);
	struct verr *err = NULL;
	int fd = oci_open_in_root(rfd, "/escape/sub/file", true, true, &err);
	assert_true(fd >= 0);
	close(fd);
	char *inside = xasprintf("%s/tmp/sub/file", root);
	struct stat sb;
	assert_int_equal(stat(inside, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	fd = oci_open_in_root(rfd, "/a/b/c", true, false, &err);
	assert_true(fd >= 0);
	close(fd);
	fd = oci_open_in_root(rfd, "/missing", false, false, &err);
	assert_int_equal(fd, -1);
	verr_clear(&err);
	close(rfd);
	free(p);
	free(inside);
	assert_int_equal(oci_rmtree(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_spec_round_trip),
	    cmocka_unit_test(test_spec_errors),
	    cmocka_unit_test(test_spec_fields),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_state_dir),
	    cmocka_unit_test(test_open_in_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
