#include "oci/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "oci/cgroup.h"
#include "oci/console.h"
#include "oci/hooks.h"
#include "oci/mounts.h"
#include "oci/process.h"
#include "oci/seccomp.h"
#include "oci/state.h"

/* ---- the sync channel between the runtime and the container's stages ----
 * SOCK_SEQPACKET: one message per send, so a header and its text travel
 * together; EOF means every child end was closed (exit or execve). */

enum sync_type { SYNC_GO = 1, SYNC_USERMAP, SYNC_PID, SYNC_HOOKS, SYNC_ACK, SYNC_READY, SYNC_ERROR };

struct sync_msg {
	uint32_t type;
	int32_t pid;
	uint32_t len; /* bytes of text that follow */
};

#define SYNC_MAX_TEXT (128u << 10)

static int sync_send(int fd, enum sync_type type, pid_t pid, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	if (len > SYNC_MAX_TEXT)
		len = SYNC_MAX_TEXT;
	char *buf = xmalloc(sizeof(struct sync_msg) + len);
	struct sync_msg m = {.type = type, .pid = pid, .len = (uint32_t)len};
	memcpy(buf, &m, sizeof(m));
	if (len)
		memcpy(buf + sizeof(m), text, len);
	ssize_t r;
	do {
		r = send(fd, buf, sizeof(m) + len, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	free(buf);
	return r < 0 ? -errno : 0;
}

/* Receives one message; *text (if asked) is malloc'd and NUL-terminated.
 * Returns 0, -EPIPE on EOF, or -errno. */
static int sync_recv(int fd, struct sync_msg *m, char **text)
{
	char *buf = xmalloc(sizeof(*m) + SYNC_MAX_TEXT + 1);
	ssize_t r;
	do {
		r = recv(fd, buf, sizeof(*m) + SYNC_MAX_TEXT, 0);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		free(buf);
		return r == 0 ? -EPIPE : -errno;
	}
	if ((size_t)r < sizeof(*m)) {
		free(buf);
		return -EPROTO;
	}
	memcpy(m, buf, sizeof(*m));
	size_t len = (size_t)r - sizeof(*m);
	if (text) {
		char *t = xmalloc(len + 1);
		memcpy(t, buf + sizeof(*m), len);
		t[len] = 0;
		*text = t;
	}
	free(buf);
	return 0;
}

/* In a child: reports err to the runtime and exits. */
static __attribute__((noreturn)) void child_fail(int sync, struct verr *err)
{
	sync_send(sync, SYNC_ERROR, 0, err ? err->msg : "unknown error");
	_exit(1);
}

static int expect(int sync, enum sync_type want, struct sync_msg *m, char **text, const char *stage,
		  struct verr **err)
{
	char *t = NULL;
	int r = sync_recv(sync, m, &t);
	if (r == -EPIPE) {
		free(t);
		return verr_set(err, 0, "%s: the container process exited unexpectedly", stage);
	}
	if (r < 0)
		return verr_set(err, -r, "%s: sync", stage);
	if (m->type == SYNC_ERROR) {
		verr_set(err, 0, "%s", t && *t ? t : "container init failed");
		free(t);
		return -1;
	}
	if (m->type != want) {
		free(t);
		return verr_set(err, 0, "%s: unexpected message %u from the container", stage, m->type);
	}
	if (text)
		*text = t;
	else
		free(t);
	return 0;
}

static int write_pid_file(const char *path, pid_t pid, struct verr **err)
{
	if (!path)
		return 0;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	int r = write_file_atomic(path, buf, (size_t)n, 0644);
	if (r < 0)
		return verr_set(err, -r, "write pid file '%s'", path);
	return 0;
}

static int write_idmap(pid_t pid, const char *file, const struct oci_idmap *m, size_t n, struct verr **err)
{
	char *text = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%u %u %u\n", text, m[i].container_id, m[i].host_id, m[i].size);
		free(text);
		text = t;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = 0;
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		ret = verr_set(err, errno, "write %s", file);
	if (fd >= 0)
		close(fd);
	free(text);
	return ret;
}

static int write_sysctls(json_t *sysctl, struct verr **err)
{
	const char *key;
	json_t *val;
	json_object_foreach(sysctl, key, val)
	{
		cleanup_free char *path = xasprintf("/proc/sys/%s", key);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		const char *v = json_string_value(val);
		int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || write(fd, v, strlen(v)) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return verr_set(err, e, "linux.sysctl: set %s", key);
		}
		close(fd);
	}
	return 0;
}

/* Whether ns of the container is its own (new, or a path that is not the
 * runtime's own namespace). */
static bool ns_separate(const struct oci_spec *s, enum oci_ns_kind k)
{
	if (!s->ns[k].present)
		return false;
	if (!s->ns[k].path)
		return true;
	struct stat a, b;
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/ns/%s", oci_ns_proc_name(k));
	if (stat(s->ns[k].path, &a) < 0 || stat(self, &b) < 0)
		return true; /* joining it will report the error */
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* linux.sysctl may only name namespaced keys whose namespace the container
 * owns (config-linux.md "Sysctl"; the same rule as runc): anything else
 * would change the host. */
static int check_sysctls(const struct oci_spec *s, struct verr **err)
{
	static const char *const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb",	 "kernel.msgmni",
					       "kernel.sem",	"kernel.shmall",	 "kernel.shmmax",
					       "kernel.shmmni", "kernel.shm_rmid_forced"};
	const char *key;
	json_t *val;
	json_object_foreach(s->sysctl, key, val)
	{
		bool ipc = strncmp(key, "fs.mqueue.", 10) == 0;
		for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
			if (strcmp(key, ipc_keys[i]) == 0)
				ipc = true;
		if (ipc) {
			if (!ns_separate(s, OCI_NS_IPC))
				return verr_set(
				    err, 0, "linux.sysctl: %s needs the container's own ipc namespace", key);
		} else if (strncmp(key, "net.", 4) == 0) {
			if (!ns_separate(s, OCI_NS_NET))
				return verr_set(
				    err, 0, "linux.sysctl: %s needs the container's own network namespace",
				    key);
		} else if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0) {
			if (!ns_separate(s, OCI_NS_UTS))
				return verr_set(
				    err, 0, "linux.sysctl: %s needs the container's own uts namespace", key);
		} else {
			return verr_set(
			    err, 0, "linux.sysctl: %s is not namespaced: setting it would change the host",
			    key);
		}
	}
	return 0;
}

