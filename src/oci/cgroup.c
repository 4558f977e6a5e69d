/* Container cgroups through cgroupfs (OCI runtime spec config-linux.md
 * "Control groups"; kernel Documentation/admin-guide/cgroup-v1/ and
 * cgroup-v2.rst).
 *
 * The hierarchies are read from /proc/self/mountinfo: every cgroup v1 mount
 * and the cgroup2 mount under /sys/fs/cgroup. A container's cgroup is the same
 * relative path ("/vessel/<id>") in each of them. Resources go to the v1
 * controller that owns the file, or to the unified directory on a pure v2
 * host. Device rules on v2 become a BPF_PROG_TYPE_CGROUP_DEVICE program. */
#include "oci/cgroup.h"
#include "oci/cgroup_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_MAX_HIER 32
#define CG_MAX_DEPTH 64

struct cg_hier {
	char *ctrls;  /* v1: "cpu,cpuacct", "name=systemd"; v2: "" */
	char *path;   /* the container's directory in this hierarchy */
	bool v2;
};

struct oci_cgroup {
	enum oci_cgroup_mode mode;
	char *relpath;          /* "/vessel/<id>" */
	size_t n;
	struct cg_hier h[CG_MAX_HIER];
};

static const char *const cg_v1_controllers[] = {
	"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
	"blkio", "perf_event", "hugetlb", "pids", "rdma", "misc",
};

static const char *cg_mode_name(enum oci_cgroup_mode m)
{
	return m == OCI_CGROUP_V2 ? "v2" : m == OCI_CGROUP_HYBRID ? "hybrid" : "v1";
}

/* ---- small file helpers ------------------------------------------------ */

/* Writes val to dir/file. Returns 0 or -errno (no error object). */
static int cg_write_raw(const char *dir, const char *file, const char *val)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	return w < 0 ? -e : 0;
}

/* Writes val to dir/file; the error names the file and the value. */
static int cg_write(const char *dir, const char *file, const char *val, struct verr **err)
{
	int rc = cg_write_raw(dir, file, val);
	if (rc < 0)
		return verr_set(err, -rc, "write '%s' to %s/%s", val, dir, file);
	return 0;
}

static bool cg_exists(const char *dir, const char *file)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

/* Reads dir/file into buf (NUL-terminated, trailing newline removed).
 * Returns the length or -errno. */
static int cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	while (len + 1 < size) {
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return (int)len;
}

static void cg_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- layout ------------------------------------------------------------ */

int oci_cgroup_detect(enum oci_cgroup_mode *mode, struct verr **err)
{
	struct statfs st;
	if (statfs(CG_ROOT, &st) < 0)
		return verr_set(err, errno, "statfs %s", CG_ROOT);
	if (st.f_type == CGROUP2_SUPER_MAGIC) {
		*mode = OCI_CGROUP_V2;
		return 0;
	}
	if (st.f_type != TMPFS_MAGIC)
		return verr_set(err, 0, "%s is neither cgroup2 nor a tmpfs of v1 hierarchies", CG_ROOT);
	if (statfs(CG_ROOT "/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
		*mode = OCI_CGROUP_HYBRID;
	else
		*mode = OCI_CGROUP_V1;
	return 0;
}

static bool cg_is_v1_controller(const char *opt)
{
	if (!strncmp(opt, "name=", 5))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(cg_v1_controllers); i++)
		if (!strcmp(opt, cg_v1_controllers[i]))
			return true;
	return false;
}

/* Fills cg->h[] with the mount points of every cgroup hierarchy under
 * /sys/fs/cgroup (path = mount point; the caller appends relpath). */
static int cg_find_mounts(struct oci_cgroup *cg, struct verr **err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return verr_set(err, errno, "open /proc/self/mountinfo");
	char *line = NULL;
	size_t cap = 0;
	char seen[CG_MAX_HIER][32];
	size_t nseen = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *save = NULL, *fields[6] = { 0 };
		char *tok = strtok_r(line, " \n", &save);
		for (int i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " \n", &save))
			fields[i] = tok;
		while (tok && strcmp(tok, "-"))
			tok = strtok_r(NULL, " \n", &save);
		char *fstype = tok ? strtok_r(NULL, " \n", &save) : NULL;
		char *source = fstype ? strtok_r(NULL, " \n", &save) : NULL;
		char *super = source ? strtok_r(NULL, " \n", &save) : NULL;
		if (!super || !fields[4])
			continue;
		bool v2 = !strcmp(fstype, "cgroup2");
		if (!v2 && strcmp(fstype, "cgroup"))
			continue;
		if (strncmp(fields[4], CG_ROOT, strlen(CG_ROOT)))
			continue;
		/* the same hierarchy mounted twice counts once */
		bool dup = false;
		for (size_t i = 0; i < nseen; i++)
			dup |= !strcmp(seen[i], fields[2]);
		if (dup || cg->n >= CG_MAX_HIER || nseen >= CG_MAX_HIER)
			continue;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", fields[2]);
		char ctrls[256] = "";
		if (!v2) {
			char *s2 = NULL;
			for (char *o = strtok_r(super, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
				if (!cg_is_v1_controller(o))
					continue;
				size_t l = strlen(ctrls);
				snprintf(ctrls + l, sizeof(ctrls) - l, "%s%s", l ? "," : "", o);
			}
			if (!ctrls[0])
				continue;
		}
		struct cg_hier *h = &cg->h[cg->n++];
		h->ctrls = xstrdup(ctrls);
		h->path = xstrdup(fields[4]);
		h->v2 = v2;
	}
	free(line);
	fclose(f);
	if (cg->n == 0)
		return verr_set(err, 0, "no cgroup hierarchy mounted under %s", CG_ROOT);
	return 0;
}

static bool cg_hier_has(const struct cg_hier *h, const char *ctrl)
{
	size_t l = strlen(ctrl);
	for (const char *p = h->ctrls; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == l && !strncmp(p, ctrl, l))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* Directory where controller ctrl's files live, or NULL if not mounted. */
static const char *cg_dir(const struct oci_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->h[i].v2 && cg_hier_has(&cg->h[i], ctrl))
			return cg->h[i].path;
	if (cg->mode == OCI_CGROUP_V2)
		return oci_cgroup_unified_path(cg);
	return NULL;
}

static bool cg_word_in(const char *list, const char *w)
{
	size_t l = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += l)
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\0' || p[l] == '\n'))
			return true;
	return false;
}

/* Directory holding controller ctrl's files, and whether they have the v2
 * names: the v1 hierarchy that has it, else the unified directory when the
 * controller is available there (always on v2; on a hybrid host only what
 * v1 does not hold, hugetlb on this one). NULL if neither. */
static const char *cg_ctrl(const struct oci_cgroup *cg, const char *ctrl, bool *v2)
{
	*v2 = false;
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->h[i].v2 && cg_hier_has(&cg->h[i], ctrl))
			return cg->h[i].path;
	const char *u = oci_cgroup_unified_path(cg);
	if (!u)
		return NULL;
	char buf[1024];
	if (cg->mode == OCI_CGROUP_V2 ||
	    (cg_read(u, "cgroup.controllers", buf, sizeof(buf)) > 0 && cg_word_in(buf, ctrl))) {
		*v2 = true;
		return u;
	}
	return NULL;
}

