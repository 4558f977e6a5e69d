#include "oci/spec.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "base/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define SPEC_MAX_BYTES (16u << 20)

static const struct {
	const char *spec, *proc;
	int flag;
} ns_names[OCI_NS_COUNT] = {
    [OCI_NS_USER] = {"user", "user", CLONE_NEWUSER}, [OCI_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [OCI_NS_NET] = {"network", "net", CLONE_NEWNET}, [OCI_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [OCI_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},     [OCI_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [OCI_NS_TIME] = {"time", "time", CLONE_NEWTIME}, [OCI_NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
};

int oci_ns_kind_from_name(const char *name)
{
	for (int i = 0; i < OCI_NS_COUNT; i++)
		if (strcmp(name, ns_names[i].spec) == 0)
			return i;
	return -1;
}

const char *oci_ns_kind_name(enum oci_ns_kind k)
{
	return ns_names[k].spec;
}

int oci_ns_clone_flag(enum oci_ns_kind k)
{
	return ns_names[k].flag;
}

const char *oci_ns_proc_name(enum oci_ns_kind k)
{
	return ns_names[k].proc;
}

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int oci_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(name, rlimit_names[i].name) == 0)
			return rlimit_names[i].res;
	return -1;
}

/* capabilities(7), in kernel numbering. */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int oci_cap_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *oci_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int oci_cap_last(void)
{
	int n = (int)cap_max_bits() - 1;
	if (n < 0 || n >= (int)ARRAY_SIZE(cap_names))
		n = (int)ARRAY_SIZE(cap_names) - 1;
	return n;
}

void oci_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* ---- small typed accessors; each names the field in its error ---- */

static int get_string(json_t *obj, const char *key, bool required, char **out, const char *ctx,
		      struct verr **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return verr_set(err, 0, "%s.%s: missing", ctx, key);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return verr_set(err, 0, "%s.%s: expected a string", ctx, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return verr_set(err, 0, "%s.%s: contains a NUL byte", ctx, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_bool(json_t *obj, const char *key, bool *out, const char *ctx, struct verr **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return verr_set(err, 0, "%s.%s: expected a boolean", ctx, key);
	*out = json_is_true(v);
	return 0;
}

static int get_int_range(json_t *v, int64_t lo, int64_t hi, int64_t *out, const char *ctx, const char *key,
			 struct verr **err)
{
	if (!json_is_integer(v))
		return verr_set(err, 0, "%s.%s: expected an integer", ctx, key);
	json_int_t x = json_integer_value(v);
	if (x < lo || x > hi)
		return verr_set(err, 0, "%s.%s: %lld out of range", ctx, key, (long long)x);
	*out = x;
	return 0;
}

static int get_u32(json_t *obj, const char *key, bool required, uint32_t *out, const char *ctx,
		   struct verr **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return verr_set(err, 0, "%s.%s: missing", ctx, key);
		*out = 0;
		return 0;
	}
	int64_t x;
	if (get_int_range(v, 0, UINT32_MAX, &x, ctx, key, err) < 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* Array of strings -> NULL-terminated vector (NULL if absent). */
static int get_strv(json_t *obj, const char *key, char ***out, const char *ctx, struct verr **err)
{
	json_t *a = json_object_get(obj, key);
	*out = NULL;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return verr_set(err, 0, "%s.%s: expected an array of strings", ctx, key);
	size_t n = json_array_size(a);
	char **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(a, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
			oci_strv_free(v);
			return verr_set(err, 0, "%s.%s[%zu]: expected a string", ctx, key, i);
		}
		v[i] = xstrdup(json_string_value(s));
	}
	*out = v;
	return 0;
}

static int check_object(json_t *v, const char *ctx, struct verr **err)
{
	if (!json_is_object(v))
		return verr_set(err, 0, "%s: expected an object", ctx);
	return 0;
}

/* ---- process ---- */

static int parse_caps(json_t *caps, struct oci_process *p, struct verr **err)
{
	static const char *const keys[OCI_CAP_NSETS] = {"bounding", "effective", "inheritable", "permitted",
							"ambient"};
	if (check_object(caps, "process.capabilities", err) < 0)
		return -1;
	p->has_caps = true;
	for (int s = 0; s < OCI_CAP_NSETS; s++) {
		json_t *a = json_object_get(caps, keys[s]);
		if (!a || json_is_null(a))
			continue;
		if (!json_is_array(a))
			return verr_set(err, 0, "process.capabilities.%s: expected an array", keys[s]);
		size_t i;
		json_t *c;
		json_array_foreach(a, i, c)
		{
			if (!json_is_string(c))
				return verr_set(err, 0, "process.capabilities.%s[%zu]: expected a string",
						keys[s], i);
			int cap = oci_cap_from_name(json_string_value(c));
			/* Unknown names are skipped, as runc does: a newer
			 * engine may know capabilities this kernel lacks. */
			if (cap < 0 || cap > oci_cap_last())
				continue;
			p->caps[s] |= 1ull << cap;
		}
	}
	return 0;
}

static int parse_rlimits(json_t *a, struct oci_process *p, struct verr **err)
{
	if (!json_is_array(a))
		return verr_set(err, 0, "process.rlimits: expected an array");
	size_t n = json_array_size(a);
	p->rlimits = xcalloc(n ? n : 1, sizeof(*p->rlimits));
	size_t i;
	json_t *r;
	json_array_foreach(a, i, r)
	{
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "process.rlimits[%zu]", i);
		if (check_object(r, ctx, err) < 0)
			return -1;
		json_t *t = json_object_get(r, "type");
		if (!json_is_string(t))
			return verr_set(err, 0, "%s.type: expected a string", ctx);
		int res = oci_rlimit_from_name(json_string_value(t));
		if (res < 0)
			return verr_set(err, 0, "%s: unknown rlimit type '%s'", ctx, json_string_value(t));
		int64_t soft, hard;
		json_t *js = json_object_get(r, "soft"), *jh = json_object_get(r, "hard");
		if (get_int_range(js, 0, INT64_MAX, &soft, ctx, "soft", err) < 0 ||
		    get_int_range(jh, 0, INT64_MAX, &hard, ctx, "hard", err) < 0)
			return -1;
		for (size_t k = 0; k < p->n_rlimits; k++)
			if (p->rlimits[k].resource == res)
				return verr_set(err, 0, "%s: duplicate rlimit type '%s'", ctx,
						json_string_value(t));
		/* jansson integers are signed 64-bit; RLIM_INFINITY is written
		 * as 18446744073709551615 which jansson refuses, so engines
		 * write large values; clamp anything huge to infinity. */
		p->rlimits[p->n_rlimits++] = (struct oci_rlimit){res, (uint64_t)soft, (uint64_t)hard};
	}
	return 0;
}

void oci_process_clear(struct oci_process *p)
{
	free(p->additional_gids);
	oci_strv_free(p->args);
	oci_strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

int oci_process_parse(json_t *j, struct oci_process *p, struct verr **err)
{
	memset(p, 0, sizeof(*p));
	if (check_object(j, "process", err) < 0)
		return -1;
	if (get_bool(j, "terminal", &p->terminal, "process", err) < 0)
		goto fail;
	json_t *cs = json_object_get(j, "consoleSize");
	if (cs && !json_is_null(cs)) {
		if (check_object(cs, "process.consoleSize", err) < 0 ||
		    get_u32(cs, "height", true, &p->console_height, "process.consoleSize", err) < 0 ||
		    get_u32(cs, "width", true, &p->console_width, "process.consoleSize", err) < 0)
			goto fail;
		if (p->console_height > 0xffff || p->console_width > 0xffff) {
			verr_set(err, 0, "process.consoleSize: too large");
			goto fail;
		}
	}
	json_t *user = json_object_get(j, "user");
	if (user && !json_is_null(user)) {
		if (check_object(user, "process.user", err) < 0 ||
		    get_u32(user, "uid", true, &p->uid, "process.user", err) < 0 ||
		    get_u32(user, "gid", true, &p->gid, "process.user", err) < 0)
			goto fail;
		json_t *um = json_object_get(user, "umask");
		if (um && !json_is_null(um)) {
			int64_t m;
			if (get_int_range(um, 0, 07777, &m, "process.user", "umask", err) < 0)
				goto fail;
			p->has_umask = true;
			p->umask = (mode_t)m;
		}
		json_t *ag = json_object_get(user, "additionalGids");
		if (ag && !json_is_null(ag)) {
			if (!json_is_array(ag) || json_array_size(ag) > 65536) {
				verr_set(err, 0, "process.user.additionalGids: expected an array");
				goto fail;
			}
			p->additional_gids = xcalloc(json_array_size(ag) + 1, sizeof(uint32_t));
			size_t i;
			json_t *g;
			json_array_foreach(ag, i, g)
			{
				int64_t x;
				if (get_int_range(g, 0, UINT32_MAX, &x, "process.user", "additionalGids",
						  err) < 0)
					goto fail;
				p->additional_gids[p->n_additional_gids++] = (uint32_t)x;
			}
		}
	}
	if (get_strv(j, "args", &p->args, "process", err) < 0 ||
	    get_strv(j, "env", &p->env, "process", err) < 0 ||
	    get_string(j, "cwd", true, &p->cwd, "process", err) < 0)
		goto fail;
	if (!p->args || !p->args[0]) {
		verr_set(err, 0, "process.args: must contain at least one element");
		goto fail;
	}
	if (!p->env)
		p->env = xcalloc(1, sizeof(char *));
	if (p->cwd[0] != '/') {
		verr_set(err, 0, "process.cwd: '%s' is not an absolute path", p->cwd);
		goto fail;
	}
	json_t *caps = json_object_get(j, "capabilities");
	if (caps && !json_is_null(caps) && parse_caps(caps, p, err) < 0)
		goto fail;
	if (get_bool(j, "noNewPrivileges", &p->no_new_privileges, "process", err) < 0)
		goto fail;
	json_t *rl = json_object_get(j, "rlimits");
	if (rl && !json_is_null(rl) && parse_rlimits(rl, p, err) < 0)
		goto fail;
	json_t *oom = json_object_get(j, "oomScoreAdj");
	if (oom && !json_is_null(oom)) {
		int64_t x;
		if (get_int_range(oom, -1000, 1000, &x, "process", "oomScoreAdj", err) < 0)
			goto fail;
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)x;
	}
	if (get_string(j, "apparmorProfile", false, &p->apparmor_profile, "process", err) < 0 ||
	    get_string(j, "selinuxLabel", false, &p->selinux_label, "process", err) < 0)
		goto fail;
	if (p->apparmor_profile && !*p->apparmor_profile) {
		free(p->apparmor_profile);
		p->apparmor_profile = NULL;
	}
	if (p->selinux_label && !*p->selinux_label) {
		free(p->selinux_label);
		p->selinux_label = NULL;
	}
	return 0;
fail:
	oci_process_clear(p);
	return -1;
}

/* ---- mounts ---- */

static const struct {
	const char *name;
	bool clear; /* the option clears the flag instead of setting it */
	unsigned long flag;
} mount_flag_opts[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
};

static const struct {
	const char *name;
	unsigned long flag;
} mount_prop_opts[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

void oci_mount_add_option(struct oci_mount *m, const char *opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_flag_opts); i++) {
		if (strcmp(opt, mount_flag_opts[i].name) == 0) {
			if (mount_flag_opts[i].clear) {
				m->flags &= ~mount_flag_opts[i].flag;
				m->clear_flags |= mount_flag_opts[i].flag;
			} else {
				m->flags |= mount_flag_opts[i].flag;
				m->clear_flags &= ~mount_flag_opts[i].flag;
			}
			return;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(mount_prop_opts); i++) {
		if (strcmp(opt, mount_prop_opts[i].name) == 0) {
			m->propagation = mount_prop_opts[i].flag;
			return;
		}
	}
	if (strcmp(opt, "bind") == 0) {
		m->bind = true;
		return;
	}
	if (strcmp(opt, "rbind") == 0) {
		m->bind = m->recursive = true;
		return;
	}
	/* Runtime-only options a filesystem would refuse: tmpcopyup, idmap,
	 * and the recursive attributes (rro, rnosuid, ...; runtime-spec
	 * config.md "mounts"), which are applied non-recursively here except
	 * rro which makes the mount read-only. */
	static const char *const runtime_only[] = {
	    "tmpcopyup",    "idmap",	  "ridmap",    "rrw",	      "rnosuid",      "rsuid",
	    "rnodev",	    "rdev",	  "rnoexec",   "rexec",	      "rnoatime",     "ratime",
	    "rnodiratime",  "rdiratime",  "rrelatime", "rnorelatime", "rstrictatime", "rnostrictatime",
	    "rnosymfollow", "rsymfollow", "symfollow",
	};
	if (strcmp(opt, "tmpcopyup") == 0) {
		m->tmpcopyup = true;
		return;
	}
	if (strcmp(opt, "rro") == 0) {
		m->flags |= MS_RDONLY;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(runtime_only); i++)
		if (strcmp(opt, runtime_only[i]) == 0)
			return;
	if (strcmp(opt, "nosymfollow") == 0) {
		m->flags |= 256; /* MS_NOSYMFOLLOW */
		return;
	}
	/* Anything else is filesystem data (mode=, size=, gid=, ...). */
	if (!m->data) {
		m->data = xstrdup(opt);
	} else {
		char *d = xasprintf("%s,%s", m->data, opt);
		free(m->data);
		m->data = d;
	}
}

static int parse_mounts(json_t *a, struct oci_spec *s, struct verr **err)
{
	if (!json_is_array(a))
		return verr_set(err, 0, "mounts: expected an array");
	size_t n = json_array_size(a);
	s->mounts = xcalloc(n ? n : 1, sizeof(*s->mounts));
	size_t i;
	json_t *mj;
	json_array_foreach(a, i, mj)
	{
		char ctx[48];
		snprintf(ctx, sizeof(ctx), "mounts[%zu]", i);
		if (check_object(mj, ctx, err) < 0)
			return -1;
		struct oci_mount *m = &s->mounts[s->n_mounts++];
		if (get_string(mj, "destination", true, &m->destination, ctx, err) < 0 ||
		    get_string(mj, "type", false, &m->type, ctx, err) < 0 ||
		    get_string(mj, "source", false, &m->source, ctx, err) < 0)
			return -1;
		if (m->destination[0] != '/')
			return verr_set(err, 0, "%s.destination: '%s' is not an absolute path", ctx,
					m->destination);
		json_t *opts = json_object_get(mj, "options");
		if (opts && !json_is_null(opts)) {
			if (!json_is_array(opts))
				return verr_set(err, 0, "%s.options: expected an array", ctx);
			size_t k;
			json_t *o;
			json_array_foreach(opts, k, o)
			{
				if (!json_is_string(o) ||
				    strlen(json_string_value(o)) != json_string_length(o))
					return verr_set(err, 0, "%s.options[%zu]: expected a string", ctx, k);
				oci_mount_add_option(m, json_string_value(o));
			}
		}
		if (m->type && strcmp(m->type, "bind") == 0)
			m->bind = true;
		if (m->data && strlen(m->data) >= 4096)
			return verr_set(err, 0, "%s.options: too long", ctx);
		if (m->bind && !m->source)
			return verr_set(err, 0, "%s: a bind mount needs a source", ctx);
		if (!m->bind && !m->type)
			return verr_set(err, 0, "%s: missing type", ctx);
	}
	return 0;
}

/* ---- hooks ---- */

static void hook_clear(struct oci_hook *h)
{
	free(h->path);
	oci_strv_free(h->args);
	oci_strv_free(h->env);
}

static int parse_hooks(json_t *hooks, struct oci_spec *s, struct verr **err)
{
	static const char *const keys[OCI_HOOK_COUNT] = {"prestart",	   "createRuntime", "createContainer",
							 "startContainer", "poststart",	    "poststop"};
	if (check_object(hooks, "hooks", err) < 0)
		return -1;
	for (int k = 0; k < OCI_HOOK_COUNT; k++) {
		json_t *a = json_object_get(hooks, keys[k]);
		if (!a || json_is_null(a))
			continue;
		if (!json_is_array(a))
			return verr_set(err, 0, "hooks.%s: expected an array", keys[k]);
		size_t n = json_array_size(a);
		s->hooks.list[k] = xcalloc(n ? n : 1, sizeof(struct oci_hook));
		size_t i;
		json_t *hj;
		json_array_foreach(a, i, hj)
		{
			char ctx[64];
			snprintf(ctx, sizeof(ctx), "hooks.%s[%zu]", keys[k], i);
			if (check_object(hj, ctx, err) < 0)
				return -1;
			struct oci_hook *h = &s->hooks.list[k][s->hooks.n[k]++];
			if (get_string(hj, "path", true, &h->path, ctx, err) < 0 ||
			    get_strv(hj, "args", &h->args, ctx, err) < 0 ||
			    get_strv(hj, "env", &h->env, ctx, err) < 0)
				return -1;
			if (h->path[0] != '/')
				return verr_set(err, 0, "%s.path: '%s' is not an absolute path", ctx,
						h->path);
			json_t *t = json_object_get(hj, "timeout");
			if (t && !json_is_null(t)) {
				int64_t x;
				if (get_int_range(t, 1, INT_MAX, &x, ctx, "timeout", err) < 0)
					return -1;
				h->timeout = (int)x;
			}
		}
	}
	return 0;
}

/* ---- linux ---- */

static int parse_idmaps(json_t *a, const char *key, struct oci_idmap **out, size_t *n, struct verr **err)
{
	if (!json_is_array(a))
		return verr_set(err, 0, "linux.%s: expected an array", key);
	size_t cnt = json_array_size(a);
	if (cnt > 340) /* kernel limit on uid_map lines */
		return verr_set(err, 0, "linux.%s: too many entries (%zu)", key, cnt);
	*out = xcalloc(cnt ? cnt : 1, sizeof(**out));
	size_t i;
	json_t *m;
	json_array_foreach(a, i, m)
	{
		char ctx[48];
		snprintf(ctx, sizeof(ctx), "linux.%s[%zu]", key, i);
		struct oci_idmap *im = &(*out)[(*n)++];
		if (check_object(m, ctx, err) < 0 ||
		    get_u32(m, "containerID", true, &im->container_id, ctx, err) < 0 ||
		    get_u32(m, "hostID", true, &im->host_id, ctx, err) < 0 ||
		    get_u32(m, "size", true, &im->size, ctx, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_devices(json_t *a, struct oci_spec *s, struct verr **err)
{
	if (!json_is_array(a))
		return verr_set(err, 0, "linux.devices: expected an array");
	size_t n = json_array_size(a);
	s->devices = xcalloc(n ? n : 1, sizeof(*s->devices));
	size_t i;
	json_t *d;
	json_array_foreach(a, i, d)
	{
		char ctx[48];
		snprintf(ctx, sizeof(ctx), "linux.devices[%zu]", i);
		if (check_object(d, ctx, err) < 0)
			return -1;
		struct oci_device *dev = &s->devices[s->n_devices++];
		char *type = NULL;
		if (get_string(d, "path", true, &dev->path, ctx, err) < 0 ||
		    get_string(d, "type", true, &type, ctx, err) < 0)
			return -1;
		if (strlen(type) != 1 || !strchr("cbup", type[0])) {
			verr_set(err, 0, "%s.type: '%s' is not one of c, b, u, p", ctx, type);
			free(type);
			return -1;
		}
		dev->type = type[0];
		free(type);
		if (dev->path[0] != '/')
			return verr_set(err, 0, "%s.path: '%s' is not an absolute path", ctx, dev->path);
		json_t *mj = json_object_get(d, "major"), *nj = json_object_get(d, "minor");
		if (dev->type != 'p') {
			if (get_int_range(mj, 0, 0xfffff, &dev->major, ctx, "major", err) < 0 ||
			    get_int_range(nj, 0, 0xfffff, &dev->minor, ctx, "minor", err) < 0)
				return -1;
		}
		json_t *fm = json_object_get(d, "fileMode");
		if (fm && !json_is_null(fm)) {
			int64_t x;
			if (get_int_range(fm, 0, 07777, &x, ctx, "fileMode", err) < 0)
				return -1;
			dev->has_mode = true;
			dev->mode = (mode_t)x;
		}
		if (get_u32(d, "uid", false, &dev->uid, ctx, err) < 0 ||
		    get_u32(d, "gid", false, &dev->gid, ctx, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_propagation(const char *v, unsigned long *out, struct verr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_prop_opts); i++) {
		if (strcmp(v, mount_prop_opts[i].name) == 0) {
			*out = mount_prop_opts[i].flag;
			return 0;
		}
	}
	return verr_set(err, 0, "linux.rootfsPropagation: unknown value '%s'", v);
}

static int parse_linux(json_t *l, struct oci_spec *s, struct verr **err)
{
	if (check_object(l, "linux", err) < 0)
		return -1;
	json_t *nss = json_object_get(l, "namespaces");
	if (nss && !json_is_null(nss)) {
		if (!json_is_array(nss))
			return verr_set(err, 0, "linux.namespaces: expected an array");
		size_t i;
		json_t *nj;
		json_array_foreach(nss, i, nj)
		{
			char ctx[48];
			snprintf(ctx, sizeof(ctx), "linux.namespaces[%zu]", i);
			if (check_object(nj, ctx, err) < 0)
				return -1;
			json_t *t = json_object_get(nj, "type");
			if (!json_is_string(t))
				return verr_set(err, 0, "%s.type: expected a string", ctx);
			int k = oci_ns_kind_from_name(json_string_value(t));
			if (k < 0)
				return verr_set(err, 0, "%s.type: unknown namespace '%s'", ctx,
						json_string_value(t));
			if (s->ns[k].present)
				return verr_set(err, 0, "%s: duplicate namespace '%s'", ctx,
						json_string_value(t));
			s->ns[k].present = true;
			if (get_string(nj, "path", false, &s->ns[k].path, ctx, err) < 0)
				return -1;
			if (s->ns[k].path && s->ns[k].path[0] != '/')
				return verr_set(err, 0, "%s.path: '%s' is not an absolute path", ctx,
						s->ns[k].path);
		}
	}
	json_t *v;
	if ((v = json_object_get(l, "uidMappings")) && !json_is_null(v) &&
	    parse_idmaps(v, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err) < 0)
		return -1;
	if ((v = json_object_get(l, "gidMappings")) && !json_is_null(v) &&
	    parse_idmaps(v, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err) < 0)
		return -1;
	if ((s->n_uid_mappings || s->n_gid_mappings) && !s->ns[OCI_NS_USER].present)
		return verr_set(err, 0, "linux.uidMappings: mappings given without a user namespace");
	if (s->ns[OCI_NS_USER].present && !s->ns[OCI_NS_USER].path &&
	    (!s->n_uid_mappings || !s->n_gid_mappings))
		return verr_set(err, 0,
				"linux.namespaces: a new user namespace needs uidMappings and gidMappings");
	if ((v = json_object_get(l, "devices")) && !json_is_null(v) && parse_devices(v, s, err) < 0)
		return -1;
	if (get_string(l, "cgroupsPath", false, &s->cgroups_path, "linux", err) < 0)
		return -1;
	if ((v = json_object_get(l, "resources")) && !json_is_null(v)) {
		if (check_object(v, "linux.resources", err) < 0)
			return -1;
		s->resources = v;
	}
	if ((v = json_object_get(l, "sysctl")) && !json_is_null(v)) {
		if (check_object(v, "linux.sysctl", err) < 0)
			return -1;
		const char *key;
		json_t *val;
		json_object_foreach(v, key, val)
		{
			if (!json_is_string(val))
				return verr_set(err, 0, "linux.sysctl.%s: expected a string", key);
			if (!*key || strstr(key, "..") || key[0] == '.' || key[0] == '/' ||
			    strlen(key) != strcspn(key, "\n"))
				return verr_set(err, 0, "linux.sysctl: invalid key '%s'", key);
		}
		s->sysctl = v;
	}
	if ((v = json_object_get(l, "seccomp")) && !json_is_null(v)) {
		if (check_object(v, "linux.seccomp", err) < 0)
			return -1;
		s->seccomp = v;
	}
	char *prop = NULL;
	if (get_string(l, "rootfsPropagation", false, &prop, "linux", err) < 0)
		return -1;
	if (prop && *prop) {
		int r = parse_propagation(prop, &s->rootfs_propagation, err);
		free(prop);
		if (r < 0)
			return -1;
	} else {
		free(prop);
	}
	if ((v = json_object_get(l, "timeOffsets")) && !json_is_null(v)) {
		if (check_object(v, "linux.timeOffsets", err) < 0)
			return -1;
		static const char *const clocks[] = {"monotonic", "boottime"};
		for (int k = 0; k < 2; k++) {
			json_t *c = json_object_get(v, clocks[k]);
			if (!c || json_is_null(c))
				continue;
			char ctx[48];
			snprintf(ctx, sizeof(ctx), "linux.timeOffsets.%s", clocks[k]);
			if (check_object(c, ctx, err) < 0)
				return -1;
			int64_t secs = 0;
			uint32_t ns = 0;
			json_t *js = json_object_get(c, "secs");
			if (js && get_int_range(js, -(1ll << 40), 1ll << 40, &secs, ctx, "secs", err) < 0)
				return -1;
			if (get_u32(c, "nanosecs", false, &ns, ctx, err) < 0)
				return -1;
			if (ns >= 1000000000u)
				return verr_set(err, 0, "%s.nanosecs: must be below 1000000000", ctx);
			if (k == 0) {
				s->monotonic_secs = secs;
				s->monotonic_nsecs = ns;
			} else {
				s->boottime_secs = secs;
				s->boottime_nsecs = ns;
			}
			s->has_time_offsets = true;
		}
	}
	if (get_strv(l, "maskedPaths", &s->masked_paths, "linux", err) < 0 ||
	    get_strv(l, "readonlyPaths", &s->readonly_paths, "linux", err) < 0 ||
	    get_string(l, "mountLabel", false, &s->mount_label, "linux", err) < 0)
		return -1;
	return 0;
}

void oci_spec_free(struct oci_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	oci_process_clear(&s->process);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (int k = 0; k < OCI_HOOK_COUNT; k++) {
		for (size_t i = 0; i < s->hooks.n[k]; i++)
			hook_clear(&s->hooks.list[k][i]);
		free(s->hooks.list[k]);
	}
	for (int k = 0; k < OCI_NS_COUNT; k++)
		free(s->ns[k].path);
	free(s->uid_mappings);
	free(s->gid_mappings);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->cgroups_path);
	oci_strv_free(s->masked_paths);
	oci_strv_free(s->readonly_paths);
	free(s->mount_label);
	json_decref(s->json);
	free(s);
}

int oci_spec_parse(const char *data, size_t len, struct oci_spec **out, struct verr **err)
{
	json_error_t jerr;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return verr_set(err, 0, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
				jerr.text);
	struct oci_spec *s = xcalloc(1, sizeof(*s));
	s->json = j;
	if (check_object(j, "config", err) < 0)
		goto fail;
	if (get_string(j, "ociVersion", true, &s->oci_version, "config", err) < 0)
		goto fail;
	if (strncmp(s->oci_version, "1.", 2) != 0) {
		verr_set(err, 0, "ociVersion: unsupported version '%s' (this runtime implements 1.x)",
			 s->oci_version);
		goto fail;
	}
	json_t *root = json_object_get(j, "root");
	if (!root || json_is_null(root)) {
		verr_set(err, 0, "root: missing");
		goto fail;
	}
	if (check_object(root, "root", err) < 0 ||
	    get_string(root, "path", true, &s->root_path, "root", err) < 0 ||
	    get_bool(root, "readonly", &s->root_readonly, "root", err) < 0)
		goto fail;
	if (!*s->root_path) {
		verr_set(err, 0, "root.path: empty");
		goto fail;
	}
	if (get_string(j, "hostname", false, &s->hostname, "config", err) < 0 ||
	    get_string(j, "domainname", false, &s->domainname, "config", err) < 0)
		goto fail;
	if ((s->hostname && strlen(s->hostname) > 64) || (s->domainname && strlen(s->domainname) > 64)) {
		verr_set(err, 0, "hostname/domainname: longer than 64 bytes");
		goto fail;
	}
	json_t *proc = json_object_get(j, "process");
	if (proc && !json_is_null(proc)) {
		if (oci_process_parse(proc, &s->process, err) < 0)
			goto fail;
		s->has_process = true;
	}
	json_t *v;
	if ((v = json_object_get(j, "mounts")) && !json_is_null(v) && parse_mounts(v, s, err) < 0)
		goto fail;
	if ((v = json_object_get(j, "hooks")) && !json_is_null(v) && parse_hooks(v, s, err) < 0)
		goto fail;
	if ((v = json_object_get(j, "annotations")) && !json_is_null(v)) {
		if (check_object(v, "annotations", err) < 0)
			goto fail;
		const char *key;
		json_t *val;
		json_object_foreach(v, key, val)
		{
			if (!json_is_string(val)) {
				verr_set(err, 0, "annotations.%s: expected a string", key);
				goto fail;
			}
		}
		s->annotations = v;
	}
	if ((v = json_object_get(j, "linux")) && !json_is_null(v) && parse_linux(v, s, err) < 0)
		goto fail;
	if (s->hostname && *s->hostname && !s->ns[OCI_NS_UTS].present) {
		verr_set(err, 0, "hostname: setting it needs a new uts namespace");
		goto fail;
	}
	if (s->has_time_offsets && !(s->ns[OCI_NS_TIME].present && !s->ns[OCI_NS_TIME].path)) {
		verr_set(err, 0, "linux.timeOffsets: needs a new time namespace");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	oci_spec_free(s);
	return -1;
}

int oci_spec_load(const char *bundle, struct oci_spec **out, struct verr **err)
{
	cleanup_free char *path = xasprintf("%s/config.json", bundle);
	cleanup_free char *data = NULL;
	size_t len;
	int r = read_file(path, SPEC_MAX_BYTES, &data, &len);
	if (r < 0)
		return verr_set(err, -r, "read '%s'", path);
	if (oci_spec_parse(data, len, out, err) < 0)
		return verr_wrap(err, "%s", path);
	return 0;
}