static char *state_text(const struct oci_state *st, enum oci_status status)
{
	json_t *j = oci_state_to_oci_json(st, status);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s ? s : xstrdup("{}");
}

/* ---- create ---- */

struct create_ctx {
	const struct oci_runtime *rt;
	const struct oci_create_opts *o;
	struct oci_spec *spec;
	char *bundle, *rootfs, *dir;
	struct oci_seccomp *seccomp;
	struct oci_cgroup *cg;
	int console_fd;
	int fifo_fd;
	int sync[2];
	bool new_userns;
};

static void init_fatal_signal(int sig)
{
	_exit(128 + sig);
}

/* The container's init (pid 1 of its pid namespace). Never returns. */
static __attribute__((noreturn)) void init_main(struct create_ctx *c)
{
	int sync = c->sync[1];
	struct verr *err = NULL;
	const struct oci_spec *s = c->spec;
	struct sync_msg m;
	char *state = NULL;

	/* As pid 1 of its namespace the init ignores fatal signals it has no
	 * handler for, so a fault would spin forever: exit instead. execve
	 * resets these handlers. */
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
		signal(fatal[i], init_fatal_signal);
	/* Not dumpable until execve: other processes of the container cannot
	 * ptrace us or open our /proc entries (fds, exe) meanwhile. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setsid();
	if (!c->o->no_new_keyring)
		syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
	if (sync_send(sync, SYNC_HOOKS, 0, NULL) < 0 || expect(sync, SYNC_ACK, &m, &state, "init", &err) < 0)
		_exit(1);
	if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		verr_set(&err, errno, "sethostname");
		child_fail(sync, err);
	}
	if (s->domainname && *s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		verr_set(&err, errno, "setdomainname");
		child_fail(sync, err);
	}
	struct oci_rootfs r = {
	    .spec = s,
	    .rootfs = c->rootfs,
	    .bundle = c->bundle,
	    .no_pivot = c->o->no_pivot,
	    .userns = s->ns[OCI_NS_USER].present,
	    .cgroup_relpath = c->cg ? oci_cgroup_relpath(c->cg) : NULL,
	    .cgroupns = s->ns[OCI_NS_CGROUP].present,
	};
	if (oci_rootfs_prepare(&r, &err) < 0)
		child_fail(sync, err);
	if (oci_hooks_run(s->hooks.list[OCI_HOOK_CREATE_CONTAINER], s->hooks.n[OCI_HOOK_CREATE_CONTAINER],
			  state, "createContainer", &err) < 0)
		child_fail(sync, err);
	/* The fifo was opened (O_PATH) by the runtime: in a user namespace the
	 * init may not be able to search the state directory. */
	int fifo = c->fifo_fd;
	if (oci_rootfs_pivot(&r, &err) < 0)
		child_fail(sync, err);
	int slave = -1;
	if (s->process.terminal) {
		int master;
		if (oci_pty_open(&master, &slave, s->process.console_height, s->process.console_width, &err) <
			0 ||
		    oci_console_send(c->console_fd, master, "/dev/console", &err) < 0)
			child_fail(sync, err);
		close(master);
		close(c->console_fd);
		if (ioctl(slave, TIOCSCTTY, 0) < 0) {
			verr_set(&err, errno, "make the pty the controlling terminal");
			child_fail(sync, err);
		}
	}
	if (s->sysctl && write_sysctls(s->sysctl, &err) < 0)
		child_fail(sync, err);
	if (oci_rootfs_finish(&r, slave, &err) < 0)
		child_fail(sync, err);
	if (slave >= 0) {
		for (int fd = 0; fd < 3; fd++)
			dup2(slave, fd);
		close(slave);
	}
	if (oci_process_limits(&s->process, &err) < 0)
		child_fail(sync, err);
	cleanup_free char *exe = oci_process_lookup(&s->process, &err);
	if (!exe)
		child_fail(sync, err);
	bool late_identity = s->hooks.n[OCI_HOOK_START_CONTAINER] > 0;
	if (!late_identity && oci_process_identity(&s->process, c->seccomp, &err) < 0)
		child_fail(sync, err);
	if (sync_send(sync, SYNC_READY, 0, NULL) < 0)
		_exit(1);
	close(sync);

	/* Wait for `start`: opening the fifo for writing blocks until it is
	 * opened for reading. The O_PATH fd is re-opened through /proc, since
	 * the state directory is not visible after pivot_root. */
	char fdp[64];
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fifo);
	int w = open(fdp, O_WRONLY | O_CLOEXEC);
	if (w < 0 || write(w, "0", 1) != 1) {
		fprintf(stderr, "vessel-runtime: init: open exec fifo: %s\n", strerror(errno));
		_exit(1);
	}
	close(w);
	close(fifo);
	if (late_identity) {
		if (oci_hooks_run(s->hooks.list[OCI_HOOK_START_CONTAINER],
				  s->hooks.n[OCI_HOOK_START_CONTAINER], state, "startContainer", &err) < 0 ||
		    oci_process_identity(&s->process, c->seccomp, &err) < 0) {
			fprintf(stderr, "vessel-runtime: %s\n", err->msg);
			_exit(1);
		}
	}
	oci_process_exec(&s->process, exe, c->o->preserve_fds, &err);
	fprintf(stderr, "vessel-runtime: %s\n", err ? err->msg : "exec failed");
	_exit(127);
}