/* The hierarchy used to list and signal processes. */
static const char *cg_main_dir(const struct oci_cgroup *cg)
{
	const char *d = NULL;
	if (cg->mode != OCI_CGROUP_V2) {
		if (!(d = cg_dir(cg, "freezer")) && !(d = cg_dir(cg, "pids")) && !(d = cg_dir(cg, "memory")))
			for (size_t i = 0; i < cg->n && !d; i++)
				if (!cg->h[i].v2)
					d = cg->h[i].path;
	}
	return d ? d : oci_cgroup_unified_path(cg);
}

/* ---- paths ------------------------------------------------------------- */

/* Normalises an untrusted cgroup path to "/a/b": relative paths are taken
 * from the hierarchy root, "." and empty components dropped, ".." refused. */
static char *cg_clean_path(const char *in, struct verr **err)
{
	size_t cap = strlen(in) + 2;
	char *out = xmalloc(cap);
	size_t n = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - p);
		if (l == 2 && !strncmp(p, "..", 2)) {
			free(out);
			verr_set(err, 0, "cgroupsPath '%s': '..' is not allowed", in);
			return NULL;
		}
		if (l > 0 && !(l == 1 && *p == '.')) {
			out[n++] = '/';
			memcpy(out + n, p, l);
			n += l;
		}
		p = e;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		verr_set(err, 0, "cgroupsPath '%s' names the root cgroup", in);
		return NULL;
	}
	return out;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static char *cg_expand_slice(const char *slice, struct verr **err)
{
	size_t l = strlen(slice);
	if (l < 6 || strcmp(slice + l - 6, ".slice") || strchr(slice, '/')) {
		verr_set(err, 0, "'%s' is not a systemd slice name", slice);
		return NULL;
	}
	if (!strcmp(slice, "-.slice"))
		return xstrdup("");
	size_t base = l - 6;
	if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--")) {
		verr_set(err, 0, "'%s' is not a valid systemd slice name", slice);
		return NULL;
	}
	char *out = xstrdup("");
	for (size_t i = 0; i <= base; i++) {
		if (i == base || slice[i] == '-') {
			char *t = xasprintf("%s/%.*s.slice", out, (int)i, slice);
			free(out);
			out = t;
		}
	}
	return out;
}

/* systemd form "slice:prefix:name" -> cgroupfs path. */
static char *cg_systemd_path(const char *spec, struct verr **err)
{
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || strchr(c2 + 1, ':')) {
		verr_set(err, 0, "systemd cgroupsPath '%s' is not of the form slice:prefix:name", spec);
		return NULL;
	}
	cleanup_free char *slice = xasprintf("%.*s", (int)(c1 - spec), spec);
	cleanup_free char *prefix = xasprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1);
	const char *name = c2 + 1;
	if (!*name || strchr(name, '/') || strchr(prefix, '/')) {
		verr_set(err, 0, "systemd cgroupsPath '%s': bad unit name", spec);
		return NULL;
	}
	size_t nl = strlen(name);
	if (nl > 6 && !strcmp(name + nl - 6, ".slice"))
		return cg_expand_slice(name, err);
	cleanup_free char *parent = cg_expand_slice(*slice ? slice : "system.slice", err);
	if (!parent)
		return NULL;
	if (*prefix)
		return xasprintf("%s/%s-%s.scope", parent, prefix, name);
	return xasprintf("%s/%s.scope", parent, name);
}

/* ---- object ------------------------------------------------------------ */

void oci_cgroup_free(struct oci_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].ctrls);
		free(cg->h[i].path);
	}
	free(cg->relpath);
	free(cg);
}

const char *oci_cgroup_unified_path(const struct oci_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2)
			return cg->h[i].path;
	return NULL;
}

const char *oci_cgroup_relpath(const struct oci_cgroup *cg)
{
	return cg->relpath;
}

json_t *oci_cgroup_to_json(const struct oci_cgroup *cg)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < cg->n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "controllers", cg->h[i].ctrls,
						     "path", cg->h[i].path, "v2", cg->h[i].v2));
	return json_pack("{s:s, s:s, s:o}", "mode", cg_mode_name(cg->mode), "relpath", cg->relpath,
			 "hierarchies", arr);
}

int oci_cgroup_from_json(json_t *j, struct oci_cgroup **out, struct verr **err)
{
	const char *mode, *rel;
	json_t *arr;
	if (json_unpack(j, "{s:s, s:s, s:o}", "mode", &mode, "relpath", &rel, "hierarchies", &arr) < 0 ||
	    !json_is_array(arr) || json_array_size(arr) > CG_MAX_HIER)
		return verr_set(err, 0, "cgroup state: malformed");
	struct oci_cgroup *cg = xcalloc(1, sizeof(*cg));
	cg->mode = !strcmp(mode, "v2") ? OCI_CGROUP_V2 : !strcmp(mode, "hybrid") ? OCI_CGROUP_HYBRID : OCI_CGROUP_V1;
	cg->relpath = cg_clean_path(rel, err);
	if (!cg->relpath)
		goto bad;
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *ctrls, *path;
		int v2 = 0;
		size_t pl, rl = strlen(cg->relpath);
		/* a path is a hierarchy's mount point + relpath, never a root */
		if (json_unpack(e, "{s:s, s:s, s?b}", "controllers", &ctrls, "path", &path, "v2", &v2) < 0 ||
		    strncmp(path, CG_ROOT "/", strlen(CG_ROOT) + 1) || strstr(path, "/..") ||
		    (pl = strlen(path)) < rl + strlen(CG_ROOT) || strcmp(path + pl - rl, cg->relpath)) {
			verr_set(err, 0, "cgroup state: bad hierarchy %zu", i);
			goto bad;
		}
		cg->h[cg->n].ctrls = xstrdup(ctrls);
		cg->h[cg->n].path = xstrdup(path);
		cg->h[cg->n].v2 = v2;
		cg->n++;
	}
	*out = cg;
	return 0;
bad:
	oci_cgroup_free(cg);
	return -1;
}

/* ---- creation ---------------------------------------------------------- */

/* cpuset.cpus/mems start empty in a new v1 cpuset cgroup, and a task cannot
 * join it then: inherit the parent's. */
static int cg_cpuset_inherit(const char *dir, struct verr **err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	cleanup_free char *parent = xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char cur[4096], par[4096];
		if (cg_read(dir, files[i], cur, sizeof(cur)) != 0)
			continue; /* non-empty or absent */
		if (cg_read(parent, files[i], par, sizeof(par)) <= 0)
			continue;
		if (cg_write(dir, files[i], par, err) < 0)
			return -1;
	}
	return 0;
}

/* v2: enables in dir's subtree_control every controller dir has. Failures
 * (a controller the parent lacks, processes in an inner node) are logged. */
