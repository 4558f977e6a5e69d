#include "oci/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/util.h"

static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;
	do {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	} while (fd < 0 && errno == EAGAIN);
	return fd;
}

static int open_in_root(int rootfd, const char *path, bool create, bool as_file, int depth,
			struct verr **err);

int oci_open_in_root(int rootfd, const char *path, bool create, bool as_file, struct verr **err)
{
	return open_in_root(rootfd, path, create, as_file, 0, err);
}

static int open_in_root(int rootfd, const char *path, bool create, bool as_file, int depth, struct verr **err)
{
	int fd = openat2_in_root(rootfd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			return verr_set(err, errno, "open '%s' in the container", path);
		return fd;
	}
	/* Walk the path, creating what is missing. Each prefix is resolved
	 * again inside the root, so a symlink created concurrently cannot
	 * lead out of it. */
	size_t len = strlen(path);
	cleanup_free char *p = xstrdup(path);
	size_t i = 0;
	while (i < len) {
		while (i < len && p[i] == '/')
			i++;
		if (i >= len)
			break;
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		bool last = true;
		for (size_t k = j; k < len; k++)
			if (p[k] != '/')
				last = false;
		char save = p[j];
		p[j] = 0;
		int cfd = openat2_in_root(rootfd, p, O_PATH);
		if (cfd < 0 && errno == ENOENT) {
			/* parent = prefix up to i */
			char c = p[i];
			p[i] = 0;
			int parent = openat2_in_root(rootfd, i > 0 ? p : "/", O_PATH | O_DIRECTORY);
			p[i] = c;
			if (parent < 0)
				return verr_set(err, errno, "open the parent of '%s' in the container", p);
			/* A dangling symlink (/var/run -> /run with no /run):
			 * create its target instead, still inside the root. */
			char link[PATH_MAX];
			ssize_t ln = readlinkat(parent, p + i, link, sizeof(link) - 1);
			if (ln > 0) {
				close(parent);
				if (depth >= 40)
					return verr_set(err, ELOOP, "open '%s' in the container", path);
				link[ln] = 0;
				p[i] = 0;
				const char *rest = j < len ? p + j + 1 : "";
				const char *sep = *rest ? "/" : "";
				char *next = link[0] == '/' ? xasprintf("%s%s%s", link, sep, rest)
							    : xasprintf("%s/%s%s%s", p, link, sep, rest);
				p[i] = c;
				int nfd = open_in_root(rootfd, next, create, as_file, depth + 1, err);
				free(next);
				return nfd;
			}
			int r;
			if (last && as_file) {
				r = openat(parent, p + i,
					   O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, p + i, 0755);
			}
			int e = errno;
			close(parent);
			if (r < 0 && e != EEXIST)
				return verr_set(err, e, "create '%s' in the container", p);
			cfd = openat2_in_root(rootfd, p, O_PATH);
		}
		if (cfd < 0)
			return verr_set(err, errno, "open '%s' in the container", p);
		p[j] = save;
		if (j >= len || last)
			return cfd;
		close(cfd);
		i = j;
	}
	return openat2_in_root(rootfd, "/", O_PATH);
}

static const char *fdpath(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Flags of the mount at path that an unprivileged user namespace may not
 * clear when it remounts (locked by the kernel), so they must be kept. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return 0;
	return sv.f_flag &
	       (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_RDONLY);
}

static int remount_bind(const char *target, unsigned long flags, unsigned long clear, const char *what,
			struct verr **err)
{
	unsigned long keep = locked_flags(target) & ~clear & ~MS_RDONLY;
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | keep | flags, NULL) < 0)
		return verr_set(err, errno, "remount '%s'", what);
	return 0;
}