/* Joins the namespaces given by path, then creates the new ones; forks the
 * init. Runs in the intermediate child; never returns. */
static __attribute__((noreturn)) void stage1_main(struct create_ctx *c)
{
	int sync = c->sync[1];
	struct verr *err = NULL;
	struct sync_msg m;
	const struct oci_spec *s = c->spec;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (expect(sync, SYNC_GO, &m, NULL, "stage1", &err) < 0)
		_exit(1);
	for (int k = 0; k < OCI_NS_COUNT; k++) {
		if (!s->ns[k].present || !s->ns[k].path)
			continue;
		int fd = open(s->ns[k].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, oci_ns_clone_flag(k)) < 0) {
			verr_set(&err, errno, "join %s namespace '%s'", oci_ns_kind_name(k), s->ns[k].path);
			child_fail(sync, err);
		}
		close(fd);
	}
	if (c->new_userns) {
		if (unshare(CLONE_NEWUSER) < 0) {
			verr_set(&err, errno, "create a user namespace");
			child_fail(sync, err);
		}
		if (sync_send(sync, SYNC_USERMAP, 0, NULL) < 0 ||
		    expect(sync, SYNC_ACK, &m, NULL, "stage1", &err) < 0)
			_exit(1);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			verr_set(&err, errno, "become root in the user namespace (is 0 mapped?)");
			child_fail(sync, err);
		}
	}
	int flags = 0;
	for (int k = 0; k < OCI_NS_COUNT; k++)
		if (k != OCI_NS_USER && s->ns[k].present && !s->ns[k].path)
			flags |= oci_ns_clone_flag(k);
	if (flags && unshare(flags) < 0) {
		verr_set(&err, errno, "create namespaces (unshare 0x%x)", flags);
		child_fail(sync, err);
	}
	if (s->has_time_offsets) {
		/* Written before any process enters the new time namespace. */
		char buf[128];
		int n = snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n",
				 (long long)s->monotonic_secs, s->monotonic_nsecs,
				 (long long)s->boottime_secs, s->boottime_nsecs);
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, (size_t)n) != n) {
			verr_set(&err, errno, "linux.timeOffsets: write timens_offsets");
			child_fail(sync, err);
		}
		close(fd);
	}
	pid_t pid = fork();
	if (pid < 0) {
		verr_set(&err, errno, "fork the container init");
		child_fail(sync, err);
	}
	if (pid == 0)
		init_main(c);
	sync_send(sync, SYNC_PID, pid, NULL);
	_exit(0);
}