static void cg_v2_enable(const char *dir)
{
	char ctrls[1024];
	if (cg_read(dir, "cgroup.controllers", ctrls, sizeof(ctrls)) <= 0)
		return;
	char *save = NULL;
	for (char *c = strtok_r(ctrls, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
		cleanup_free char *v = xasprintf("+%s", c);
		int rc = cg_write_raw(dir, "cgroup.subtree_control", v);
		if (rc < 0)
			log_debug("cgroup: enabling %s in %s: %s", c, dir, strerror(-rc));
	}
}

/* mkdir -p root+rel, fixing up cpuset / v2 controllers on every level. */
static int cg_mkdir(const char *root, const char *rel, bool cpuset, bool v2_enable, struct verr **err)
{
	cleanup_free char *p = xasprintf("%s%s", root, rel);
	for (char *s = p + strlen(root) + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (v2_enable) {
			cleanup_free char *parent = xstrdup(p);
			*strrchr(parent, '/') = '\0';
			cg_v2_enable(parent);
		}
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return verr_set(err, errno, "mkdir %s", p);
		if (cpuset && cg_cpuset_inherit(p, err) < 0)
			return -1;
		*s = c;
		if (!c)
			break;
	}
	return 0;
}

static int cg_apply(struct oci_cgroup *cg, json_t *res, struct verr **err);

int oci_cgroup_create(const char *id, const char *cgroups_path, bool systemd_cgroup,
		      json_t *resources, pid_t pid, struct oci_cgroup **out, struct verr **err)
{
	cleanup_free char *raw = NULL;
	if (systemd_cgroup) {
		cleanup_free char *def = xasprintf("system.slice:vessel:%s", id);
		raw = cg_systemd_path(cgroups_path ? cgroups_path : def, err);
	} else {
		raw = cgroups_path ? xstrdup(cgroups_path) : xasprintf("/vessel/%s", id);
	}
	if (!raw)
		return -1;
	struct oci_cgroup *cg = xcalloc(1, sizeof(*cg));
	if (oci_cgroup_detect(&cg->mode, err) < 0 || !(cg->relpath = cg_clean_path(raw, err)) ||
	    cg_find_mounts(cg, err) < 0) {
		oci_cgroup_free(cg);
		return -1;
	}
	size_t joined = 0; /* h[0..joined) hold the container's path */
	for (size_t i = 0; i < cg->n; i++) {
		struct cg_hier *h = &cg->h[i];
		if (cg_mkdir(h->path, cg->relpath, cg_hier_has(h, "cpuset"), h->v2, err) < 0)
			goto fail;
		joined = i + 1;
		char *full = xasprintf("%s%s", h->path, cg->relpath);
		free(h->path);
		h->path = full;
	}
	if (resources && cg_apply(cg, resources, err) < 0)
		goto fail;
	if (pid > 0 && oci_cgroup_enter(cg, pid, err) < 0)
		goto fail;
	*out = cg;
	return 0;
fail:
	verr_wrap(err, "cgroup %s", cg->relpath);
	if (joined > 0) {
		struct verr *e2 = NULL;
		/* never walk a hierarchy's root: only the joined paths go */
		for (size_t i = joined; i < cg->n; i++)
			cg->h[i].path[0] = '\0';
		oci_cgroup_destroy(cg, &e2);
		verr_free(e2);
	}
	oci_cgroup_free(cg);
	return -1;
}

int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, struct verr **err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++) {
		int rc = cg_write_raw(cg->h[i].path, "cgroup.procs", v);
		if (rc == 0)
			continue;
		/* On a hybrid host the unified tree only tracks processes. */
		if (cg->h[i].v2 && cg->mode == OCI_CGROUP_HYBRID) {
			log_debug("cgroup: joining %s: %s", cg->h[i].path, strerror(-rc));
			continue;
		}
		return verr_set(err, -rc, "move pid %d into %s", (int)pid, cg->h[i].path);
	}
	return 0;
}

/* ---- resources --------------------------------------------------------- */

/* Reads an optional integer member; *present is false when absent or null. */
static int cg_int(json_t *o, const char *key, bool *present, int64_t *v, struct verr **err)
{
	json_t *x = json_object_get(o, key);
	*present = false;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_integer(x))
		return verr_set(err, 0, "%s: expected an integer", key);
	*present = true;
	*v = json_integer_value(x);
	return 0;
}

static char *cg_fmt(int64_t v)
{
	return xasprintf("%" PRId64, v);
}

static int cg_write_int(const char *dir, const char *file, int64_t v, struct verr **err)
{
	cleanup_free char *s = cg_fmt(v);
	return cg_write(dir, file, s, err);
}

/* Limit value: -1 (or any negative) is "unlimited" on both versions. */
static char *cg_limit(int64_t v, bool v2)
{
	if (v < 0)
		return xstrdup(v2 ? "max" : "-1");
	return cg_fmt(v);
}

static int cg_need(const char *dir, const char *ctrl, struct verr **err)
{
	if (!dir)
		return verr_set(err, ENOTSUP, "the %s controller is not available on this host", ctrl);
	return 0;
}

static int cg_memory(struct oci_cgroup *cg, json_t *m, struct verr **err)
{
	int64_t limit = 0, resv = 0, swap = 0, kernel = 0, ktcp = 0, swappiness = 0;
	bool has_limit, has_resv, has_swap, has_kernel, has_ktcp, has_swappiness;
	if (cg_int(m, "limit", &has_limit, &limit, err) < 0 || cg_int(m, "reservation", &has_resv, &resv, err) < 0 ||
	    cg_int(m, "swap", &has_swap, &swap, err) < 0 || cg_int(m, "kernel", &has_kernel, &kernel, err) < 0 ||
	    cg_int(m, "kernelTCP", &has_ktcp, &ktcp, err) < 0 ||
	    cg_int(m, "swappiness", &has_swappiness, &swappiness, err) < 0)
		return -1;
	json_t *oom = json_object_get(m, "disableOOMKiller");
	if (oom && !json_is_null(oom) && !json_is_boolean(oom))
		return verr_set(err, 0, "disableOOMKiller: expected a boolean");
	if (!has_limit && !has_resv && !has_swap && !has_kernel && !has_ktcp && !has_swappiness && !json_is_true(oom))
		return 0;
	bool v2;
	const char *dir = cg_ctrl(cg, "memory", &v2);
	if (cg_need(dir, "memory", err) < 0)
		return -1;
	if (v2) {
		if (has_limit) {
			cleanup_free char *s = cg_limit(limit, true);
			if (cg_write(dir, "memory.max", s, err) < 0)
				return -1;
		}
		if (has_resv) {
			cleanup_free char *s = cg_limit(resv, true);
			if (cg_write(dir, "memory.low", s, err) < 0)
				return -1;
		}
		/* OCI swap is memory+swap; v2's memory.swap.max is swap alone. */
		if (has_swap && swap != 0) {
			cleanup_free char *s = NULL;
			if (swap < 0)
				s = xstrdup("max");
			else if (!has_limit || limit <= 0)
				return verr_set(err, 0, "memory.swap %" PRId64 " needs a memory.limit on cgroup v2", swap);
			else if (swap < limit)
				return verr_set(err, 0, "memory.swap %" PRId64 " is below memory.limit %" PRId64, swap, limit);
			else
				s = cg_fmt(swap - limit);
			if (cg_write(dir, "memory.swap.max", s, err) < 0)
				return -1;
		}
		if (has_kernel || has_ktcp || has_swappiness || json_is_true(oom))
			log_debug("cgroup v2: memory kernel/kernelTCP/swappiness/disableOOMKiller do not exist, ignored");
		return 0;
	}
	bool memsw = cg_exists(dir, "memory.memsw.limit_in_bytes");
	if (has_swap && !memsw)
		log_debug("cgroup: swap accounting is off on this host, memory.swap ignored");
	cleanup_free char *ls = has_limit ? cg_limit(limit, false) : NULL;
	cleanup_free char *ss = has_swap && memsw ? cg_limit(swap, false) : NULL;
	/* memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every step:
	 * raise memsw first, or lower the limit first. */
	if (ls && ss) {
		if (cg_write_raw(dir, "memory.memsw.limit_in_bytes", ss) == 0) {
			if (cg_write(dir, "memory.limit_in_bytes", ls, err) < 0)
				return -1;
		} else if (cg_write(dir, "memory.limit_in_bytes", ls, err) < 0 ||
			   cg_write(dir, "memory.memsw.limit_in_bytes", ss, err) < 0) {
			return -1;
		}
	} else if (ls) {
		if (cg_write(dir, "memory.limit_in_bytes", ls, err) < 0)
			return -1;
	} else if (ss) {
		if (cg_write(dir, "memory.memsw.limit_in_bytes", ss, err) < 0)
			return -1;
	}
	if (has_resv) {
		cleanup_free char *s = cg_limit(resv, false);
		if (cg_write(dir, "memory.soft_limit_in_bytes", s, err) < 0)
			return -1;
	}
	/* kmem limits are deprecated (EOPNOTSUPP since Linux 5.16 on some
	 * configurations): like runc, a failure is only logged. */
	if (has_kernel) {
		cleanup_free char *s = cg_limit(kernel, false);
		int rc = cg_write_raw(dir, "memory.kmem.limit_in_bytes", s);
		if (rc < 0)
			log_warn("cgroup: memory.kmem.limit_in_bytes=%s ignored: %s", s, strerror(-rc));
	}
	if (has_ktcp) {
		cleanup_free char *s = cg_limit(ktcp, false);
		if (cg_write(dir, "memory.kmem.tcp.limit_in_bytes", s, err) < 0)
			return -1;
	}
	if (has_swappiness) {
		if (swappiness < 0 || swappiness > 100)
			return verr_set(err, 0, "memory.swappiness %" PRId64 " is outside 0..100", swappiness);
		if (cg_write_int(dir, "memory.swappiness", swappiness, err) < 0)
			return -1;
	}
	if (oom && json_is_boolean(oom))
		if (cg_write(dir, "memory.oom_control", json_is_true(oom) ? "1" : "0", err) < 0)
			return -1;
	return 0;
}

