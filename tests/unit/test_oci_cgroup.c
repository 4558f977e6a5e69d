/* oci/cgroup on the real cgroupfs of the host (CI runs this as root on a
 * hybrid host). Every cgroup lives under /vessel-test-<pid> and is removed
 * at the end; the tests are skipped when cgroupfs is not writable. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "oci/cgroup.h"
#include "oci/cgroup_int.h"

static char test_root[64]; /* "/vessel-test-<pid>" */

static bool cgroupfs_writable(void)
{
	if (geteuid() != 0)
		return false;
	char p[128];
	snprintf(p, sizeof(p), "/sys/fs/cgroup/pids%s-probe", test_root);
	if (mkdir(p, 0755) == 0) {
		rmdir(p);
		return true;
	}
	snprintf(p, sizeof(p), "/sys/fs/cgroup%s-probe", test_root);
	if (mkdir(p, 0755) == 0) {
		rmdir(p);
		return true;
	}
	return false;
}

/* Removes dir and every sub-directory, deepest first, killing what a failed
 * test left inside. */
static void rm_cgroup_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char *procs = xasprintf("%s/cgroup.procs", dir);
	FILE *f = fopen(procs, "r");
	long pid;
	bool killed = false;
	while (f && fscanf(f, "%ld", &pid) == 1) {
		kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, NULL, 0);
		killed = true;
	}
	if (f)
		fclose(f);
	free(procs);
	if (killed)
		usleep(20000);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", dir, de->d_name);
		rm_cgroup_tree(sub);
		free(sub);
	}
	closedir(d);
	rmdir(dir);
}

/* Removes rel (e.g. test_root) from every hierarchy. */
static void cleanup_everywhere(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "/sys/fs/cgroup%s", rel);
	rm_cgroup_tree(p);
	DIR *d = opendir("/sys/fs/cgroup");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/fs/cgroup/%s%s", de->d_name, rel);
		rm_cgroup_tree(p);
	}
	closedir(d);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(test_root, sizeof(test_root), "/vessel-test-%d", (int)getpid());
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_everywhere(test_root);
	cleanup_everywhere("/vessel.slice/vessel-test.slice");
	cleanup_everywhere("/vessel.slice");
	return 0;
}

#define SKIP_IF_NO_CGROUPFS()                                          \
	do {                                                           \
		if (!cgroupfs_writable()) {                            \
			print_message("cgroupfs not writable, skipped\n"); \
			skip();                                        \
		}                                                      \
	} while (0)

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return j;
}

/* Directory of controller ctrl for rel ("" when the host lacks it). */
static char *ctrl_dir(enum oci_cgroup_mode mode, const char *ctrl, const char *rel)
{
	if (mode == OCI_CGROUP_V2)
		return xasprintf("/sys/fs/cgroup%s", rel);
	char *p = xasprintf("/sys/fs/cgroup/%s", ctrl);
	struct stat st;
	if (stat(p, &st) < 0) {
		free(p);
		return xstrdup("");
	}
	free(p);
	return xasprintf("/sys/fs/cgroup/%s%s", ctrl, rel);
}

static char *read_cg(enum oci_cgroup_mode mode, const char *ctrl, const char *rel, const char *file)
{
	char *dir = ctrl_dir(mode, ctrl, rel);
	char *p = xasprintf("%s/%s", dir, file);
	char *buf = NULL;
	size_t len;
	if (read_file(p, 1 << 20, &buf, &len) < 0)
		fail_msg("cannot read %s", p);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	free(dir);
	free(p);
	return buf;
}

static void assert_cg(enum oci_cgroup_mode mode, const char *ctrl, const char *rel, const char *file,
		      const char *want)
{
	char *got = read_cg(mode, ctrl, rel, file);
	if (strcmp(got, want))
		fail_msg("%s %s: got '%s', want '%s'", ctrl, file, got, want);
	free(got);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		for (;;)
			pause();
	}
	return pid;
}

static bool dir_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_detect(void **state)
{
	(void)state;
	enum oci_cgroup_mode mode;
	struct verr *err = NULL;
	assert_int_equal(oci_cgroup_detect(&mode, &err), 0);
	struct statfs st;
	assert_int_equal(statfs("/sys/fs/cgroup", &st), 0);
	if (st.f_type == 0x63677270)
		assert_int_equal(mode, OCI_CGROUP_V2);
	else if (dir_exists("/sys/fs/cgroup/unified"))
		assert_int_equal(mode, OCI_CGROUP_HYBRID);
	else
		assert_int_equal(mode, OCI_CGROUP_V1);
}