static void kill_wait(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int oci_container_create(const struct oci_runtime *rt, const struct oci_create_opts *o, pid_t *pidp,
			 struct verr **err)
{
	if (oci_id_validate(o->id, err) < 0)
		return -1;
	struct create_ctx c = {.rt = rt, .o = o, .console_fd = -1, .fifo_fd = -1, .sync = {-1, -1}};
	char cwd[PATH_MAX];
	const char *bundle = o->bundle ? o->bundle : ".";
	c.bundle = realpath(bundle, NULL);
	if (!c.bundle)
		return verr_set(err, errno, "bundle '%s'", bundle);
	int ret = -1;
	bool dir_made = false;
	pid_t stage1 = -1, init = -1;
	char *state = NULL;
	cleanup_free char *rootpath = NULL;
	cleanup_free char *fifo = NULL;
	struct oci_state st = {0};
	if (oci_spec_load(c.bundle, &c.spec, err) < 0)
		goto out;
	const struct oci_spec *s = c.spec;
	if (!s->has_process) {
		verr_set(err, 0, "config.json: process is required to create a container");
		goto out;
	}
	if (!s->ns[OCI_NS_MOUNT].present) {
		verr_set(err, 0, "config.json: a mount namespace is required");
		goto out;
	}
	if (oci_process_check_lsm(&s->process, err) < 0)
		goto out;
	if (s->sysctl && check_sysctls(s, err) < 0)
		goto out;
	if (o->listen_fds > 0) {
		/* sd_listen_fds(3): the fds start at 3 and the process is pid 1
		 * of the container. */
		size_t n = 0;
		while (c.spec->process.env[n])
			n++;
		char **env = xrealloc(c.spec->process.env, sizeof(char *) * (n + 3));
		env[n] = xasprintf("LISTEN_FDS=%d", o->listen_fds);
		env[n + 1] = xstrdup("LISTEN_PID=1");
		env[n + 2] = NULL;
		c.spec->process.env = env;
	}
	rootpath =
	    s->root_path[0] == '/' ? xstrdup(s->root_path) : xasprintf("%s/%s", c.bundle, s->root_path);
	c.rootfs = realpath(rootpath, NULL);
	if (!c.rootfs) {
		verr_set(err, errno, "root.path '%s'", rootpath);
		goto out;
	}
	if (s->process.terminal) {
		if (o->console_fd >= 0) {
			c.console_fd = o->console_fd;
		} else if (o->console_socket) {
			c.console_fd = oci_console_connect(o->console_socket, err);
			if (c.console_fd < 0)
				goto out;
		} else {
			verr_set(err, 0, "process.terminal is true: --console-socket is required");
			goto out;
		}
	} else if (o->console_socket) {
		verr_set(err, 0, "--console-socket given but process.terminal is false");
		goto out;
	}
	if (s->seccomp && oci_seccomp_compile(s->seccomp, &c.seccomp, err) < 0) {
		verr_wrap(err, "linux.seccomp");
		goto out;
	}
	if (oci_state_create_dir(rt->root, o->id, err) < 0)
		goto out;
	dir_made = true;
	c.dir = oci_state_dir(rt->root, o->id);
	fifo = xasprintf("%s/" OCI_EXEC_FIFO, c.dir);
	mode_t old = umask(0);
	int fr = mkfifo(fifo, 0622);
	umask(old);
	if (fr < 0) {
		verr_set(err, errno, "create '%s'", fifo);
		goto out;
	}
	c.fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
	if (c.fifo_fd < 0) {
		verr_set(err, errno, "open '%s'", fifo);
		goto out;
	}
	c.new_userns = s->ns[OCI_NS_USER].present && !s->ns[OCI_NS_USER].path;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c.sync) < 0) {
		verr_set(err, errno, "socketpair");
		goto out;
	}
	if (getcwd(cwd, sizeof(cwd)) && chdir(c.bundle) < 0) {
		verr_set(err, errno, "chdir to the bundle");
		goto out;
	}
	stage1 = fork();
	if (stage1 < 0) {
		verr_set(err, errno, "fork");
		goto out;
	}
	if (stage1 == 0) {
		close(c.sync[0]);
		stage1_main(&c);
	}
	close(c.sync[1]);
	c.sync[1] = -1;
	if (chdir(cwd) < 0) {
		/* not fatal: nothing below depends on the cwd */
	}
	int sync = c.sync[0];
	struct sync_msg m;
	/* cgroups before the container runs anything, so the cgroup
	 * namespace is rooted at the container's cgroup. */
	if (oci_cgroup_create(o->id, s->cgroups_path, rt->systemd_cgroup, s->resources, stage1, &c.cg, err) <
	    0)
		goto out;
	if (sync_send(sync, SYNC_GO, 0, NULL) < 0) {
		verr_set(err, EPIPE, "start the container process");
		goto out;
	}
	if (c.new_userns) {
		if (expect(sync, SYNC_USERMAP, &m, NULL, "create", err) < 0)
			goto out;
		if (write_idmap(stage1, "uid_map", s->uid_mappings, s->n_uid_mappings, err) < 0 ||
		    write_idmap(stage1, "gid_map", s->gid_mappings, s->n_gid_mappings, err) < 0)
			goto out;
		sync_send(sync, SYNC_ACK, 0, NULL);
	}
	/* The init may say HOOKS before stage1's PID arrives: both write to
	 * the same socket. */
	bool hooks_seen = false;
	for (;;) {
		char *t = NULL;
		int r = sync_recv(sync, &m, &t);
		if (r == 0 && m.type == SYNC_HOOKS && !hooks_seen) {
			hooks_seen = true;
			free(t);
			continue;
		}
		if (r == 0 && m.type == SYNC_PID) {
			free(t);
			break;
		}
		if (r == 0 && m.type == SYNC_ERROR)
			verr_set(err, 0, "%s", t);
		else if (r == -EPIPE)
			verr_set(err, 0, "create: the container process exited unexpectedly");
		else if (r < 0)
			verr_set(err, -r, "create: sync");
		else
			verr_set(err, 0, "create: unexpected message %u from the container", m.type);
		free(t);
		goto out;
	}
	init = m.pid;
	waitpid(stage1, NULL, 0);
	stage1 = -1;

	st.id = (char *)o->id;
	st.pid = init;
	st.pid_start = oci_proc_start_time(init);
	st.bundle = c.bundle;
	st.rootfs = c.rootfs;
	st.created = oci_time_rfc3339();
	struct passwd *pw = getpwuid(geteuid());
	st.owner = pw ? pw->pw_name : "";
	st.systemd_cgroup = rt->systemd_cgroup;
	st.config = s->json;
	st.cgroup = oci_cgroup_to_json(c.cg);
	if (!hooks_seen && expect(sync, SYNC_HOOKS, &m, NULL, "create", err) < 0)
		goto out;
	state = state_text(&st, OCI_CREATING);
	/* prestart (deprecated) and createRuntime run in the runtime's
	 * namespaces once the container's exist (runtime.md "Lifecycle" 5). */
	if (oci_hooks_run(s->hooks.list[OCI_HOOK_PRESTART], s->hooks.n[OCI_HOOK_PRESTART], state, "prestart",
			  err) < 0 ||
	    oci_hooks_run(s->hooks.list[OCI_HOOK_CREATE_RUNTIME], s->hooks.n[OCI_HOOK_CREATE_RUNTIME], state,
			  "createRuntime", err) < 0)
		goto out;
	sync_send(sync, SYNC_ACK, 0, state);
	if (expect(sync, SYNC_READY, &m, NULL, "create", err) < 0)
		goto out;
	if (oci_state_save(rt->root, &st, err) < 0 || write_pid_file(o->pid_file, init, err) < 0)
		goto out;
	*pidp = init;
	ret = 0;