static int cg_str(json_t *o, const char *key, const char **out, struct verr **err)
{
	json_t *x = json_object_get(o, key);
	*out = NULL;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_string(x))
		return verr_set(err, 0, "%s: expected a string", key);
	*out = json_string_value(x);
	return 0;
}

static int cg_cpu(struct oci_cgroup *cg, json_t *c, struct verr **err)
{
	int64_t shares = 0, quota = 0, period = 0, rt_rt = 0, rt_period = 0, idle = 0;
	bool has_shares, has_quota, has_period, has_rt_rt, has_rt_period, has_idle;
	const char *cpus, *mems;
	if (cg_int(c, "shares", &has_shares, &shares, err) < 0 || cg_int(c, "quota", &has_quota, &quota, err) < 0 ||
	    cg_int(c, "period", &has_period, &period, err) < 0 ||
	    cg_int(c, "realtimeRuntime", &has_rt_rt, &rt_rt, err) < 0 ||
	    cg_int(c, "realtimePeriod", &has_rt_period, &rt_period, err) < 0 ||
	    cg_int(c, "idle", &has_idle, &idle, err) < 0 || cg_str(c, "cpus", &cpus, err) < 0 ||
	    cg_str(c, "mems", &mems, err) < 0)
		return -1;
	bool v2;
	if (has_shares || has_quota || has_period || has_rt_rt || has_rt_period || has_idle) {
		const char *dir = cg_ctrl(cg, "cpu", &v2);
		if (cg_need(dir, "cpu", err) < 0)
			return -1;
		if (has_shares && shares != 0) {
			if (v2) {
				/* cpu.shares [2, 262144] -> cpu.weight [1, 10000], as runc and crun */
				if (shares < 2 || shares > 262144)
					return verr_set(err, 0, "cpu.shares %" PRId64 " is outside 2..262144", shares);
				if (cg_write_int(dir, "cpu.weight", 1 + ((shares - 2) * 9999) / 262142, err) < 0)
					return -1;
			} else if (cg_write_int(dir, "cpu.shares", shares, err) < 0) {
				return -1;
			}
		}
		if (v2 && ((has_quota && quota != 0) || (has_period && period != 0))) {
			/* cpu.max is "$MAX [$PERIOD]"; a missing period keeps the current one */
			char cur[64] = "max";
			if (!has_quota || quota == 0) {
				if (cg_read(dir, "cpu.max", cur, sizeof(cur)) > 0)
					cur[strcspn(cur, " ")] = '\0';
			} else if (quota > 0) {
				snprintf(cur, sizeof(cur), "%" PRId64, quota);
			}
			cleanup_free char *s = has_period && period > 0 ? xasprintf("%s %" PRId64, cur, period) : xstrdup(cur);
			if (cg_write(dir, "cpu.max", s, err) < 0)
				return -1;
		} else if (!v2) {
			if (has_period && period != 0 && cg_write_int(dir, "cpu.cfs_period_us", period, err) < 0)
				return -1;
			if (has_quota && quota != 0 && cg_write_int(dir, "cpu.cfs_quota_us", quota < 0 ? -1 : quota, err) < 0)
				return -1;
		}
		if (has_rt_period || has_rt_rt) {
			if (v2) {
				log_debug("cgroup v2: realtime cpu settings do not exist, ignored");
			} else {
				if (has_rt_period && rt_period != 0 && cg_write_int(dir, "cpu.rt_period_us", rt_period, err) < 0)
					return -1;
				if (has_rt_rt && rt_rt != 0 && cg_write_int(dir, "cpu.rt_runtime_us", rt_rt, err) < 0)
					return -1;
			}
		}
		if (has_idle && cg_write_int(dir, "cpu.idle", idle, err) < 0)
			return -1;
	}
	if ((cpus && *cpus) || (mems && *mems)) {
		const char *dir = cg_ctrl(cg, "cpuset", &v2);
		if (cg_need(dir, "cpuset", err) < 0)
			return -1;
		if (cpus && *cpus && cg_write(dir, "cpuset.cpus", cpus, err) < 0)
			return -1;
		if (mems && *mems && cg_write(dir, "cpuset.mems", mems, err) < 0)
			return -1;
	}
	return 0;
}

static int cg_pids(struct oci_cgroup *cg, json_t *p, struct verr **err)
{
	int64_t limit = 0;
	bool has;
	if (cg_int(p, "limit", &has, &limit, err) < 0)
		return -1;
	if (!has)
		return 0;
	bool v2;
	const char *dir = cg_ctrl(cg, "pids", &v2);
	if (cg_need(dir, "pids", err) < 0)
		return -1;
	cleanup_free char *s = limit <= 0 ? xstrdup("max") : cg_fmt(limit);
	return cg_write(dir, "pids.max", s, err);
}

/* Writes to a blkio/io file if the host has it, otherwise logs and skips. */
static int cg_write_opt(const char *dir, const char *file, const char *val, struct verr **err)
{
	if (!cg_exists(dir, file)) {
		log_debug("cgroup: %s/%s does not exist on this host, '%s' skipped", dir, file, val);
		return 0;
	}
	return cg_write(dir, file, val, err);
}

/* blkio weight [10, 1000] -> io.weight [1, 10000] */
static int64_t cg_io_weight(int64_t w)
{
	return 1 + (w - 10) * 9999 / 990;
}

