#include "oci/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

int oci_id_validate(const char *id, struct verr **err)
{
	size_t n = strlen(id);
	if (n == 0)
		return verr_set(err, 0, "container id cannot be empty");
	if (n > 1024)
		return verr_set(err, 0, "invalid container id: longer than 1024 characters");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return verr_set(err, 0, "invalid container id '%s'", id);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-' || c == '.'))
			return verr_set(err, 0, "invalid container id '%s': only [A-Za-z0-9_+.-] allowed",
					id);
	}
	return 0;
}

char *oci_state_dir(const char *root, const char *id)
{
	return xasprintf("%s/%s", root, id);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int r = 0;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*s = '/';
	}
	if (r == 0 && mkdir(p, mode) < 0 && errno != EEXIST)
		r = -errno;
	free(p);
	return r;
}

int oci_state_create_dir(const char *root, const char *id, struct verr **err)
{
	int r = mkdir_p(root, 0700);
	if (r < 0)
		return verr_set(err, -r, "create runtime root '%s'", root);
	cleanup_free char *dir = oci_state_dir(root, id);
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			return verr_set(err, 0, "container with id '%s' already exists", id);
		return verr_set(err, errno, "create state directory '%s'", dir);
	}
	return 0;
}

int oci_state_lock(const char *root, const char *id, int *fd, struct verr **err)
{
	cleanup_free char *dir = oci_state_dir(root, id);
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		if (errno == ENOENT)
			return verr_set(err, 0, "container '%s' does not exist", id);
		return verr_set(err, errno, "open '%s'", dir);
	}
	while (flock(d, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(d);
			return verr_set(err, e, "lock '%s'", dir);
		}
	}
	*fd = d;
	return 0;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

int oci_state_save(const char *root, const struct oci_state *st, struct verr **err)
{
	json_t *o = json_object();
	set_str(o, "id", st->id);
	json_object_set_new(o, "pid", json_integer(st->pid));
	json_object_set_new(o, "pid_start", json_integer((json_int_t)st->pid_start));
	set_str(o, "bundle", st->bundle);
	set_str(o, "rootfs", st->rootfs);
	set_str(o, "created", st->created);
	set_str(o, "owner", st->owner);
	json_object_set_new(o, "systemd_cgroup", json_boolean(st->systemd_cgroup));
	if (st->config)
		json_object_set(o, "config", st->config);
	if (st->cgroup)
		json_object_set(o, "cgroup", st->cgroup);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return verr_set(err, ENOMEM, "encode state");
	cleanup_free char *path = xasprintf("%s/%s/state.json", root, st->id);
	int r = write_file_atomic(path, s, strlen(s), 0600);
	free(s);
	if (r < 0)
		return verr_set(err, -r, "write '%s'", path);
	return 0;
}

static char *dup_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

int oci_state_load(const char *root, const char *id, struct oci_state **out, struct verr **err)
{
	if (oci_id_validate(id, err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/%s/state.json", root, id);
	cleanup_free char *data = NULL;
	size_t len;
	int r = read_file(path, 64u << 20, &data, &len);
	if (r == -ENOENT) {
		cleanup_free char *dir = oci_state_dir(root, id);
		if (access(dir, F_OK) < 0)
			return verr_set(err, 0, "container '%s' does not exist", id);
		return verr_set(err, 0, "container '%s' is being created or was not fully created", id);
	}
	if (r < 0)
		return verr_set(err, -r, "read '%s'", path);
	json_error_t je;
	json_t *o = json_loadb(data, len, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return verr_set(err, 0, "'%s': corrupt state file", path);
	}
	struct oci_state *st = xcalloc(1, sizeof(*st));
	st->id = dup_str(o, "id");
	st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	st->pid_start = (uint64_t)json_integer_value(json_object_get(o, "pid_start"));
	st->bundle = dup_str(o, "bundle");
	st->rootfs = dup_str(o, "rootfs");
	st->created = dup_str(o, "created");
	st->owner = dup_str(o, "owner");
	st->systemd_cgroup = json_is_true(json_object_get(o, "systemd_cgroup"));
	st->config = json_incref(json_object_get(o, "config"));
	st->cgroup = json_incref(json_object_get(o, "cgroup"));
	json_decref(o);
	if (!st->id || strcmp(st->id, id) != 0 || !st->bundle) {
		oci_state_free(st);
		return verr_set(err, 0, "'%s': corrupt state file", path);
	}
	*out = st;
	return 0;
}

void oci_state_free(struct oci_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	json_decref(st->config);
	json_decref(st->cgroup);
	free(st);
}

uint64_t oci_proc_start_time(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *data = NULL;
	size_t len;
	if (read_file(path, 4096, &data, &len) < 0)
		return 0;
	/* comm (field 2) may hold spaces and parentheses: fields restart
	 * after the last ')'. Field 3 is the state, 22 the start time. */
	char *p = strrchr(data, ')');
	uint64_t start = 0;
	if (p && p[1] == ' ') {
		char state = p[2];
		if (state == 'Z' || state == 'X') {
			free(data);
			return 0;
		}
		p += 2;
		for (int field = 3; field < 22 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p)
			start = strtoull(p, NULL, 10);
	}
	free(data);
	return start;
}

enum oci_status oci_state_status(const char *root, const struct oci_state *st, bool frozen)
{
	if (st->pid <= 0)
		return OCI_STOPPED;
	uint64_t start = oci_proc_start_time(st->pid);
	if (start == 0 || (st->pid_start && start != st->pid_start))
		return OCI_STOPPED;
	cleanup_free char *fifo = xasprintf("%s/%s/" OCI_EXEC_FIFO, root, st->id);
	if (access(fifo, F_OK) == 0)
		return OCI_CREATED;
	return frozen ? OCI_PAUSED : OCI_RUNNING;
}

const char *oci_status_name(enum oci_status s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
	return names[s];
}

json_t *oci_state_to_oci_json(const struct oci_state *st, enum oci_status status)
{
	json_t *o = json_object();
	json_object_set_new(o, "ociVersion", json_string(OCI_SPEC_VERSION));
	json_object_set_new(o, "id", json_string(st->id));
	json_object_set_new(o, "status", json_string(oci_status_name(status)));
	if (status != OCI_STOPPED && st->pid > 0)
		json_object_set_new(o, "pid", json_integer(st->pid));
	else
		json_object_set_new(o, "pid", json_integer(0));
	json_object_set_new(o, "bundle", json_string(st->bundle));
	if (st->rootfs)
		json_object_set_new(o, "rootfs", json_string(st->rootfs));
	if (st->created)
		json_object_set_new(o, "created", json_string(st->created));
	if (st->owner)
		json_object_set_new(o, "owner", json_string(st->owner));
	json_t *ann = st->config ? json_object_get(st->config, "annotations") : NULL;
	json_object_set_new(o, "annotations", json_is_object(ann) ? json_deep_copy(ann) : json_object());
	return o;
}

static int rmtree_at(int parent, const char *name, dev_t dev)
{
	struct stat sb;
	if (fstatat(parent, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (sb.st_dev != dev)
		return -EXDEV;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int q = rmtree_at(dirfd(d), e->d_name, dev);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int oci_rmtree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rmtree_at(AT_FDCWD, path, sb.st_dev);
}

char *oci_time_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}