out:
	if (ret < 0) {
		if (stage1 > 0)
			kill_wait(stage1);
		if (init > 0)
			kill(init, SIGKILL);
		if (c.cg) {
			if (init > 0) {
				/* init is not our child: wait for it to leave the cgroup */
				for (int i = 0; i < 200 && oci_proc_start_time(init) != 0; i++)
					usleep(5000);
			}
			struct verr *e2 = NULL;
			oci_cgroup_destroy(c.cg, &e2);
			verr_free(e2);
		}
		if (dir_made) {
			cleanup_free char *d = oci_state_dir(rt->root, o->id);
			oci_rmtree(d);
		}
	}
	if (c.sync[0] >= 0)
		close(c.sync[0]);
	if (c.sync[1] >= 0)
		close(c.sync[1]);
	if (c.console_fd >= 0 && c.console_fd != o->console_fd)
		close(c.console_fd);
	if (c.fifo_fd >= 0)
		close(c.fifo_fd);
	free(state);
	free(st.created);
	json_decref(st.cgroup);
	oci_cgroup_free(c.cg);
	oci_seccomp_free(c.seccomp);
	oci_spec_free(c.spec);
	free(c.bundle);
	free(c.rootfs);
	free(c.dir);
	return ret;
}

/* ---- the other operations ---- */

struct loaded {
	int lock;
	struct oci_state *st;
	struct oci_cgroup *cg;
	enum oci_status status;
};

static void loaded_clear(struct loaded *l)
{
	oci_state_free(l->st);
	oci_cgroup_free(l->cg);
	if (l->lock >= 0)
		close(l->lock);
	l->st = NULL;
	l->cg = NULL;
	l->lock = -1;
}

static int load(const struct oci_runtime *rt, const char *id, struct loaded *l, struct verr **err)
{
	memset(l, 0, sizeof(*l));
	l->lock = -1;
	if (oci_id_validate(id, err) < 0 || oci_state_lock(rt->root, id, &l->lock, err) < 0 ||
	    oci_state_load(rt->root, id, &l->st, err) < 0) {
		loaded_clear(l);
		return -1;
	}
	bool frozen = false;
	if (l->st->cgroup) {
		struct verr *e2 = NULL;
		if (oci_cgroup_from_json(l->st->cgroup, &l->cg, &e2) == 0)
			oci_cgroup_is_frozen(l->cg, &frozen, &e2);
		verr_free(e2);
	}
	l->status = oci_state_status(rt->root, l->st, frozen);
	return 0;
}

/* Hooks of a stopped container come from its saved config. */
static struct oci_spec *saved_spec(const struct oci_state *st)
{
	if (!st->config)
		return NULL;
	char *text = json_dumps(st->config, JSON_COMPACT);
	if (!text)
		return NULL;
	struct oci_spec *s = NULL;
	struct verr *e = NULL;
	oci_spec_parse(text, strlen(text), &s, &e);
	verr_free(e);
	free(text);
	return s;
}

