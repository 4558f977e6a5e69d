#include "oci/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"
#include "oci/seccomp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static bool is_executable(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

char *oci_process_lookup(const struct oci_process *p, struct verr **err)
{
	const char *cmd = p->args[0];
	if (strchr(cmd, '/')) {
		/* Relative paths resolve from process.cwd, as for execve. */
		char *path = cmd[0] == '/' ? xstrdup(cmd) : xasprintf("%s/%s", p->cwd, cmd);
		struct stat sb;
		if (stat(path, &sb) < 0) {
			int e = errno;
			free(path);
			verr_set(err, e, "exec: '%s'", cmd);
			return NULL;
		}
		return path;
	}
	const char *pathenv = env_get(p->env, "PATH");
	if (!pathenv)
		pathenv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	cleanup_free char *copy = xstrdup(pathenv);
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", cmd);
		if (is_executable(cand))
			return cand;
		free(cand);
	}
	verr_set(err, 0, "exec: '%s': executable file not found in $PATH", cmd);
	return NULL;
}

int oci_process_check_lsm(const struct oci_process *p, struct verr **err)
{
	if (p->apparmor_profile && access("/sys/kernel/security/apparmor", F_OK) < 0 &&
	    access("/sys/module/apparmor/parameters/enabled", F_OK) < 0)
		return verr_set(err, 0, "process.apparmorProfile '%s': AppArmor is not enabled on this host",
				p->apparmor_profile);
	if (p->selinux_label && access("/sys/fs/selinux/enforce", F_OK) < 0)
		return verr_set(err, 0, "process.selinuxLabel '%s': SELinux is not enabled on this host",
				p->selinux_label);
	return 0;
}

static const char *rlimit_name(int res)
{
	static const char *const names[] = {
	    [RLIMIT_CPU] = "RLIMIT_CPU",	   [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	    [RLIMIT_DATA] = "RLIMIT_DATA",	   [RLIMIT_STACK] = "RLIMIT_STACK",
	    [RLIMIT_CORE] = "RLIMIT_CORE",	   [RLIMIT_RSS] = "RLIMIT_RSS",
	    [RLIMIT_NPROC] = "RLIMIT_NPROC",	   [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	    [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
	    [RLIMIT_LOCKS] = "RLIMIT_LOCKS",	   [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	    [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
	    [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",	   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
	};
	if (res < 0 || (size_t)res >= ARRAY_SIZE(names) || !names[res])
		return "RLIMIT_?";
	return names[res];
}

int oci_process_limits(const struct oci_process *p, struct verr **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct oci_rlimit *r = &p->rlimits[i];
		struct rlimit rl = {
		    .rlim_cur = r->soft >= (uint64_t)INT64_MAX ? RLIM_INFINITY : r->soft,
		    .rlim_max = r->hard >= (uint64_t)INT64_MAX ? RLIM_INFINITY : r->hard,
		};
		if (setrlimit(r->resource, &rl) == 0)
			continue;
		int e = errno;
		struct rlimit cur;
		getrlimit(r->resource, &cur);
		if (e == EPERM && rl.rlim_max > cur.rlim_max)
			return verr_set(
			    err, 0,
			    "process.rlimits: cannot raise the hard limit of %s to %llu (it is %llu "
			    "and raising it needs CAP_SYS_RESOURCE, which this host does not grant)",
			    rlimit_name(r->resource), (unsigned long long)r->hard,
			    (unsigned long long)cur.rlim_max);
		return verr_set(err, e, "process.rlimits: setrlimit %s soft %llu hard %llu",
				rlimit_name(r->resource), (unsigned long long)r->soft,
				(unsigned long long)r->hard);
	}
	if (p->has_oom_score_adj) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, (size_t)n) != n) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return verr_set(err, e, "process.oomScoreAdj: write %d", p->oom_score_adj);
		}
		close(fd);
	}
	if (p->apparmor_profile) {
		/* Takes effect at execve (apparmor(7) "change_onexec"). */
		cleanup_free char *cmd = xasprintf("exec %s", p->apparmor_profile);
		int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, cmd, strlen(cmd)) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return verr_set(err, e, "process.apparmorProfile '%s'", p->apparmor_profile);
		}
		close(fd);
	}
	if (p->selinux_label) {
		int fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, p->selinux_label, strlen(p->selinux_label)) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return verr_set(err, e, "process.selinuxLabel '%s'", p->selinux_label);
		}
		close(fd);
	}
	return 0;
}

