#include "oci/defaults.h"

#include <string.h>

#include "base/util.h"
#include "oci/seccomp.h"
#include "oci/spec.h"
#include "oci/state.h"

static json_t *strs(const char *const *v)
{
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *mount_obj(const char *dest, const char *type, const char *src, const char *const *opts)
{
	json_t *m = json_object();
	json_object_set_new(m, "destination", json_string(dest));
	json_object_set_new(m, "type", json_string(type));
	json_object_set_new(m, "source", json_string(src));
	if (opts)
		json_object_set_new(m, "options", strs(opts));
	return m;
}

json_t *oci_default_spec(bool rootless, uid_t uid, gid_t gid)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
	static const char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
					  "TERM=xterm", NULL};
	static const char *const args[] = {"sh", NULL};
	json_t *spec = json_object();
	json_object_set_new(spec, "ociVersion", json_string(OCI_SPEC_VERSION));

	json_t *p = json_object();
	json_object_set_new(p, "terminal", json_true());
	json_object_set_new(p, "user", json_pack("{s:i,s:i}", "uid", 0, "gid", 0));
	json_object_set_new(p, "args", strs(args));
	json_object_set_new(p, "env", strs(env));
	json_object_set_new(p, "cwd", json_string("/"));
	json_t *c = json_object();
	json_object_set_new(c, "bounding", strs(caps));
	json_object_set_new(c, "effective", strs(caps));
	json_object_set_new(c, "permitted", strs(caps));
	json_object_set_new(c, "ambient", strs(caps));
	json_object_set_new(p, "capabilities", c);
	json_object_set_new(
	    p, "rlimits", json_pack("[{s:s,s:i,s:i}]", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024));
	json_object_set_new(p, "noNewPrivileges", json_true());
	json_object_set_new(spec, "process", p);
	json_object_set_new(spec, "root", json_pack("{s:s,s:b}", "path", "rootfs", "readonly", 1));
	json_object_set_new(spec, "hostname", json_string("vessel"));

	json_t *mounts = json_array();
	json_array_append_new(mounts, mount_obj("/proc", "proc", "proc", NULL));
	json_array_append_new(mounts, mount_obj("/dev", "tmpfs", "tmpfs",
						(const char *const[]){"nosuid", "strictatime", "mode=755",
								      "size=65536k", NULL}));
	if (rootless)
		json_array_append_new(mounts,
				      mount_obj("/dev/pts", "devpts", "devpts",
						(const char *const[]){"nosuid", "noexec", "newinstance",
								      "ptmxmode=0666", "mode=0620", NULL}));
	else
		json_array_append_new(
		    mounts, mount_obj("/dev/pts", "devpts", "devpts",
				      (const char *const[]){"nosuid", "noexec", "newinstance",
							    "ptmxmode=0666", "mode=0620", "gid=5", NULL}));
	json_array_append_new(mounts, mount_obj("/dev/shm", "tmpfs", "shm",
						(const char *const[]){"nosuid", "noexec", "nodev",
								      "mode=1777", "size=65536k", NULL}));
	json_array_append_new(mounts, mount_obj("/dev/mqueue", "mqueue", "mqueue",
						(const char *const[]){"nosuid", "noexec", "nodev", NULL}));
	if (rootless) {
		json_array_append_new(mounts, mount_obj("/sys", "none", "/sys",
							(const char *const[]){"rbind", "nosuid", "noexec",
									      "nodev", "ro", NULL}));
	} else {
		json_array_append_new(
		    mounts, mount_obj("/sys", "sysfs", "sysfs",
				      (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}));
		json_array_append_new(mounts, mount_obj("/sys/fs/cgroup", "cgroup", "cgroup",
							(const char *const[]){"nosuid", "noexec", "nodev",
									      "relatime", "ro", NULL}));
	}
	json_object_set_new(spec, "mounts", mounts);

	json_t *lin = json_object();
	if (!rootless)
		json_object_set_new(lin, "resources",
				    json_pack("{s:[{s:b,s:s}]}", "devices", "allow", 0, "access", "rwm"));
	json_t *ns = json_array();
	static const char *const nss[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", NULL};
	for (const char *const *n = nss; *n; n++) {
		if (rootless && strcmp(*n, "network") == 0)
			continue;
		json_array_append_new(ns, json_pack("{s:s}", "type", *n));
	}
	if (rootless) {
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
		json_object_set_new(
		    lin, "uidMappings",
		    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (json_int_t)uid, "size", 1));
		json_object_set_new(
		    lin, "gidMappings",
		    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (json_int_t)gid, "size", 1));
	}
	json_object_set_new(lin, "namespaces", ns);
	static const char *const masked[] = {"/proc/acpi",
					     "/proc/asound",
					     "/proc/kcore",
					     "/proc/keys",
					     "/proc/latency_stats",
					     "/proc/timer_list",
					     "/proc/timer_stats",
					     "/proc/sched_debug",
					     "/sys/firmware",
					     "/proc/scsi",
					     NULL};
	static const char *const ro[] = {"/proc/bus",		"/proc/fs", "/proc/irq", "/proc/sys",
					 "/proc/sysrq-trigger", NULL};
	json_object_set_new(lin, "maskedPaths", strs(masked));
	json_object_set_new(lin, "readonlyPaths", strs(ro));
	json_object_set_new(spec, "linux", lin);
	return spec;
}

json_t *oci_features(void)
{
	static const char *const hooks[] = {
	    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL};
	static const char *const mount_opts[] = {
	    "async",   "atime",	      "bind",	       "defaults",  "dev",	   "diratime",
	    "dirsync", "exec",	      "iversion",      "lazytime",  "loud",	   "mand",
	    "noatime", "nodev",	      "nodiratime",    "noexec",    "noiversion",  "nolazytime",
	    "nomand",  "norelatime",  "nostrictatime", "nosuid",    "nosymfollow", "private",
	    "rbind",   "relatime",    "remount",       "ro",	    "rprivate",	   "rro",
	    "rshared", "rslave",      "runbindable",   "rw",	    "shared",	   "silent",
	    "slave",   "strictatime", "suid",	       "symfollow", "sync",	   "unbindable",
	    NULL};
	json_t *f = json_object();
	json_object_set_new(f, "ociVersionMin", json_string("1.0.0"));
	json_object_set_new(f, "ociVersionMax", json_string(OCI_SPEC_VERSION));
	json_object_set_new(f, "hooks", strs(hooks));
	json_object_set_new(f, "mountOptions", strs(mount_opts));
	json_t *lin = json_object();
	json_t *ns = json_array();
	for (int k = 0; k < OCI_NS_COUNT; k++)
		json_array_append_new(ns, json_string(oci_ns_kind_name(k)));
	json_object_set_new(lin, "namespaces", ns);
	json_t *caps = json_array();
	for (int i = 0; i <= oci_cap_last(); i++)
		json_array_append_new(caps, json_string(oci_cap_name(i)));
	json_object_set_new(lin, "capabilities", caps);
	json_object_set_new(lin, "cgroup",
			    json_pack("{s:b,s:b,s:b,s:b}", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0));
	json_object_set_new(lin, "seccomp", oci_seccomp_features());
	json_object_set_new(lin, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(lin, "selinux", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(f, "linux", lin);
	json_object_set_new(f, "annotations",
			    json_pack("{s:s}", "org.opencontainers.runtime-spec.features", "vessel-runtime"));
	return f;
}