/* Runs the poststart or poststop hooks from the saved config. runtime.md:
 * their failure is logged and the lifecycle continues. */
static void run_saved_hooks(const struct oci_state *st, int kind, enum oci_status status, const char *name)
{
	struct oci_spec *s = saved_spec(st);
	if (s && s->hooks.n[kind]) {
		char *state = state_text(st, status);
		struct verr *e = NULL;
		if (oci_hooks_run(s->hooks.list[kind], s->hooks.n[kind], state, name, &e) < 0) {
			fprintf(stderr, "vessel-runtime: warning: %s\n", e->msg);
			verr_free(e);
		}
		free(state);
	}
	oci_spec_free(s);
}

int oci_container_start(const struct oci_runtime *rt, const char *id, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	int ret = -1;
	cleanup_free char *fifo = xasprintf("%s/%s/" OCI_EXEC_FIFO, rt->root, id);
	if (l.status != OCI_CREATED) {
		verr_set(err, 0, "cannot start a container that has %s",
			 l.status == OCI_STOPPED ? "stopped" : "already started");
		goto out;
	}
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		verr_set(err, errno, "open '%s'", fifo);
		goto out;
	}
	/* The init opens the fifo for writing as soon as we hold it open for
	 * reading, then writes one byte. Poll so a dead init cannot hang us. */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 100);
		if (r > 0 && (p.revents & POLLIN)) {
			char b;
			if (read(fd, &b, 1) == 1)
				break;
		}
		if (r < 0 && errno != EINTR) {
			verr_set(err, errno, "poll '%s'", fifo);
			close(fd);
			goto out;
		}
		if (oci_proc_start_time(l.st->pid) == 0) {
			verr_set(err, 0, "container init exited before start");
			close(fd);
			goto out;
		}
	}
	close(fd);
	unlink(fifo);
	ret = 0;
	run_saved_hooks(l.st, OCI_HOOK_POSTSTART, OCI_RUNNING, "poststart");
out:
	loaded_clear(&l);
	return ret;
}

int oci_container_state(const struct oci_runtime *rt, const char *id, json_t **out, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	*out = oci_state_to_oci_json(l.st, l.status);
	loaded_clear(&l);
	return 0;
}

int oci_container_config(const struct oci_runtime *rt, const char *id, json_t **out, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	*out = json_incref(l.st->config);
	loaded_clear(&l);
	return *out ? 0 : verr_set(err, 0, "container '%s': no saved config", id);
}

int oci_container_kill(const struct oci_runtime *rt, const char *id, int sig, bool all, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	int ret = 0;
	if (l.status == OCI_STOPPED && !all) {
		ret = verr_set(err, 0, "container not running");
	} else if (all && l.cg) {
		ret = oci_cgroup_kill(l.cg, sig, err);
		if (ret == 0 && l.status == OCI_PAUSED && sig == SIGKILL) {
			struct verr *e2 = NULL;
			oci_cgroup_freeze(l.cg, false, &e2);
			verr_free(e2);
		}
	} else if (kill(l.st->pid, sig) < 0) {
		ret = verr_set(err, errno, "kill %d", (int)l.st->pid);
	}
	loaded_clear(&l);
	return ret;
}

static void wait_gone(pid_t pid, uint64_t start, int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		uint64_t t = oci_proc_start_time(pid);
		if (t == 0 || (start && t != start))
			return;
		waitpid(pid, NULL, WNOHANG);
		usleep(5000);
	}
}

int oci_container_delete(const struct oci_runtime *rt, const char *id, bool force, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0) {
		/* A directory without state.json is a create that died
		 * half-way: remove it with --force. */
		cleanup_free char *dir = oci_state_dir(rt->root, id);
		if (force && oci_id_validate(id, NULL) == 0 && access(dir, F_OK) == 0) {
			verr_clear(err);
			oci_rmtree(dir);
			return 0;
		}
		return -1;
	}
	if ((l.status == OCI_RUNNING || l.status == OCI_PAUSED) && !force) {
		verr_set(err, 0, "cannot delete container %s that is not stopped: %s", id,
			 oci_status_name(l.status));
		loaded_clear(&l);
		return -1;
	}
	if (l.status != OCI_STOPPED) {
		struct verr *e2 = NULL;
		if (l.cg)
			oci_cgroup_kill(l.cg, SIGKILL, &e2);
		verr_clear(&e2);
		kill(l.st->pid, SIGKILL);
		if (l.cg && l.status == OCI_PAUSED)
			oci_cgroup_freeze(l.cg, false, &e2);
		verr_free(e2);
		wait_gone(l.st->pid, l.st->pid_start, 5000);
	}
	int ret = 0;
	if (l.cg) {
		/* Processes of a pid namespace die with its init; others
		 * (no pid namespace) are killed here. */
		struct verr *e2 = NULL;
		oci_cgroup_kill(l.cg, SIGKILL, &e2);
		verr_clear(&e2);
		ret = oci_cgroup_destroy(l.cg, err);
	}
	run_saved_hooks(l.st, OCI_HOOK_POSTSTOP, OCI_STOPPED, "poststop");
	cleanup_free char *dir = oci_state_dir(rt->root, id);
	int r = oci_rmtree(dir);
	if (r < 0 && ret == 0)
		ret = verr_set(err, -r, "remove '%s'", dir);
	loaded_clear(&l);
	return ret;
}