static void test_lifecycle(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	bool v2 = mode == OCI_CGROUP_V2;
	char *rel = xasprintf("%s/life", test_root);
	json_t *res = js("{\"memory\":{\"limit\":67108864,\"reservation\":33554432},"
			 "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0\"},"
			 "\"pids\":{\"limit\":20}}");
	pid_t child = spawn_sleeper();
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;
	if (oci_cgroup_create("life", rel, false, res, child, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	json_decref(res);
	assert_string_equal(oci_cgroup_relpath(cg), rel);

	/* resources read back */
	assert_cg(mode, "pids", rel, "pids.max", "20");
	if (v2) {
		assert_cg(mode, "memory", rel, "memory.max", "67108864");
		assert_cg(mode, "memory", rel, "memory.low", "33554432");
		assert_cg(mode, "cpu", rel, "cpu.weight", "20"); /* 1 + (510 * 9999) / 262142 */
		assert_cg(mode, "cpu", rel, "cpu.max", "50000 100000");
	} else {
		assert_cg(mode, "memory", rel, "memory.limit_in_bytes", "67108864");
		assert_cg(mode, "memory", rel, "memory.soft_limit_in_bytes", "33554432");
		assert_cg(mode, "cpu", rel, "cpu.shares", "512");
		assert_cg(mode, "cpu", rel, "cpu.cfs_quota_us", "50000");
		assert_cg(mode, "cpu", rel, "cpu.cfs_period_us", "100000");
	}
	assert_cg(mode, "cpuset", rel, "cpuset.cpus", "0");

	/* the child is in, in every hierarchy */
	pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(oci_cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], child);
	free(pids);
	char *procp = xasprintf("/proc/%d/cgroup", (int)child);
	char *text = NULL;
	size_t len;
	assert_int_equal(read_file(procp, 65536, &text, &len), 0);
	assert_non_null(strstr(text, v2 ? "0::" : "pids:"));
	assert_non_null(strstr(text, rel));
	free(text);
	free(procp);

	/* update changes only what is given */
	res = js("{\"pids\":{\"limit\":0},\"memory\":{\"limit\":134217728}}");
	if (oci_cgroup_update(cg, res, &err) < 0)
		fail_msg("update: %s", err->msg);
	json_decref(res);
	assert_cg(mode, "pids", rel, "pids.max", "max");
	assert_cg(mode, "memory", rel, v2 ? "memory.max" : "memory.limit_in_bytes", "134217728");
	assert_cg(mode, "cpu", rel, v2 ? "cpu.max" : "cpu.cfs_quota_us", v2 ? "50000 100000" : "50000");

	/* freeze / thaw */
	bool frozen = true;
	assert_int_equal(oci_cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_false(frozen);
	if (oci_cgroup_freeze(cg, true, &err) < 0)
		fail_msg("freeze: %s", err->msg);
	assert_int_equal(oci_cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_true(frozen);
	if (oci_cgroup_freeze(cg, false, &err) < 0)
		fail_msg("thaw: %s", err->msg);
	assert_int_equal(oci_cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_false(frozen);

	/* a second process joins (exec) and a child cgroup is listed too */
	pid_t second = spawn_sleeper();
	if (oci_cgroup_enter(cg, second, &err) < 0)
		fail_msg("enter: %s", err->msg);
	assert_int_equal(oci_cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 2);
	free(pids);

	/* SIGTERM reaches both; then kill with SIGKILL leaves the cgroup empty */
	assert_int_equal(oci_cgroup_kill(cg, SIGTERM, &err), 0);
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(waitpid(second, &st, 0), second);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	child = spawn_sleeper();
	assert_int_equal(oci_cgroup_enter(cg, child, &err), 0);
	if (oci_cgroup_kill(cg, SIGKILL, &err) < 0)
		fail_msg("kill: %s", err->msg);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(oci_cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 0);
	free(pids);

	/* state round trip */
	json_t *j = oci_cgroup_to_json(cg);
	struct oci_cgroup *cg2 = NULL;
	assert_int_equal(oci_cgroup_from_json(j, &cg2, &err), 0);
	json_t *j2 = oci_cgroup_to_json(cg2);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	/* a state whose path is a hierarchy's root is refused */
	json_t *bad = json_deep_copy(j);
	json_object_set_new(json_array_get(json_object_get(bad, "hierarchies"), 0), "path",
			    json_string("/sys/fs/cgroup/pids"));
	struct oci_cgroup *cg3 = NULL;
	assert_int_equal(oci_cgroup_from_json(bad, &cg3, &err), -1);
	assert_null(cg3);
	verr_clear(&err);
	json_decref(bad);
	json_decref(j);
	if (mode == OCI_CGROUP_V1)
		assert_null(oci_cgroup_unified_path(cg2));
	else
		assert_non_null(oci_cgroup_unified_path(cg2));

	/* destroy (through the reloaded object) removes every directory */
	if (oci_cgroup_destroy(cg2, &err) < 0)
		fail_msg("destroy: %s", err->msg);
	char *d = ctrl_dir(mode, "pids", rel);
	assert_false(dir_exists(d));
	free(d);
	d = ctrl_dir(mode, "memory", rel);
	assert_false(dir_exists(d));
	free(d);
	oci_cgroup_free(cg2);
	oci_cgroup_free(cg);
	free(rel);
}

static void test_v1_extras(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	if (mode == OCI_CGROUP_V2)
		skip();
	char *rel = xasprintf("%s/extras", test_root);
	char *mem = ctrl_dir(mode, "memory", "");
	bool memsw = false;
	char *p = xasprintf("%s/memory.memsw.limit_in_bytes", mem);
	memsw = access(p, F_OK) == 0;
	free(p);
	free(mem);
	json_t *res = js("{\"memory\":{\"limit\":67108864,\"swap\":134217728,\"swappiness\":10,"
			 "\"disableOOMKiller\":true,\"kernelTCP\":4096000,\"kernel\":100000000},"
			 "\"cpu\":{\"realtimePeriod\":1000000,\"idle\":1,\"mems\":\"0\"},"
			 "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
			 "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rw\"}]}");
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;
	if (oci_cgroup_create("extras", rel, false, res, 0, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	json_decref(res);
	assert_cg(mode, "memory", rel, "memory.limit_in_bytes", "67108864");
	if (memsw)
		assert_cg(mode, "memory", rel, "memory.memsw.limit_in_bytes", "134217728");
	assert_cg(mode, "memory", rel, "memory.swappiness", "10");
	char *oom = read_cg(mode, "memory", rel, "memory.oom_control");
	assert_non_null(strstr(oom, "oom_kill_disable 1"));
	free(oom);
	assert_cg(mode, "cpu", rel, "cpu.rt_period_us", "1000000");
	assert_cg(mode, "cpu", rel, "cpu.idle", "1");
	assert_cg(mode, "cpuset", rel, "cpuset.mems", "0");
	assert_cg(mode, "memory", rel, "memory.kmem.tcp.limit_in_bytes", "4096000");
	char *list = read_cg(mode, "devices", rel, "devices.list");
	assert_non_null(strstr(list, "c 10:229 rw"));
	assert_non_null(strstr(list, "c 1:3 rwm")); /* a default device */
	assert_null(strstr(list, "a *:* rwm"));
	free(list);

	/* raising both limits needs memsw first: the driver orders the writes */
	res = js("{\"memory\":{\"limit\":268435456,\"swap\":536870912}}");
	if (oci_cgroup_update(cg, res, &err) < 0)
		fail_msg("update: %s", err->msg);
	json_decref(res);
	assert_cg(mode, "memory", rel, "memory.limit_in_bytes", "268435456");
	if (memsw)
		assert_cg(mode, "memory", rel, "memory.memsw.limit_in_bytes", "536870912");
	/* and lowering them needs the limit first */
	res = js("{\"memory\":{\"limit\":33554432,\"swap\":67108864}}");
	if (oci_cgroup_update(cg, res, &err) < 0)
		fail_msg("update: %s", err->msg);
	json_decref(res);
	assert_cg(mode, "memory", rel, "memory.limit_in_bytes", "33554432");

	/* a controller the host lacks, asked for: a clear error */
	if (!dir_exists("/sys/fs/cgroup/net_cls") && !dir_exists("/sys/fs/cgroup/net_cls,net_prio")) {
		res = js("{\"network\":{\"classID\":1048577}}");
		assert_int_equal(oci_cgroup_update(cg, res, &err), -1);
		assert_non_null(strstr(err->msg, "net_cls controller is not available"));
		verr_clear(&err);
		json_decref(res);
	}

	/* unified keys go to the v2 directory on a hybrid host */
	if (mode == OCI_CGROUP_HYBRID) {
		res = js("{\"unified\":{\"cgroup.max.descendants\":\"5\"}}");
		if (oci_cgroup_update(cg, res, &err) < 0)
			fail_msg("update unified: %s", err->msg);
		json_decref(res);
		char *u = xasprintf("/sys/fs/cgroup/unified%s/cgroup.max.descendants", rel);
		char *buf = NULL;
		size_t len;
		assert_int_equal(read_file(u, 64, &buf, &len), 0);
		assert_string_equal(buf, "5\n");
		free(buf);
		free(u);
	}
	assert_int_equal(oci_cgroup_destroy(cg, &err), 0);
	oci_cgroup_free(cg);
	free(rel);
}

/* First block device of the host as "major:minor", or NULL. */
static char *some_block_device(void)
{
	DIR *d = opendir("/sys/block");
	if (!d)
		return NULL;
	struct dirent *de;
	char *out = NULL;
	while (!out && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("/sys/block/%s/dev", de->d_name);
		char *buf = NULL;
		size_t len;
		if (read_file(p, 64, &buf, &len) == 0 && len > 3) {
			buf[strcspn(buf, "\n")] = '\0';
			out = buf;
		} else {
			free(buf);
		}
		free(p);
	}
	closedir(d);
	return out;
}

static void test_blkio(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	char *dev = some_block_device();
	if (!dev)
		skip();
	unsigned major, minor;
	assert_int_equal(sscanf(dev, "%u:%u", &major, &minor), 2);
	char *rel = xasprintf("%s/blkio", test_root);
	/* weight is skipped (with a debug line) where the host has no weight file */
	char *text = xasprintf("{\"blockIO\":{\"weight\":500,"
			       "\"throttleReadBpsDevice\":[{\"major\":%u,\"minor\":%u,\"rate\":1048576}],"
			       "\"throttleWriteIOPSDevice\":[{\"major\":%u,\"minor\":%u,\"rate\":300}]}}",
			       major, minor, major, minor);
	json_t *res = js(text);
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;
	if (oci_cgroup_create("blkio", rel, false, res, 0, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	json_decref(res);
	char *want = xasprintf("%s 1048576", dev);
	char *want2 = xasprintf("%s 300", dev);
	if (mode == OCI_CGROUP_V2) {
		char *got = read_cg(mode, "io", rel, "io.max");
		assert_non_null(strstr(got, "rbps=1048576"));
		assert_non_null(strstr(got, "wiops=300"));
		free(got);
	} else {
		assert_cg(mode, "blkio", rel, "blkio.throttle.read_bps_device", want);
		assert_cg(mode, "blkio", rel, "blkio.throttle.write_iops_device", want2);
		char *bfq = xasprintf("/sys/fs/cgroup/blkio%s/blkio.bfq.weight", rel);
		if (access(bfq, F_OK) == 0)
			assert_cg(mode, "blkio", rel, "blkio.bfq.weight", "500");
		free(bfq);
	}
	assert_int_equal(oci_cgroup_destroy(cg, &err), 0);
	oci_cgroup_free(cg);
	/* a device that does not exist: the kernel's refusal is reported */
	res = js("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":4000,\"minor\":4000,\"rate\":1}]}}");
	assert_int_equal(oci_cgroup_create("blkio", rel, false, res, 0, &cg, &err), -1);
	assert_non_null(strstr(err->msg, "4000:4000"));
	verr_clear(&err);
	json_decref(res);
	free(want);
	free(want2);
	free(text);
	free(rel);
	free(dev);
}

/* Child: waits for a byte on fd, then tries the devices; the exit code has
 * bit 0 = /dev/null rw ok, bit 1 = /dev/kmsg read ok, bit 2 = /dev/kmsg
 * write ok, bit 3 = /dev/mem read ok. */
static pid_t spawn_dev_prober(int fd)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(30);
		char c;
		if (read(fd, &c, 1) != 1)
			_exit(100);
		int r = 0, f;
		if ((f = open("/dev/null", O_RDWR)) >= 0 && close(f) == 0)
			r |= 1;
		if ((f = open("/dev/kmsg", O_RDONLY | O_NONBLOCK)) >= 0 && close(f) == 0)
			r |= 2;
		if ((f = open("/dev/kmsg", O_WRONLY)) >= 0 && close(f) == 0)
			r |= 4;
		if ((f = open("/dev/mem", O_RDONLY)) >= 0 && close(f) == 0)
			r |= 8;
		_exit(r);
	}
	return pid;
}

static int probe_devices(const char *dir, const char *rules)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t child = spawn_dev_prober(p[0]);
	char *procs = xasprintf("%s/cgroup.procs", dir);
	int fd = open(procs, O_WRONLY);
	assert_true(fd >= 0);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)child);
	assert_true(write(fd, pid, strlen(pid)) > 0);
	close(fd);
	free(procs);
	json_t *j = js(rules);
	struct verr *err = NULL;
	if (oci_cgroup_devices_bpf(dir, j, &err) < 0)
		fail_msg("bpf: %s", err->msg);
	json_decref(j);
	assert_int_equal(write(p[1], "x", 1), 1);
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	close(p[0]);
	close(p[1]);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The v2 device program, tried on the unified hierarchy (it works there on a
 * hybrid host too, alongside the v1 devices controller that allows all). */
static void test_devices_bpf(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	if (mode == OCI_CGROUP_V1 || access("/dev/kmsg", F_OK) < 0)
		skip();
	char *rel = xasprintf("%s/bpf", test_root);
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;
	if (oci_cgroup_create("bpf", rel, false, NULL, 0, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	const char *dir = oci_cgroup_unified_path(cg);
	assert_non_null(dir);
	bool mem = access("/dev/mem", F_OK) == 0;
	/* baseline without rules beyond the defaults: everything allowed */
	int r = probe_devices(dir, "[]");
	assert_int_equal(r & 7, 7);
	/* deny all: only the default devices (/dev/null) remain */
	r = probe_devices(dir, "[{\"allow\":false,\"access\":\"rwm\"}]");
	assert_int_equal(r, 1);
	/* allow /dev/kmsg (c 1:11) read only; later rules win */
	r = probe_devices(dir, "[{\"allow\":false,\"access\":\"rwm\"},"
			       "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"r\"}]");
	assert_int_equal(r, 1 | 2);
	/* allow every char device of major 1, then deny /dev/mem (1:1) */
	r = probe_devices(dir, "[{\"allow\":false,\"access\":\"rwm\"},"
			       "{\"allow\":true,\"type\":\"c\",\"major\":1,\"access\":\"rw\"},"
			       "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":1,\"access\":\"rwm\"}]");
	assert_int_equal(r, 1 | 2 | 4);
	(void)mem;
	assert_int_equal(oci_cgroup_destroy(cg, &err), 0);
	oci_cgroup_free(cg);
	free(rel);
}

#define V2_CHECK(x)                                                      \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "v2 check failed at line %d: %s%s\n", __LINE__, #x, \
				err ? err->msg : "");                    \
			return __LINE__ & 0x7f;                          \
		}                                                        \
	} while (0)

/* Runs in a private mount namespace where /sys/fs/cgroup is the cgroup2
 * hierarchy: a pure v2 host as far as the driver can tell. Returns 0 or a
 * line number. */
static int v2_scenario(void)
{
	struct verr *err = NULL;
	enum oci_cgroup_mode mode;
	V2_CHECK(oci_cgroup_detect(&mode, &err) == 0 && mode == OCI_CGROUP_V2);
	char *rel = xasprintf("%s/v2", test_root);
	pid_t child = spawn_sleeper();
	json_t *res = js("{\"unified\":{\"cgroup.max.descendants\":\"7\"},"
			 "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}");
	struct oci_cgroup *cg = NULL;
	V2_CHECK(oci_cgroup_create("v2", rel, false, res, child, &cg, &err) == 0);
	json_decref(res);
	char *dir = xasprintf("/sys/fs/cgroup%s", rel);
	V2_CHECK(!strcmp(oci_cgroup_unified_path(cg), dir));
	char buf[64] = "";
	char *f = xasprintf("%s/cgroup.max.descendants", dir);
	FILE *fp = fopen(f, "r");
	V2_CHECK(fp && fgets(buf, sizeof(buf), fp));
	fclose(fp);
	V2_CHECK(!strcmp(buf, "7\n"));
	pid_t *pids = NULL;
	size_t n = 0;
	V2_CHECK(oci_cgroup_pids(cg, &pids, &n, &err) == 0 && n == 1 && pids[0] == child);
	free(pids);
	bool frozen = true;
	V2_CHECK(oci_cgroup_freeze(cg, true, &err) == 0);
	V2_CHECK(oci_cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
	V2_CHECK(oci_cgroup_freeze(cg, false, &err) == 0);
	V2_CHECK(oci_cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
	/* a memory limit needs the memory controller, which v1 holds here:
	 * the error names the file */
	res = js("{\"memory\":{\"limit\":1048576}}");
	V2_CHECK(oci_cgroup_update(cg, res, &err) == -1 && strstr(err->msg, "memory.max"));
	verr_clear(&err);
	json_decref(res);
	V2_CHECK(oci_cgroup_kill(cg, SIGKILL, &err) == 0);
	int st;
	V2_CHECK(waitpid(child, &st, 0) == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	V2_CHECK(oci_cgroup_destroy(cg, &err) == 0);
	V2_CHECK(!dir_exists(dir));
	oci_cgroup_free(cg);
	free(f);
	free(dir);
	free(rel);
	return 0;
}

static void test_v2_namespace(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	if (mode != OCI_CGROUP_HYBRID)
		skip(); /* v2 hosts run the other tests in v2 mode already */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    umount2("/sys/fs/cgroup", MNT_DETACH) < 0 ||
		    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
			perror("v2 namespace setup");
			_exit(125);
		}
		_exit(v2_scenario());
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 125)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* hugepageLimits: the v1 hugetlb hierarchy, or the unified one where the
 * controller lives there (on this hybrid host hugetlb is only in cgroup2). */
static void test_hugetlb(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	if (!dir_exists("/sys/kernel/mm/hugepages/hugepages-2048kB"))
		skip();
	char *file = NULL;
	char *rel = xasprintf("%s/huge/deeper", test_root);
	char *ctrls = NULL;
	size_t len;
	if (dir_exists("/sys/fs/cgroup/hugetlb"))
		file = xasprintf("/sys/fs/cgroup/hugetlb%s/hugetlb.2MB.limit_in_bytes", rel);
	else if (mode == OCI_CGROUP_V2)
		file = xasprintf("/sys/fs/cgroup%s/hugetlb.2MB.max", rel);
	else if (mode == OCI_CGROUP_HYBRID &&
		 read_file("/sys/fs/cgroup/unified/cgroup.controllers", 4096, &ctrls, &len) == 0 &&
		 strstr(ctrls, "hugetlb"))
		file = xasprintf("/sys/fs/cgroup/unified%s/hugetlb.2MB.max", rel);
	free(ctrls);
	if (!file) {
		free(rel);
		skip();
	}
	json_t *res = js("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}");
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;
	if (oci_cgroup_create("huge", rel, false, res, 0, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	json_decref(res);
	char *buf = NULL;
	assert_int_equal(read_file(file, 64, &buf, &len), 0);
	assert_string_equal(buf, "4194304\n");
	free(buf);
	res = js("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":-1}]}");
	assert_int_equal(oci_cgroup_update(cg, res, &err), 0);
	json_decref(res);
	assert_int_equal(read_file(file, 64, &buf, &len), 0);
	assert_true(!strcmp(buf, "max\n") || strtoull(buf, NULL, 10) > 4194304);
	free(buf);
	/* a page size the kernel does not have */
	res = js("{\"hugepageLimits\":[{\"pageSize\":\"3MB\",\"limit\":1}]}");
	assert_int_equal(oci_cgroup_update(cg, res, &err), -1);
	assert_non_null(strstr(err->msg, "hugetlb.3MB"));
	verr_clear(&err);
	json_decref(res);
	assert_int_equal(oci_cgroup_destroy(cg, &err), 0);
	oci_cgroup_free(cg);
	free(file);
	free(rel);
}

static void test_errors(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	enum oci_cgroup_mode mode;
	assert_int_equal(oci_cgroup_detect(&mode, NULL), 0);
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;

	assert_int_equal(oci_cgroup_create("x", "/a/../../etc", false, NULL, 0, &cg, &err), -1);
	assert_null(cg);
	assert_non_null(strstr(err->msg, "'..'"));
	verr_clear(&err);
	assert_int_equal(oci_cgroup_create("x", "//./", false, NULL, 0, &cg, &err), -1);
	assert_non_null(strstr(err->msg, "root cgroup"));
	verr_clear(&err);

	/* a value the kernel refuses: the error names the file and the value,
	 * and the half-made cgroup is removed */
	char *rel = xasprintf("%s/bad", test_root);
	json_t *res = js("{\"cpu\":{\"cpus\":\"4095\"}}");
	assert_int_equal(oci_cgroup_create("bad", rel, false, res, 0, &cg, &err), -1);
	json_decref(res);
	assert_non_null(strstr(err->msg, "cpuset.cpus"));
	assert_non_null(strstr(err->msg, "'4095'"));
	verr_clear(&err);
	char *d = ctrl_dir(mode, "cpuset", rel);
	assert_false(dir_exists(d));
	free(d);

	/* type errors and unknown unified files */
	res = js("{\"pids\":{\"limit\":\"many\"}}");
	assert_int_equal(oci_cgroup_create("bad", rel, false, res, 0, &cg, &err), -1);
	json_decref(res);
	assert_non_null(strstr(err->msg, "pids"));
	verr_clear(&err);
	if (mode != OCI_CGROUP_V1) {
		res = js("{\"unified\":{\"no.such.file\":\"1\"}}");
		assert_int_equal(oci_cgroup_create("bad", rel, false, res, 0, &cg, &err), -1);
		json_decref(res);
		assert_non_null(strstr(err->msg, "no.such.file"));
		verr_clear(&err);
		res = js("{\"unified\":{\"../cgroup.procs\":\"1\"}}");
		assert_int_equal(oci_cgroup_create("bad", rel, false, res, 0, &cg, &err), -1);
		json_decref(res);
		verr_clear(&err);
	}
	res = js("{\"devices\":[{\"allow\":true,\"type\":\"z\",\"access\":\"rwm\"}]}");
	assert_int_equal(oci_cgroup_create("bad", rel, false, res, 0, &cg, &err), -1);
	json_decref(res);
	if (mode != OCI_CGROUP_V2)
		assert_non_null(strstr(err->msg, "type 'z'"));
	verr_clear(&err);
	free(rel);
}

static void test_paths(void **state)
{
	(void)state;
	SKIP_IF_NO_CGROUPFS();
	struct oci_cgroup *cg = NULL;
	struct verr *err = NULL;
	/* systemd form, mapped to cgroupfs */
	if (oci_cgroup_create("sd", "vessel-test.slice:pfx:ctr", true, NULL, 0, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	assert_string_equal(oci_cgroup_relpath(cg), "/vessel.slice/vessel-test.slice/pfx-ctr.scope");
	assert_int_equal(oci_cgroup_destroy(cg, &err), 0);
	oci_cgroup_free(cg);
	assert_int_equal(oci_cgroup_create("sd", "a--b.slice:pfx:ctr", true, NULL, 0, &cg, &err), -1);
	verr_clear(&err);
	assert_int_equal(oci_cgroup_create("sd", "nocolon", true, NULL, 0, &cg, &err), -1);
	verr_clear(&err);
	/* relative and untidy paths are normalised under the root */
	char *raw = xasprintf("%s//./rel/", test_root + 1);
	char *want = xasprintf("%s/rel", test_root);
	if (oci_cgroup_create("rel", raw, false, NULL, 0, &cg, &err) < 0)
		fail_msg("create: %s", err->msg);
	assert_string_equal(oci_cgroup_relpath(cg), want);
	assert_int_equal(oci_cgroup_destroy(cg, &err), 0);
	oci_cgroup_free(cg);
	free(raw);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_v1_extras),
		cmocka_unit_test(test_blkio),
		cmocka_unit_test(test_devices_bpf),
		cmocka_unit_test(test_v2_namespace),
		cmocka_unit_test(test_hugetlb),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