static int cg_dev_list(json_t *list, const char *what, const char *dir, bool v2, struct verr **err)
{
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return verr_set(err, 0, "blockIO.%s: expected an array", what);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		int64_t major, minor, rate;
		if (json_unpack(e, "{s:I, s:I, s:I}", "major", &major, "minor", &minor, "rate", &rate) < 0 ||
		    major < 0 || minor < 0 || rate < 0)
			return verr_set(err, 0, "blockIO.%s[%zu]: expected major, minor and rate", what, i);
		static const struct { const char *spec, *v1, *v2; } map[] = {
			{ "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps" },
			{ "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps" },
			{ "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops" },
			{ "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops" },
		};
		for (size_t k = 0; k < ARRAY_SIZE(map); k++) {
			if (strcmp(map[k].spec, what))
				continue;
			cleanup_free char *v = v2 ? xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRId64, major, minor, map[k].v2, rate)
						  : xasprintf("%" PRId64 ":%" PRId64 " %" PRId64, major, minor, rate);
			if (cg_write_opt(dir, v2 ? "io.max" : map[k].v1, v, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int cg_blkio(struct oci_cgroup *cg, json_t *b, struct verr **err)
{
	bool v2;
	const char *dir = cg_ctrl(cg, "blkio", &v2);
	if (!dir)
		dir = cg_ctrl(cg, "io", &v2);
	if (!dir) {
		log_debug("cgroup: no blkio controller, blockIO ignored");
		return 0;
	}
	int64_t weight = 0, leaf = 0;
	bool has_weight, has_leaf;
	if (cg_int(b, "weight", &has_weight, &weight, err) < 0 || cg_int(b, "leafWeight", &has_leaf, &leaf, err) < 0)
		return -1;
	if (has_weight && weight != 0) {
		if (weight < 10 || weight > 1000)
			return verr_set(err, 0, "blockIO.weight %" PRId64 " is outside 10..1000", weight);
		cleanup_free char *v1s = cg_fmt(weight);
		cleanup_free char *v2s = xasprintf("default %" PRId64, cg_io_weight(weight));
		if (!v2 && cg_exists(dir, "blkio.weight")) {
			if (cg_write(dir, "blkio.weight", v1s, err) < 0)
				return -1;
		} else if (cg_exists(dir, v2 ? "io.bfq.weight" : "blkio.bfq.weight")) {
			if (cg_write(dir, v2 ? "io.bfq.weight" : "blkio.bfq.weight", v1s, err) < 0)
				return -1;
		} else if (cg_write_opt(dir, v2 ? "io.weight" : "blkio.weight", v2 ? v2s : v1s, err) < 0) {
			return -1;
		}
	}
	if (has_leaf && leaf != 0 && !v2) {
		cleanup_free char *s = cg_fmt(leaf);
		if (cg_write_opt(dir, "blkio.leaf_weight", s, err) < 0)
			return -1;
	}
	json_t *wd = json_object_get(b, "weightDevice");
	if (wd && !json_is_null(wd)) {
		if (!json_is_array(wd))
			return verr_set(err, 0, "blockIO.weightDevice: expected an array");
		size_t i;
		json_t *e;
		json_array_foreach(wd, i, e) {
			int64_t major = -1, minor = -1, w = 0, lw = 0;
			if (json_unpack(e, "{s:I, s:I, s?I, s?I}", "major", &major, "minor", &minor, "weight", &w,
					"leafWeight", &lw) < 0)
				return verr_set(err, 0, "blockIO.weightDevice[%zu]: expected major and minor", i);
			if (w) {
				cleanup_free char *v = xasprintf("%" PRId64 ":%" PRId64 " %" PRId64, major, minor,
								 v2 ? cg_io_weight(w) : w);
				if (cg_write_opt(dir, v2 ? "io.weight" : "blkio.weight_device", v, err) < 0)
					return -1;
			}
			if (lw && !v2) {
				cleanup_free char *v = xasprintf("%" PRId64 ":%" PRId64 " %" PRId64, major, minor, lw);
				if (cg_write_opt(dir, "blkio.leaf_weight_device", v, err) < 0)
					return -1;
			}
		}
	}
	static const char *const lists[] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
					     "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
	for (size_t k = 0; k < ARRAY_SIZE(lists); k++)
		if (cg_dev_list(json_object_get(b, lists[k]), lists[k], dir, v2, err) < 0)
			return -1;
	return 0;
}

static int cg_hugetlb(struct oci_cgroup *cg, json_t *list, struct verr **err)
{
	if (!json_is_array(list))
		return verr_set(err, 0, "hugepageLimits: expected an array");
	if (json_array_size(list) == 0)
		return 0;
	bool v2;
	const char *dir = cg_ctrl(cg, "hugetlb", &v2);
	if (cg_need(dir, "hugetlb", err) < 0)
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		const char *size;
		int64_t limit;
		if (json_unpack(e, "{s:s, s:I}", "pageSize", &size, "limit", &limit) < 0)
			return verr_set(err, 0, "hugepageLimits[%zu]: expected pageSize and limit", i);
		for (const char *p = size; *p; p++)
			if (!isalnum((unsigned char)*p))
				return verr_set(err, 0, "hugepageLimits[%zu]: bad pageSize '%s'", i, size);
		cleanup_free char *file = xasprintf("hugetlb.%s.%s", size, v2 ? "max" : "limit_in_bytes");
		cleanup_free char *v = cg_limit(limit, v2);
		if (cg_write(dir, file, v, err) < 0)
			return -1;
	}
	return 0;
}

static int cg_network(struct oci_cgroup *cg, json_t *n, struct verr **err)
{
	int64_t classid = 0;
	bool has_classid;
	if (cg_int(n, "classID", &has_classid, &classid, err) < 0)
		return -1;
	json_t *prios = json_object_get(n, "priorities");
	if (cg->mode == OCI_CGROUP_V2) {
		if (has_classid || json_array_size(prios))
			log_debug("cgroup v2: net_cls/net_prio do not exist, network ignored");
		return 0;
	}
	if (has_classid) {
		const char *dir = cg_dir(cg, "net_cls");
		if (cg_need(dir, "net_cls", err) < 0 || cg_write_int(dir, "net_cls.classid", classid, err) < 0)
			return -1;
	}
	if (prios && !json_is_null(prios)) {
		if (!json_is_array(prios))
			return verr_set(err, 0, "network.priorities: expected an array");
		size_t i;
		json_t *e;
		json_array_foreach(prios, i, e) {
			const char *name;
			int64_t prio;
			if (json_unpack(e, "{s:s, s:I}", "name", &name, "priority", &prio) < 0 || strpbrk(name, " \n/"))
				return verr_set(err, 0, "network.priorities[%zu]: expected name and priority", i);
			const char *dir = cg_dir(cg, "net_prio");
			if (cg_need(dir, "net_prio", err) < 0)
				return -1;
			cleanup_free char *v = xasprintf("%s %" PRId64, name, prio);
			if (cg_write(dir, "net_prio.ifpriomap", v, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int cg_rdma(struct oci_cgroup *cg, json_t *r, struct verr **err)
{
	if (!json_is_object(r))
		return verr_set(err, 0, "rdma: expected an object");
	if (json_object_size(r) == 0)
		return 0;
	bool v2;
	const char *dir = cg_ctrl(cg, "rdma", &v2);
	if (cg_need(dir, "rdma", err) < 0)
		return -1;
	const char *dev;
	json_t *v;
	json_object_foreach(r, dev, v) {
		int64_t handles = 0, objects = 0;
		bool has_h, has_o;
		if (strpbrk(dev, " \n/") || cg_int(v, "hcaHandles", &has_h, &handles, err) < 0 ||
		    cg_int(v, "hcaObjects", &has_o, &objects, err) < 0)
			return verr_set(err, 0, "rdma '%s': malformed", dev);
		if (!has_h && !has_o)
			continue;
		char hs[40] = "", os[40] = "";
		if (has_h)
			snprintf(hs, sizeof(hs), " hca_handle=%" PRId64, handles);
		if (has_o)
			snprintf(os, sizeof(os), " hca_object=%" PRId64, objects);
		cleanup_free char *line = xasprintf("%s%s%s", dev, hs, os);
		if (cg_write(dir, "rdma.max", line, err) < 0)
			return -1;
	}
	return 0;
}

/* One devices cgroup (v1) rule: "type major:minor access". */
static int cg_device_rule(const char *dir, bool allow, char type, int64_t major, int64_t minor,
			  const char *access, struct verr **err)
{
	char maj[24] = "*", min[24] = "*";
	if (major >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, major);
	if (minor >= 0)
		snprintf(min, sizeof(min), "%" PRId64, minor);
	cleanup_free char *rule = type == 'a' ? xstrdup("a") : xasprintf("%c %s:%s %s", type, maj, min, access);
	return cg_write(dir, allow ? "devices.allow" : "devices.deny", rule, err);
}

/* The devices every container may use, appended after the spec's rules as
 * runc does (its specconv AllowedDevices): mknod of anything, /dev/null,
 * zero, full, random, urandom, tty, console, ptmx and the pty slaves. */
static const struct {
	char type;
	int major, minor;
	const char *access;
} cg_default_devices[] = {
	{ 'c', -1, -1, "m" }, { 'b', -1, -1, "m" },
	{ 'c', 1, 3, "rwm" },  { 'c', 1, 5, "rwm" },  { 'c', 1, 7, "rwm" },
	{ 'c', 1, 8, "rwm" },  { 'c', 1, 9, "rwm" },  { 'c', 5, 0, "rwm" },
	{ 'c', 5, 1, "rwm" },  { 'c', 5, 2, "rwm" },  { 'c', 136, -1, "rwm" },
};

struct cg_dev_rule {
	bool allow;
	char type;        /* 'a', 'b' or 'c' */
	int64_t major, minor; /* -1 = any */
	unsigned access;  /* BPF_DEVCG_ACC_* bits */
	char access_str[4];
};

/* Parses linux.resources.devices[] and appends the default devices. Caller
 * frees *out. */
static int cg_dev_rules(json_t *list, struct cg_dev_rule **out, size_t *n, struct verr **err)
{
	if (!json_is_array(list))
		return verr_set(err, 0, "devices: expected an array");
	size_t cnt = json_array_size(list), nd = ARRAY_SIZE(cg_default_devices);
	struct cg_dev_rule *r = xcalloc(cnt + nd, sizeof(*r));
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		int allow = 0;
		const char *type = "a", *access = "rwm";
		json_t *jmaj = NULL, *jmin = NULL;
		r[i].major = r[i].minor = -1;
		if (json_unpack(e, "{s:b, s?s, s?o, s?o, s?s}", "allow", &allow, "type", &type, "major", &jmaj,
				"minor", &jmin, "access", &access) < 0) {
			verr_set(err, 0, "devices[%zu]: malformed", i);
			goto bad;
		}
		if (jmaj && !json_is_null(jmaj)) {
			if (!json_is_integer(jmaj) || json_integer_value(jmaj) < 0 || json_integer_value(jmaj) > UINT32_MAX) {
				verr_set(err, 0, "devices[%zu].major: expected a non-negative integer", i);
				goto bad;
			}
			r[i].major = json_integer_value(jmaj);
		}
		if (jmin && !json_is_null(jmin)) {
			if (!json_is_integer(jmin) || json_integer_value(jmin) < 0 || json_integer_value(jmin) > UINT32_MAX) {
				verr_set(err, 0, "devices[%zu].minor: expected a non-negative integer", i);
				goto bad;
			}
			r[i].minor = json_integer_value(jmin);
		}
		if (strlen(type) != 1 || !strchr("abcu", type[0])) {
			verr_set(err, 0, "devices[%zu].type '%s': expected a, b, c or u", i, type);
			goto bad;
		}
		if (!*access || strlen(access) > 3 || strspn(access, "rwm") != strlen(access)) {
			verr_set(err, 0, "devices[%zu].access '%s': expected letters of rwm", i, access);
			goto bad;
		}
		r[i].allow = allow;
		r[i].type = type[0] == 'u' ? 'c' : type[0];
		snprintf(r[i].access_str, sizeof(r[i].access_str), "%s", access);
		r[i].access = (strchr(access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
			      (strchr(access, 'r') ? BPF_DEVCG_ACC_READ : 0) |
			      (strchr(access, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
	}
	for (size_t k = 0; k < nd; k++) {
		struct cg_dev_rule *d = &r[cnt + k];
		d->allow = true;
		d->type = cg_default_devices[k].type;
		d->major = cg_default_devices[k].major;
		d->minor = cg_default_devices[k].minor;
		snprintf(d->access_str, sizeof(d->access_str), "%s", cg_default_devices[k].access);
		d->access = (strchr(d->access_str, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
			    (strchr(d->access_str, 'r') ? BPF_DEVCG_ACC_READ : 0) |
			    (strchr(d->access_str, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
	}
	*out = r;
	*n = cnt + nd;
	return 0;
bad:
	free(r);
	return -1;
}

/* BPF_PROG_TYPE_CGROUP_DEVICE program (cgroup-v2.rst "Device controller";
 * context struct bpf_cgroup_dev_ctx in linux/bpf.h): r1 points to the
 * context, r0 = 1 allows, 0 denies. */

static struct bpf_insn cg_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return i;
}

#define CG_LDX_W(dst, src, off) cg_insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define CG_ALU_IMM(op, dst, imm) cg_insn(BPF_ALU64 | (op) | BPF_K, dst, 0, 0, imm)
#define CG_MOV_REG(dst, src) cg_insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define CG_JNE_IMM(dst, imm, off) cg_insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define CG_EXIT() cg_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define CG_BPF_MAX_INSNS 4096

/* Emits the program for rules[0..n) into insns; returns its length or -1. */
static int cg_bpf_build(const struct cg_dev_rule *rules, size_t n, struct bpf_insn *insns, size_t cap)
{
	size_t len = 0;
#define EMIT(x)                          \
	do {                             \
		if (len >= cap)          \
			return -1;       \
		insns[len++] = (x);      \
	} while (0)
	EMIT(CG_LDX_W(BPF_REG_2, BPF_REG_1, 0));       /* r2 = access_type */
	EMIT(CG_ALU_IMM(BPF_AND, BPF_REG_2, 0xffff));  /* r2 = device type */
	EMIT(CG_LDX_W(BPF_REG_3, BPF_REG_1, 0));
	EMIT(CG_ALU_IMM(BPF_RSH, BPF_REG_3, 16));      /* r3 = access */
	EMIT(CG_LDX_W(BPF_REG_4, BPF_REG_1, 4));       /* r4 = major */
	EMIT(CG_LDX_W(BPF_REG_5, BPF_REG_1, 8));       /* r5 = minor */
	/* last matching rule wins: test them from the end */
	for (size_t k = n; k-- > 0;) {
		const struct cg_dev_rule *r = &rules[k];
		struct bpf_insn blk[8];
		size_t b = 0;
		int jumps[4], nj = 0;
		if (r->type != 'a') {
			jumps[nj++] = (int)b;
			blk[b++] = CG_JNE_IMM(BPF_REG_2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
		}
		if (r->access != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
			/* the request must be within the rule's access bits */
			blk[b++] = CG_MOV_REG(BPF_REG_1, BPF_REG_3);
			blk[b++] = CG_ALU_IMM(BPF_AND, BPF_REG_1, (int32_t)(~r->access & 7u));
			jumps[nj++] = (int)b;
			blk[b++] = CG_JNE_IMM(BPF_REG_1, 0, 0);
		}
		if (r->major >= 0 && r->type != 'a') {
			jumps[nj++] = (int)b;
			blk[b++] = CG_JNE_IMM(BPF_REG_4, (int32_t)r->major, 0);
		}
		if (r->minor >= 0 && r->type != 'a') {
			jumps[nj++] = (int)b;
			blk[b++] = CG_JNE_IMM(BPF_REG_5, (int32_t)r->minor, 0);
		}
		blk[b++] = CG_ALU_IMM(BPF_MOV, BPF_REG_0, r->allow ? 1 : 0);
		blk[b++] = CG_EXIT();
		for (int j = 0; j < nj; j++)
			blk[jumps[j]].off = (int16_t)(b - (size_t)jumps[j] - 1);
		for (size_t j = 0; j < b; j++)
			EMIT(blk[j]);
		/* an unconditional rule ends the program: the verifier rejects
		 * unreachable instructions */
		if (nj == 0)
			return (int)len;
	}
	/* no rule matched: allowed, as in a v1 cgroup that inherited "a *:* rwm" */
	EMIT(CG_ALU_IMM(BPF_MOV, BPF_REG_0, 1));
	EMIT(CG_EXIT());
#undef EMIT
	return (int)len;
}

int oci_cgroup_devices_bpf(const char *dir, json_t *list, struct verr **err)
{
	struct cg_dev_rule *rules = NULL;
	size_t n = 0;
	if (cg_dev_rules(list, &rules, &n, err) < 0)
		return -1;
	cleanup_free struct bpf_insn *insns = xcalloc(CG_BPF_MAX_INSNS, sizeof(*insns));
	int len = cg_bpf_build(rules, n, insns, CG_BPF_MAX_INSNS);
	free(rules);
	if (len < 0)
		return verr_set(err, E2BIG, "devices: too many rules for one BPF program");
	static char license[] = "MIT";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)len;
	a.license = (uint64_t)(uintptr_t)license;
	cleanup_close int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (prog < 0 && errno == EINVAL) {
		/* load again with the verifier's log for the message */
		cleanup_free char *log = xcalloc(1, 4096);
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = 4096;
		a.log_level = 1;
		if (syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a)) < 0) {
			size_t l = strlen(log);
			while (l > 0 && log[l - 1] == '\n')
				log[--l] = '\0';
			/* the last line is statistics, the reason is before it */
			char *last = strrchr(log, '\n');
			if (last) {
				*last = '\0';
				char *prev = strrchr(log, '\n');
				last = prev ? prev + 1 : log;
			}
			return verr_set(err, EINVAL, "devices: BPF device program (%d instructions) rejected: %s", len,
					last ? last : log);
		}
	}
	if (prog < 0)
		return verr_set(err, errno, "devices: load BPF device program (%d instructions)", len);
	cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return verr_set(err, errno, "open %s", dir);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = 0; /* single program: attaching again replaces it */
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
		return verr_set(err, errno, "devices: attach BPF device program to %s", dir);
	return 0;
}

static int cg_devices(struct oci_cgroup *cg, json_t *list, struct verr **err)
{
	const char *dir = cg->mode == OCI_CGROUP_V2 ? NULL : cg_dir(cg, "devices");
	if (!dir) {
		/* v2, or a v1 host without the devices hierarchy: a BPF program
		 * on the unified directory when there is one */
		const char *u = oci_cgroup_unified_path(cg);
		if (u)
			return oci_cgroup_devices_bpf(u, list, err);
		log_debug("cgroup: no devices controller, device rules ignored");
		return 0;
	}
	struct cg_dev_rule *rules = NULL;
	size_t n = 0;
	if (cg_dev_rules(list, &rules, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = cg_device_rule(dir, rules[i].allow, rules[i].type, rules[i].major, rules[i].minor,
					 rules[i].access_str, err)) < 0)
			verr_wrap(err, "devices[%zu]", i);
	free(rules);
	return rc;
}

static int cg_unified(struct oci_cgroup *cg, json_t *u, struct verr **err)
{
	if (!json_is_object(u))
		return verr_set(err, 0, "unified: expected an object");
	if (json_object_size(u) == 0)
		return 0;
	const char *dir = oci_cgroup_unified_path(cg);
	if (!dir)
		return verr_set(err, ENOTSUP, "unified: this host has no cgroup v2 hierarchy");
	const char *key;
	json_t *v;
	json_object_foreach(u, key, v) {
		if (!json_is_string(v))
			return verr_set(err, 0, "unified.%s: expected a string", key);
		if (!*key || strchr(key, '/') || !strcmp(key, ".") || !strcmp(key, ".."))
			return verr_set(err, 0, "unified: bad file name '%s'", key);
		if (cg_write(dir, key, json_string_value(v), err) < 0)
			return -1;
	}
	return 0;
}

/* Applies linux.resources: only the members present change. */
static int cg_apply(struct oci_cgroup *cg, json_t *res, struct verr **err)
{
	if (json_is_null(res))
		return 0;
	if (!json_is_object(res))
		return verr_set(err, 0, "resources: expected an object");
	json_t *x;
	if ((x = json_object_get(res, "memory")) && !json_is_null(x) && cg_memory(cg, x, err) < 0)
		return verr_wrap(err, "memory");
	if ((x = json_object_get(res, "cpu")) && !json_is_null(x) && cg_cpu(cg, x, err) < 0)
		return verr_wrap(err, "cpu");
	if ((x = json_object_get(res, "pids")) && !json_is_null(x) && cg_pids(cg, x, err) < 0)
		return verr_wrap(err, "pids");
	if ((x = json_object_get(res, "blockIO")) && !json_is_null(x) && cg_blkio(cg, x, err) < 0)
		return verr_wrap(err, "blockIO");
	if ((x = json_object_get(res, "hugepageLimits")) && !json_is_null(x) && cg_hugetlb(cg, x, err) < 0)
		return -1;
	if ((x = json_object_get(res, "network")) && !json_is_null(x) && cg_network(cg, x, err) < 0)
		return verr_wrap(err, "network");
	if ((x = json_object_get(res, "rdma")) && !json_is_null(x) && cg_rdma(cg, x, err) < 0)
		return -1;
	if ((x = json_object_get(res, "devices")) && !json_is_null(x) && cg_devices(cg, x, err) < 0)
		return -1;
	if ((x = json_object_get(res, "unified")) && !json_is_null(x) && cg_unified(cg, x, err) < 0)
		return -1;
	return 0;
}

int oci_cgroup_update(struct oci_cgroup *cg, json_t *resources, struct verr **err)
{
	if (cg_apply(cg, resources, err) < 0)
		return verr_wrap(err, "update cgroup %s", cg->relpath);
	return 0;
}

/* ---- freezer ----------------------------------------------------------- */

#define CG_FREEZE_POLLS 2000 /* x 1 ms */

int oci_cgroup_freeze(struct oci_cgroup *cg, bool frozen, struct verr **err)
{
	const char *v1 = cg->mode == OCI_CGROUP_V2 ? NULL : cg_dir(cg, "freezer");
	const char *v2 = oci_cgroup_unified_path(cg);
	char buf[256];
	if (v1) {
		const char *want = frozen ? "FROZEN" : "THAWED";
		for (int i = 0; i < CG_FREEZE_POLLS; i++) {
			/* re-writing FROZEN restarts a freeze stuck behind a
			 * task in an uninterruptible sleep */
			if ((i % 50) == 0 && cg_write(v1, "freezer.state", want, err) < 0)
				return -1;
			if (cg_read(v1, "freezer.state", buf, sizeof(buf)) < 0)
				return verr_set(err, errno, "read %s/freezer.state", v1);
			if (!strcmp(buf, want))
				return 0;
			cg_sleep_ms(1);
		}
		if (frozen)
			(void)cg_write_raw(v1, "freezer.state", "THAWED");
		return verr_set(err, ETIMEDOUT, "%s: freezer.state did not reach %s", v1, want);
	}
	if (!v2 || !cg_exists(v2, "cgroup.freeze"))
		return verr_set(err, ENOTSUP, "cgroup %s: no freezer on this host", cg->relpath);
	if (cg_write(v2, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	const char *want = frozen ? "frozen 1" : "frozen 0";
	for (int i = 0; i < CG_FREEZE_POLLS; i++) {
		if (cg_read(v2, "cgroup.events", buf, sizeof(buf)) < 0)
			return verr_set(err, errno, "read %s/cgroup.events", v2);
		if (strstr(buf, want))
			return 0;
		cg_sleep_ms(1);
	}
	if (frozen)
		(void)cg_write_raw(v2, "cgroup.freeze", "0");
	return verr_set(err, ETIMEDOUT, "%s: cgroup did not become %s", v2, frozen ? "frozen" : "thawed");
}

int oci_cgroup_is_frozen(struct oci_cgroup *cg, bool *frozen, struct verr **err)
{
	const char *v1 = cg->mode == OCI_CGROUP_V2 ? NULL : cg_dir(cg, "freezer");
	const char *v2 = oci_cgroup_unified_path(cg);
	char buf[64];
	int rc;
	if (v1) {
		if ((rc = cg_read(v1, "freezer.state", buf, sizeof(buf))) < 0)
			return verr_set(err, -rc, "read %s/freezer.state", v1);
		*frozen = !strcmp(buf, "FROZEN");
		return 0;
	}
	if (!v2)
		return verr_set(err, ENOTSUP, "cgroup %s: no freezer on this host", cg->relpath);
	rc = cg_read(v2, "cgroup.freeze", buf, sizeof(buf));
	if (rc == -ENOENT) {
		*frozen = false;
		return 0;
	}
	if (rc < 0)
		return verr_set(err, -rc, "read %s/cgroup.freeze", v2);
	*frozen = !strcmp(buf, "1");
	return 0;
}

/* ---- processes --------------------------------------------------------- */

static int cg_collect(const char *dir, int depth, pid_t **pids, size_t *n, size_t *cap, struct verr **err)
{
	if (depth > CG_MAX_DEPTH)
		return verr_set(err, ELOOP, "%s: cgroup tree too deep", dir);
	cleanup_free char *p = xasprintf("%s/cgroup.procs", dir);
	FILE *f = fopen(p, "re");
	if (!f) {
		if (errno == ENOENT && depth > 0)
			return 0; /* removed meanwhile */
		return verr_set(err, errno, "open %s", p);
	}
	long v;
	while (fscanf(f, "%ld", &v) == 1) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*pids = xrealloc(*pids, *cap * sizeof(**pids));
		}
		(*pids)[(*n)++] = (pid_t)v;
	}
	fclose(f);
	DIR *d = opendir(dir);
	if (!d)
		return depth > 0 ? 0 : verr_set(err, errno, "opendir %s", dir);
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) && rc == 0) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		rc = cg_collect(sub, depth + 1, pids, n, cap, err);
	}
	closedir(d);
	return rc;
}

int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n, struct verr **err)
{
	const char *dir = cg_main_dir(cg);
	if (!dir)
		return verr_set(err, ENOENT, "cgroup %s: no hierarchy", cg->relpath);
	pid_t *list = NULL;
	size_t cnt = 0, cap = 0;
	if (cg_collect(dir, 0, &list, &cnt, &cap, err) < 0) {
		free(list);
		return -1;
	}
	*pids = list;
	*n = cnt;
	return 0;
}

/* Signals every listed process; ESRCH (exited meanwhile) is not an error. */
static int cg_signal_all(struct oci_cgroup *cg, int sig, size_t *count, struct verr **err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	if (oci_cgroup_pids(cg, &pids, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (pids[i] > 0 && kill(pids[i], sig) < 0 && errno != ESRCH)
			rc = verr_set(err, errno, "kill(%d, %d)", (int)pids[i], sig);
	free(pids);
	*count = n;
	return rc;
}

int oci_cgroup_kill(struct oci_cgroup *cg, int sig, struct verr **err)
{
	size_t n;
	const char *v2 = oci_cgroup_unified_path(cg);
	if (sig == SIGKILL && cg->mode == OCI_CGROUP_V2 && v2 && cg_exists(v2, "cgroup.kill"))
		return cg_write(v2, "cgroup.kill", "1", err);
	if (sig != SIGKILL)
		return cg_signal_all(cg, sig, &n, err);
	/* nothing to do for an empty cgroup (delete of a stopped container) */
	pid_t *pids = NULL;
	if (oci_cgroup_pids(cg, &pids, &n, err) < 0)
		return -1;
	free(pids);
	if (n == 0)
		return 0;
	/* SIGKILL: freeze so nothing forks behind our back, signal, thaw (the
	 * kill is delivered on thaw), then repeat until the cgroup is empty. */
	struct verr *ferr = NULL;
	bool froze = oci_cgroup_freeze(cg, true, &ferr) == 0;
	verr_free(ferr);
	int rc = cg_signal_all(cg, sig, &n, err);
	if (froze) {
		ferr = NULL;
		(void)oci_cgroup_freeze(cg, false, &ferr);
		verr_free(ferr);
	}
	for (int i = 0; rc == 0 && n > 0 && i < 100; i++) {
		cg_sleep_ms(5);
		rc = cg_signal_all(cg, sig, &n, err);
	}
	if (rc == 0 && n > 0)
		return verr_set(err, EBUSY, "cgroup %s: %zu processes left after SIGKILL", cg->relpath, n);
	return rc;
}

/* ---- removal ----------------------------------------------------------- */

static int cg_rmtree(const char *dir, int depth, struct verr **err)
{
	if (depth > CG_MAX_DEPTH)
		return verr_set(err, ELOOP, "%s: cgroup tree too deep", dir);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : verr_set(err, errno, "opendir %s", dir);
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) && rc == 0) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		rc = cg_rmtree(sub, depth + 1, err);
	}
	closedir(d);
	if (rc < 0)
		return rc;
	/* the last tasks may still be leaving: EBUSY for a short while */
	for (int i = 0; i < 50; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		cg_sleep_ms(10);
	}
	return verr_set(err, errno, "rmdir %s", dir);
}

int oci_cgroup_destroy(struct oci_cgroup *cg, struct verr **err)
{
	int rc = 0;
	for (size_t i = 0; i < cg->n; i++) {
		if (!cg->h[i].path[0])
			continue;
		if (cg_rmtree(cg->h[i].path, 0, rc < 0 ? NULL : err) < 0)
			rc = -1;
	}
	return rc;
}