int oci_container_pause(const struct oci_runtime *rt, const char *id, bool pause, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	int ret;
	if (!l.cg)
		ret = verr_set(err, 0, "container '%s' has no cgroup", id);
	else if (pause && l.status != OCI_RUNNING && l.status != OCI_CREATED)
		ret = verr_set(err, 0, "container not running");
	else if (!pause && l.status != OCI_PAUSED)
		ret = verr_set(err, 0, "container not paused");
	else
		ret = oci_cgroup_freeze(l.cg, pause, err);
	loaded_clear(&l);
	return ret;
}

int oci_container_update(const struct oci_runtime *rt, const char *id, json_t *resources, struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	int ret;
	if (!l.cg)
		ret = verr_set(err, 0, "container '%s' has no cgroup", id);
	else if (l.status == OCI_STOPPED)
		ret = verr_set(err, 0, "container not running");
	else
		ret = oci_cgroup_update(l.cg, resources, err);
	if (ret == 0 && l.st->config) {
		/* Keep the saved config in step, as runc does. */
		json_t *lin = json_object_get(l.st->config, "linux");
		if (!lin) {
			lin = json_object();
			json_object_set_new(l.st->config, "linux", lin);
		}
		json_t *res = json_object_get(lin, "resources");
		if (json_is_object(res))
			json_object_update_recursive(res, resources);
		else
			json_object_set(lin, "resources", resources);
		struct verr *e2 = NULL;
		oci_state_save(rt->root, l.st, &e2);
		verr_free(e2);
	}
	loaded_clear(&l);
	return ret;
}

int oci_container_pids(const struct oci_runtime *rt, const char *id, pid_t **pids, size_t *n,
		       struct verr **err)
{
	struct loaded l;
	if (load(rt, id, &l, err) < 0)
		return -1;
	int ret;
	if (l.cg) {
		ret = oci_cgroup_pids(l.cg, pids, n, err);
	} else {
		*pids = xmalloc(sizeof(pid_t));
		*n = l.status == OCI_STOPPED ? 0 : 1;
		(*pids)[0] = l.st->pid;
		ret = 0;
	}
	loaded_clear(&l);
	return ret;
}

int oci_container_list(const struct oci_runtime *rt, json_t **out, struct verr **err)
{
	json_t *a = json_array();
	DIR *d = opendir(rt->root);
	if (!d) {
		if (errno == ENOENT) {
			*out = a;
			return 0;
		}
		json_decref(a);
		return verr_set(err, errno, "open '%s'", rt->root);
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || oci_id_validate(e->d_name, NULL) < 0)
			continue;
		struct loaded l;
		struct verr *e2 = NULL;
		if (load(rt, e->d_name, &l, &e2) < 0) {
			verr_free(e2);
			continue;
		}
		json_array_append_new(a, oci_state_to_oci_json(l.st, l.status));
		loaded_clear(&l);
	}
	closedir(d);
	*out = a;
	return 0;
}

/* ---- exec ---- */

struct exec_ctx {
	const struct oci_exec_opts *o;
	const struct oci_spec *spec;
	struct oci_seccomp *seccomp;
	int nsfd[OCI_NS_COUNT];
	int console_fd;
	int sync[2];
};

static __attribute__((noreturn)) void exec_stage2(struct exec_ctx *c)
{
	int sync = c->sync[1];
	struct verr *err = NULL;
	const struct oci_process *p = c->o->process;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (p->terminal) {
		setsid();
		int master, slave;
		if (oci_pty_open(&master, &slave, p->console_height, p->console_width, &err) < 0 ||
		    oci_console_send(c->console_fd, master, "/dev/pts", &err) < 0)
			child_fail(sync, err);
		close(master);
		close(c->console_fd);
		if (ioctl(slave, TIOCSCTTY, 0) < 0) {
			verr_set(&err, errno, "make the pty the controlling terminal");
			child_fail(sync, err);
		}
		for (int fd = 0; fd < 3; fd++)
			dup2(slave, fd);
		close(slave);
	}
	if (oci_process_limits(p, &err) < 0)
		child_fail(sync, err);
	cleanup_free char *exe = oci_process_lookup(p, &err);
	if (!exe || oci_process_identity(p, c->seccomp, &err) < 0)
		child_fail(sync, err);
	oci_process_exec(p, exe, c->o->preserve_fds, &err);
	child_fail(sync, err);
}