static int mount_cgroup(const struct oci_rootfs *r, int rootfd, const struct oci_mount *m, const char *target,
			struct verr **err)
{
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) < 0)
		return verr_set(err, errno, "statfs /sys/fs/cgroup");
	unsigned long fl = m->flags & ~(MS_RDONLY | MS_REMOUNT);
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		if (r->cgroupns) {
			if (mount("cgroup2", target, "cgroup2", fl | (m->flags & MS_RDONLY), NULL) < 0)
				return verr_set(err, errno, "mount cgroup2 on '%s'", m->destination);
			return 0;
		}
		cleanup_free char *src =
		    xasprintf("/sys/fs/cgroup%s", r->cgroup_relpath ? r->cgroup_relpath : "");
		if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
			return verr_set(err, errno, "bind '%s' on '%s'", src, m->destination);
		return remount_bind(target, m->flags & ~MS_REMOUNT, m->clear_flags, m->destination, err);
	}
	/* v1 or hybrid: a tmpfs with one bind per hierarchy, each showing the
	 * container's own cgroup (as runc does), and the same symlinks
	 * (cpu -> cpu,cpuacct) as the host. */
	if (mount("tmpfs", target, "tmpfs", fl, "mode=755") < 0)
		return verr_set(err, errno, "mount tmpfs on '%s'", m->destination);
	/* The fd behind target names the directory under the new tmpfs:
	 * resolve the destination again to get the tmpfs itself. */
	int tpath = oci_open_in_root(rootfd, m->destination, false, false, err);
	if (tpath < 0)
		return -1;
	char tbuf[32];
	int tfd = open(fdpath(tpath, tbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(tpath);
	if (tfd < 0)
		return verr_set(err, errno, "open '%s'", m->destination);
	char tfdbuf[32];
	target = fdpath(tfd, tfdbuf);
	DIR *d = opendir("/sys/fs/cgroup");
	if (!d) {
		close(tfd);
		return verr_set(err, errno, "open /sys/fs/cgroup");
	}
	int ret = 0;
	struct dirent *e;
	while ((e = readdir(d)) && ret == 0) {
		if (e->d_name[0] == '.')
			continue;
		cleanup_free char *host = xasprintf("/sys/fs/cgroup/%s", e->d_name);
		struct stat sb;
		if (lstat(host, &sb) < 0)
			continue;
		if (S_ISLNK(sb.st_mode)) {
			char link[256];
			ssize_t n = readlink(host, link, sizeof(link) - 1);
			if (n > 0) {
				link[n] = 0;
				if (symlinkat(link, tfd, e->d_name) < 0 && errno != EEXIST)
					ret = verr_set(err, errno, "symlink cgroup '%s'", e->d_name);
			}
			continue;
		}
		if (!S_ISDIR(sb.st_mode) || statfs(host, &sf) < 0 ||
		    (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
			continue;
		cleanup_free char *src = xasprintf("%s%s", host, r->cgroup_relpath ? r->cgroup_relpath : "");
		if (access(src, F_OK) < 0) {
			free(src);
			src = xstrdup(host);
		}
		if (mkdirat(tfd, e->d_name, 0755) < 0 && errno != EEXIST) {
			ret = verr_set(err, errno, "mkdir cgroup '%s'", e->d_name);
			break;
		}
		cleanup_free char *dst = xasprintf("%s/%s", target, e->d_name);
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
			ret = verr_set(err, errno, "bind cgroup '%s'", src);
			break;
		}
		ret = remount_bind(dst, (m->flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				   m->clear_flags, dst, err);
	}
	closedir(d);
	if (ret == 0 && (m->flags & MS_RDONLY) &&
	    mount("tmpfs", target, "tmpfs", MS_REMOUNT | fl | MS_RDONLY, "mode=755") < 0)
		ret = verr_set(err, errno, "remount '%s' read-only", m->destination);
	close(tfd);
	return ret;
}

/* Copies the tree under src into dst (both directory fds), keeping modes,
 * owners and symlinks; for tmpcopyup (podman --tmpfs on an image dir). */
static int copy_tree(int src, int dst, int depth)
{
	if (depth > 64)
		return -ELOOP;
	int dfd = dup(src);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int ret = 0;
	struct dirent *e;
	while (ret == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat sb;
		if (fstatat(src, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = -errno;
			break;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (mkdirat(dst, e->d_name, sb.st_mode & 07777) < 0 && errno != EEXIST) {
				ret = -errno;
				break;
			}
			int s2 = openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 >= 0 && d2 >= 0)
				ret = copy_tree(s2, d2, depth + 1);
			else
				ret = -errno;
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISLNK(sb.st_mode)) {
			char link[PATH_MAX];
			ssize_t n = readlinkat(src, e->d_name, link, sizeof(link) - 1);
			if (n < 0) {
				ret = -errno;
				break;
			}
			link[n] = 0;
			if (symlinkat(link, dst, e->d_name) < 0)
				ret = -errno;
		} else if (S_ISREG(sb.st_mode)) {
			int in = openat(src, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int out = openat(dst, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					 sb.st_mode & 07777);
			if (in < 0 || out < 0) {
				ret = -errno;
			} else {
				char buf[65536];
				ssize_t n;
				while ((n = read(in, buf, sizeof(buf))) > 0)
					if (write_full(out, buf, (size_t)n) < 0) {
						ret = -EIO;
						break;
					}
				if (n < 0)
					ret = -errno;
			}
			if (in >= 0)
				close(in);
			if (out >= 0)
				close(out);
		} else {
			continue; /* devices, fifos, sockets: not copied */
		}
		if (ret == 0) {
			fchownat(dst, e->d_name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW);
			if (!S_ISLNK(sb.st_mode))
				fchmodat(dst, e->d_name, sb.st_mode & 07777, 0);
		}
	}
	closedir(d);
	return ret;
}

/* Mounts over /proc could hide what the kernel protects there (attr/,
 * sys/, the masked paths): only procfs on /proc itself and the files lxcfs
 * serves are allowed (runc's rule, after CVE-2019-16884 and -19921). */
static int check_proc_destination(const struct oci_mount *m, struct verr **err)
{
	static const char *const allowed[] = {"/proc/cpuinfo", "/proc/diskstats",
					      "/proc/meminfo", "/proc/stat",
					      "/proc/swaps",   "/proc/uptime",
					      "/proc/loadavg", "/proc/slabinfo",
					      "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
	/* Clean the path: collapse slashes and "." components. */
	char clean[PATH_MAX];
	size_t n = 0;
	const char *p = m->destination;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (!(len == 1 && p[0] == '.')) {
			if (n + len + 2 >= sizeof(clean))
				return verr_set(err, 0, "mount destination too long");
			clean[n++] = '/';
			memcpy(clean + n, p, len);
			n += len;
		}
		p += len;
	}
	clean[n] = 0;
	if (n == 0)
		strcpy(clean, "/");
	if (strncmp(clean, "/proc", 5) != 0 || (clean[5] != 0 && clean[5] != '/'))
		return 0;
	if (clean[5] == 0) {
		if (m->type && strcmp(m->type, "proc") == 0)
			return 0;
		return verr_set(err, 0, "mount on /proc must be of type proc");
	}
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (strcmp(clean, allowed[i]) == 0)
			return 0;
	return verr_set(err, 0, "mount on '%s' is not allowed (under /proc)", m->destination);
}

static int do_mount(const struct oci_rootfs *r, int rootfd, const struct oci_mount *m, struct verr **err)
{
	if (check_proc_destination(m, err) < 0)
		return -1;
	bool is_file = false;
	cleanup_free char *src = NULL;
	if (m->bind) {
		if (m->source[0] == '/')
			src = xstrdup(m->source);
		else
			src = xasprintf("%s/%s", r->bundle, m->source);
		struct stat sb;
		if (stat(src, &sb) < 0)
			return verr_set(err, errno, "bind source '%s'", src);
		is_file = !S_ISDIR(sb.st_mode);
	}
	int fd = oci_open_in_root(rootfd, m->destination, true, is_file, err);
	if (fd < 0)
		return -1;
	char buf[32];
	const char *target = fdpath(fd, buf);
	int ret = 0;
	const char *type = m->type ? m->type : "";
	if (m->bind) {
		if (mount(src, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) < 0) {
			ret = verr_set(err, errno, "bind '%s' on '%s'", src, m->destination);
			goto out;
		}
		/* A bind mount takes its flags only on a remount. Re-open the
		 * target: the fd still names the directory under the mount. */
		unsigned long fl = m->flags & ~MS_REMOUNT;
		if (fl & ~(MS_REC)) {
			close(fd);
			fd = oci_open_in_root(rootfd, m->destination, false, false, err);
			if (fd < 0)
				return -1;
			target = fdpath(fd, buf);
			if (remount_bind(target, fl, m->clear_flags, m->destination, err) < 0) {
				ret = -1;
				goto out;
			}
		}
	} else if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
		ret = mount_cgroup(r, rootfd, m, target, err);
	} else {
		unsigned long fl = m->flags;
		int under = -1;
		if (m->tmpcopyup && strcmp(type, "tmpfs") == 0)
			under = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* With tmpcopyup a read-only tmpfs is made read-only after the copy. */
		int rc = mount(m->source ? m->source : type, target, type, under >= 0 ? fl & ~MS_RDONLY : fl,
			       m->data);
		if (rc == 0 && under >= 0) {
			int top = oci_open_in_root(rootfd, m->destination, false, false, err);
			if (top < 0) {
				close(under);
				ret = -1;
				goto out;
			}
			char b2[32];
			int dfd = open(fdpath(top, b2), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			close(top);
			int q = dfd < 0 ? -errno : copy_tree(under, dfd, 0);
			struct stat sb;
			if (dfd >= 0 && fstat(under, &sb) == 0) {
				if (fchown(dfd, sb.st_uid, sb.st_gid) < 0) {
					/* not fatal: keep the tmpfs owner */
				}
				fchmod(dfd, sb.st_mode & 07777);
			}
			if (q == 0 && dfd >= 0 && (fl & MS_RDONLY) &&
			    mount(NULL, fdpath(dfd, b2), NULL, MS_REMOUNT | fl, m->data) < 0)
				q = -errno;
			if (dfd >= 0)
				close(dfd);
			if (q < 0) {
				close(under);
				ret = verr_set(err, -q, "tmpcopyup into '%s'", m->destination);
				goto out;
			}
		}
		if (under >= 0)
			close(under);
		if (rc < 0 && errno == EPERM && strcmp(type, "sysfs") == 0 && r->userns) {
			/* sysfs cannot be mounted in a user namespace that
			 * does not own the network namespace: bind the host's
			 * (runc does the same), read-only. */
			rc = mount("/sys", target, NULL, MS_BIND | MS_REC, NULL);
			if (rc == 0) {
				close(fd);
				fd = oci_open_in_root(rootfd, m->destination, false, false, err);
				if (fd < 0)
					return -1;
				target = fdpath(fd, buf);
				rc = remount_bind(target, fl | MS_RDONLY, 0, m->destination, err);
				if (rc < 0)
					goto out;
			}
		} else if (rc < 0 && errno == EPERM && strcmp(type, "mqueue") == 0 && r->userns) {
			rc = mount("/dev/mqueue", target, NULL, MS_BIND | MS_REC, NULL);
		}
		if (rc < 0)
			ret = verr_set(err, errno, "mount %s on '%s'", type, m->destination);
	}
	if (ret == 0 && m->propagation) {
		close(fd);
		fd = oci_open_in_root(rootfd, m->destination, false, false, err);
		if (fd < 0)
			return -1;
		if (mount(NULL, fdpath(fd, buf), NULL, m->propagation, NULL) < 0)
			ret = verr_set(err, errno, "set propagation of '%s'", m->destination);
	}
out:
	close(fd);
	return ret;
}

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},	   {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static int make_device(int rootfd, const char *path, char type, unsigned major, unsigned minor, mode_t mode,
		       uid_t uid, gid_t gid, bool bind, struct verr **err)
{
	const char *rel = path;
	while (*rel == '/')
		rel++;
	/* Create the parent, then the node right inside it. */
	cleanup_free char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : dir;
	if (slash)
		*slash = 0;
	cleanup_free char *target = NULL;
	int pfd = oci_open_in_root(rootfd, *dir ? dir : "/", true, false, err);
	if (pfd < 0)
		return -1;
	char buf[32];
	int dfd = open(fdpath(pfd, buf), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	close(pfd);
	if (dfd < 0)
		return verr_set(err, errno, "open the directory of '%s'", path);
	unlinkat(dfd, name, 0);
	int ret = 0;
	if (!bind && type != 'p') {
		mode_t kind = type == 'b' ? S_IFBLK : S_IFCHR;
		if (mknodat(dfd, name, kind | (mode & 07777), makedev(major, minor)) < 0) {
			if (errno != EPERM) {
				ret = verr_set(err, errno, "mknod '%s'", path);
				goto out;
			}
			bind = true;
		} else {
			if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
			    fchmodat(dfd, name, mode & 07777, 0) < 0)
				ret = verr_set(err, errno, "set owner/mode of '%s'", path);
			goto out;
		}
	}
	if (type == 'p') {
		if (mkfifoat(dfd, name, mode & 07777) < 0)
			ret = verr_set(err, errno, "mkfifo '%s'", path);
		goto out;
	}
	/* Bind the host's node of the same path (user namespaces cannot mknod). */
	int f = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0) {
		ret = verr_set(err, errno, "create '%s'", path);
		goto out;
	}
	close(f);
	target = xasprintf("/proc/self/fd/%d/%s", dfd, name);
	if (mount(path, target, NULL, MS_BIND, NULL) < 0)
		ret = verr_set(err, errno, "bind host device '%s'", path);
out:
	close(dfd);
	return ret;
}

static bool spec_has_device(const struct oci_spec *s, const char *path)
{
	for (size_t i = 0; i < s->n_devices; i++)
		if (strcmp(s->devices[i].path, path) == 0)
			return true;
	return false;
}

static bool spec_has_mount(const struct oci_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (strcmp(s->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

/* The mount point (from /proc/self/mountinfo) that holds path: the longest
 * mount point that is path or a parent directory of it. Caller frees. */
static char *parent_mount_point(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL, *best = NULL;
	size_t cap = 0, best_len = 0;
	while (getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];
		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		size_t n = strlen(mp);
		bool under =
		    strcmp(mp, "/") == 0 || (strncmp(path, mp, n) == 0 && (path[n] == '/' || path[n] == 0));
		if (under && n >= best_len) {
			free(best);
			best = xstrdup(mp);
			best_len = n;
		}
	}
	free(line);
	fclose(f);
	return best;
}

int oci_rootfs_prepare(const struct oci_rootfs *r, struct verr **err)
{
	const struct oci_spec *s = r->spec;
	unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : (MS_SLAVE | MS_REC);
	/* An unbindable / would refuse the bind of the rootfs: it is applied
	 * to the rootfs itself below. */
	unsigned long root_prop = (prop & MS_UNBINDABLE) ? MS_PRIVATE : prop;
	if (mount(NULL, "/", NULL, root_prop | MS_REC, NULL) < 0)
		return verr_set(err, errno, "set the propagation of /");
	if (prop & MS_SHARED) {
		/* pivot_root refuses a shared parent or a shared old root: make
		 * the mount holding the rootfs private first (as runc does), so
		 * the bind below is not a peer of it either. */
		cleanup_free char *mp = parent_mount_point(r->rootfs);
		if (mp && mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
			return verr_set(err, errno, "make '%s' private", mp);
	}
	if (mount(r->rootfs, r->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return verr_set(err, errno, "bind the rootfs '%s'", r->rootfs);
	/* pivot_root refuses a shared new root; a private copy is what the
	 * container sees anyway unless it asked for shared propagation. */
	if (!(prop & MS_SHARED) && mount(NULL, r->rootfs, NULL, MS_PRIVATE, NULL) < 0)
		return verr_set(err, errno, "make the rootfs private");
	if ((prop & MS_UNBINDABLE) && mount(NULL, r->rootfs, NULL, prop, NULL) < 0)
		return verr_set(err, errno, "make the rootfs unbindable");
	int rootfd = open(r->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return verr_set(err, errno, "open the rootfs '%s'", r->rootfs);
	int ret = 0;
	for (size_t i = 0; i < s->n_mounts && ret == 0; i++)
		if (do_mount(r, rootfd, &s->mounts[i], err) < 0)
			ret = verr_wrap(err, "mounts[%zu]", i);
	/* The cwd is created if missing, as runc does (podman run -w NEWDIR). */
	if (ret == 0 && s->has_process && s->process.cwd) {
		int cfd = oci_open_in_root(rootfd, s->process.cwd, true, false, err);
		if (cfd < 0)
			ret = verr_wrap(err, "process.cwd");
		else
			close(cfd);
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_devices) && ret == 0; i++) {
		if (spec_has_device(s, default_devices[i].path) || spec_has_mount(s, default_devices[i].path))
			continue;
		ret = make_device(rootfd, default_devices[i].path, 'c', default_devices[i].major,
				  default_devices[i].minor, 0666, 0, 0, r->userns, err);
	}
	for (size_t i = 0; i < s->n_devices && ret == 0; i++) {
		const struct oci_device *d = &s->devices[i];
		ret = make_device(rootfd, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major,
				  (unsigned)d->minor, d->has_mode ? d->mode : 0666, d->uid, d->gid, r->userns,
				  err);
		if (ret < 0)
			verr_wrap(err, "linux.devices[%zu]", i);
	}
	if (ret == 0) {
		static const char *const links[][2] = {
		    {"/proc/self/fd", "dev/fd"},
		    {"/proc/self/fd/0", "dev/stdin"},
		    {"/proc/self/fd/1", "dev/stdout"},
		    {"/proc/self/fd/2", "dev/stderr"},
		};
		int devfd = openat2_in_root(rootfd, "/dev", O_DIRECTORY | O_RDONLY);
		if (devfd >= 0) {
			for (size_t i = 0; i < ARRAY_SIZE(links); i++)
				symlinkat(links[i][0], devfd, links[i][1] + 4);
			if (spec_has_mount(s, "/dev/pts")) {
				unlinkat(devfd, "ptmx", 0);
				if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
					ret = verr_set(err, errno, "symlink /dev/ptmx");
			}
			close(devfd);
		}
	}
	close(rootfd);
	return ret;
}

int oci_rootfs_pivot(const struct oci_rootfs *r, struct verr **err)
{
	if (chdir(r->rootfs) < 0)
		return verr_set(err, errno, "chdir to the rootfs");
	if (r->no_pivot) {
		if (mount(r->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return verr_set(err, errno, "move the rootfs to /");
		if (chroot(".") < 0)
			return verr_set(err, errno, "chroot");
	} else {
		/* pivot_root(".", ".") stacks the old root on the new one; it
		 * is then detached without a directory to hold it (the way
		 * runc does it), so nothing of the host stays reachable. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return verr_set(err, errno, "pivot_root");
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return verr_set(err, errno, "make the old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			return verr_set(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return verr_set(err, errno, "chdir /");
	return 0;
}

static int mask_path(const char *path, struct verr **err)
{
	int fd = openat2_in_root(AT_FDCWD, path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : verr_set(err, errno, "mask '%s'", path);
	struct stat sb;
	int ret = 0;
	char buf[32];
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (mount("tmpfs", fdpath(fd, buf), "tmpfs", MS_RDONLY, "size=0k") < 0)
			ret = verr_set(err, errno, "mask '%s'", path);
	} else if (mount("/dev/null", fdpath(fd, buf), NULL, MS_BIND, NULL) < 0) {
		ret = verr_set(err, errno, "mask '%s'", path);
	}
	close(fd);
	return ret;
}

static int readonly_path(const char *path, struct verr **err)
{
	int fd = openat2_in_root(AT_FDCWD, path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : verr_set(err, errno, "read-only '%s'", path);
	char buf[32];
	int ret = 0;
	if (mount(fdpath(fd, buf), fdpath(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0) {
		ret = verr_set(err, errno, "bind '%s'", path);
	} else {
		close(fd);
		fd = openat2_in_root(AT_FDCWD, path, O_PATH | O_NOFOLLOW);
		if (fd < 0)
			return verr_set(err, errno, "read-only '%s'", path);
		ret =
		    remount_bind(fdpath(fd, buf), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, path, err);
	}
	close(fd);
	return ret;
}

int oci_rootfs_finish(const struct oci_rootfs *r, int console_slave, struct verr **err)
{
	const struct oci_spec *s = r->spec;
	if (console_slave >= 0) {
		int fd = oci_open_in_root(AT_FDCWD, "/dev/console", true, true, err);
		if (fd < 0)
			return -1;
		char a[32], b[32];
		int rc = mount(fdpath(console_slave, a), fdpath(fd, b), NULL, MS_BIND, NULL);
		int e = errno;
		close(fd);
		if (rc < 0)
			return verr_set(err, e, "bind the console on /dev/console");
	}
	for (char **p = s->masked_paths; p && *p; p++)
		if (mask_path(*p, err) < 0)
			return -1;
	for (char **p = s->readonly_paths; p && *p; p++)
		if (readonly_path(*p, err) < 0)
			return -1;
	if (s->root_readonly && remount_bind("/", MS_RDONLY, 0, "/", err) < 0)
		return -1;
	return 0;
}