static int set_caps(const struct oci_process *p, struct verr **err)
{
	int last = oci_cap_last();
	cap_t c = cap_init();
	if (!c)
		return verr_set(err, errno, "cap_init");
	cap_value_t v[64];
	static const struct {
		int set;
		cap_flag_t flag;
	} map[] = {{OCI_CAP_EFFECTIVE, CAP_EFFECTIVE},
		   {OCI_CAP_PERMITTED, CAP_PERMITTED},
		   {OCI_CAP_INHERITABLE, CAP_INHERITABLE}};
	for (size_t k = 0; k < ARRAY_SIZE(map); k++) {
		int n = 0;
		for (int i = 0; i <= last; i++)
			if (p->caps[map[k].set] & (1ull << i))
				v[n++] = i;
		if (n && cap_set_flag(c, map[k].flag, n, v, CAP_SET) < 0) {
			cap_free(c);
			return verr_set(err, errno, "cap_set_flag");
		}
	}
	int r = cap_set_proc(c);
	int e = errno;
	cap_free(c);
	if (r < 0)
		return verr_set(err, e, "set capabilities");
	cap_reset_ambient();
	for (int i = 0; i <= last; i++) {
		if (!(p->caps[OCI_CAP_AMBIENT] & (1ull << i)))
			continue;
		/* An ambient capability must be permitted and inheritable;
		 * runc skips the others silently. */
		if (cap_set_ambient(i, CAP_SET) < 0 && errno != EPERM)
			return verr_set(err, errno, "set ambient capability %s", oci_cap_name(i));
	}
	return 0;
}

int oci_process_identity(const struct oci_process *p, struct oci_seccomp *seccomp, struct verr **err)
{
	if (seccomp && !p->no_new_privileges && oci_seccomp_load(seccomp, err) < 0)
		return -1;
	int last = oci_cap_last();
	uint64_t bounding = p->has_caps ? p->caps[OCI_CAP_BOUNDING] : 0;
	for (int i = 0; i <= last; i++)
		if (!(bounding & (1ull << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			return verr_set(err, errno, "drop %s from the bounding set", oci_cap_name(i));
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return verr_set(err, errno, "PR_SET_KEEPCAPS");
	size_t ng = p->n_additional_gids;
	gid_t *groups = xcalloc(ng ? ng : 1, sizeof(gid_t));
	for (size_t i = 0; i < ng; i++)
		groups[i] = p->additional_gids[i];
	int r = setgroups(ng, groups);
	int e = errno;
	free(groups);
	/* setgroups is denied in a user namespace with setgroups=deny; then
	 * only an empty list is acceptable. */
	if (r < 0 && !(e == EPERM && ng == 0))
		return verr_set(err, e, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return verr_set(err, errno, "setgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return verr_set(err, errno, "setuid %u", p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return verr_set(err, errno, "PR_SET_KEEPCAPS");
	if (set_caps(p, err) < 0)
		return -1;
	umask(p->has_umask ? p->umask : 022);
	if (chdir(p->cwd) < 0)
		return verr_set(err, errno, "chdir to cwd ('%s') set in config.json", p->cwd);
	/* CVE-2024-21626: a cwd reached through a leaked host fd lies outside
	 * the root; getcwd(2) then fails or answers "(unreachable)...". */
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
		return verr_set(err, 0, "cwd '%s' is outside the container root", p->cwd);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return verr_set(err, errno, "PR_SET_NO_NEW_PRIVS");
	if (seccomp && p->no_new_privileges && oci_seccomp_load(seccomp, err) < 0)
		return -1;
	return 0;
}

int oci_process_exec(const struct oci_process *p, const char *path, int preserve_fds, struct verr **err)
{
	if (syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		/* Older kernels: walk the table. */
		for (int fd = 3 + preserve_fds; fd < 65536; fd++) {
			int fl = fcntl(fd, F_GETFD);
			if (fl >= 0)
				fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		}
	}
	/* The runtime ignores SIGPIPE and may block signals; ignored signals
	 * and the mask survive execve, so give the process clean ones. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, p->args, p->env);
	return verr_set(err, errno, "exec '%s'", path);
}