static __attribute__((noreturn)) void exec_stage1(struct exec_ctx *c)
{
	int sync = c->sync[1];
	struct verr *err = NULL;
	struct sync_msg m;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (expect(sync, SYNC_GO, &m, NULL, "exec", &err) < 0)
		_exit(1);
	for (int k = 0; k < OCI_NS_COUNT; k++) {
		if (c->nsfd[k] < 0)
			continue;
		if (setns(c->nsfd[k], oci_ns_clone_flag(k)) < 0) {
			verr_set(&err, errno, "join the container's %s namespace", oci_ns_kind_name(k));
			child_fail(sync, err);
		}
		close(c->nsfd[k]);
	}
	pid_t pid = fork();
	if (pid < 0) {
		verr_set(&err, errno, "fork");
		child_fail(sync, err);
	}
	if (pid == 0)
		exec_stage2(c);
	sync_send(sync, SYNC_PID, pid, NULL);
	_exit(0);
}

int oci_container_exec(const struct oci_runtime *rt, const struct oci_exec_opts *o, pid_t *pidp,
		       struct verr **err)
{
	struct loaded l;
	if (load(rt, o->id, &l, err) < 0)
		return -1;
	struct exec_ctx c = {.o = o, .console_fd = -1, .sync = {-1, -1}};
	for (int k = 0; k < OCI_NS_COUNT; k++)
		c.nsfd[k] = -1;
	struct oci_spec *s = saved_spec(l.st);
	c.spec = s;
	int ret = -1;
	pid_t stage1 = -1, pid = -1;
	if (l.status != OCI_RUNNING && l.status != OCI_CREATED &&
	    !(l.status == OCI_PAUSED && o->ignore_paused)) {
		verr_set(err, 0, "cannot exec in a %s container", oci_status_name(l.status));
		goto out;
	}
	if (!s) {
		verr_set(err, 0, "container '%s': saved config unreadable", o->id);
		goto out;
	}
	if (oci_process_check_lsm(o->process, err) < 0)
		goto out;
	for (int k = 0; k < OCI_NS_COUNT; k++) {
		if (!s->ns[k].present)
			continue;
		char path[64], self[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)l.st->pid, oci_ns_proc_name(k));
		snprintf(self, sizeof(self), "/proc/self/ns/%s", oci_ns_proc_name(k));
		struct stat a, b;
		if (stat(path, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			continue;
		c.nsfd[k] = open(path, O_RDONLY | O_CLOEXEC);
		if (c.nsfd[k] < 0) {
			verr_set(err, errno, "open '%s'", path);
			goto out;
		}
	}
	if (o->process->terminal) {
		if (o->console_fd >= 0) {
			c.console_fd = o->console_fd;
		} else if (o->console_socket) {
			c.console_fd = oci_console_connect(o->console_socket, err);
			if (c.console_fd < 0)
				goto out;
		} else {
			verr_set(err, 0, "a terminal was asked for: --console-socket is required");
			goto out;
		}
	}
	if (s->seccomp && oci_seccomp_compile(s->seccomp, &c.seccomp, err) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c.sync) < 0) {
		verr_set(err, errno, "socketpair");
		goto out;
	}
	stage1 = fork();
	if (stage1 < 0) {
		verr_set(err, errno, "fork");
		goto out;
	}
	if (stage1 == 0) {
		close(c.sync[0]);
		exec_stage1(&c);
	}
	close(c.sync[1]);
	c.sync[1] = -1;
	/* In a frozen cgroup the stages would freeze before they exec: with
	 * --ignore-paused the process joins the cgroup once it has exec'd. */
	bool late_cgroup = l.status == OCI_PAUSED;
	if (l.cg && !late_cgroup && oci_cgroup_enter(l.cg, stage1, err) < 0)
		goto out;
	sync_send(c.sync[0], SYNC_GO, 0, NULL);
	struct sync_msg m;
	if (expect(c.sync[0], SYNC_PID, &m, NULL, "exec", err) < 0)
		goto out;
	pid = m.pid;
	waitpid(stage1, NULL, 0);
	stage1 = -1;
	/* EOF: the process exec'd (the sync socket is close-on-exec). */
	char *text = NULL;
	int r = sync_recv(c.sync[0], &m, &text);
	if (r == 0 && m.type == SYNC_ERROR) {
		verr_set(err, 0, "%s", text);
		free(text);
		goto out;
	}
	free(text);
	if (l.cg && late_cgroup && oci_cgroup_enter(l.cg, pid, err) < 0)
		goto out;
	if (write_pid_file(o->pid_file, pid, err) < 0)
		goto out;
	*pidp = pid;
	ret = 0;
out:
	if (ret < 0 && stage1 > 0)
		kill_wait(stage1);
	if (ret < 0 && pid > 0)
		kill(pid, SIGKILL);
	for (int k = 0; k < OCI_NS_COUNT; k++)
		if (c.nsfd[k] >= 0)
			close(c.nsfd[k]);
	if (c.sync[0] >= 0)
		close(c.sync[0]);
	if (c.sync[1] >= 0)
		close(c.sync[1]);
	if (c.console_fd >= 0 && c.console_fd != o->console_fd)
		close(c.console_fd);
	oci_seccomp_free(c.seccomp);
	oci_spec_free(s);
	loaded_clear(&l);
	return ret;
}
