/* OCI runtime spec config.json (runtime-spec 1.2, config.md and
 * config-linux.md), parsed and validated into plain structs.
 *
 * Everything a container needs that is simple data is parsed here; the
 * objects handed on to other modules (linux.resources, linux.seccomp,
 * annotations) stay as jansson values borrowed from spec->json. The parser
 * treats its input as hostile: it is fuzzed by tests/fuzz/fuzz_oci_spec.c. */
#ifndef VESSEL_OCI_SPEC_H
#define VESSEL_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

/* Namespace kinds, in the order they are joined (user first: joining the
 * others may need the capabilities it grants; mount last but one). */
enum oci_ns_kind {
	OCI_NS_USER,
	OCI_NS_PID,
	OCI_NS_NET,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	OCI_NS_MOUNT,
	OCI_NS_COUNT
};

struct oci_ns {
	bool present; /* listed in linux.namespaces */
	char *path;   /* join this one (setns) instead of creating one; or NULL */
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct oci_mount {
	char *destination;	   /* absolute, inside the container */
	char *type;		   /* may be NULL (bind mounts) */
	char *source;		   /* may be NULL */
	unsigned long flags;	   /* MS_* set by options */
	unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, ...) */
	unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE [|MS_REC] or 0 */
	bool bind, recursive;	   /* bind / rbind */
	bool tmpcopyup;		   /* copy what was under a tmpfs into it */
	char *data;		   /* comma-joined filesystem options, or NULL */
};

struct oci_hook {
	char *path;
	char **args; /* NULL-terminated, may be NULL */
	char **env;  /* NULL-terminated, may be NULL */
	int timeout; /* seconds, 0 = none */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_COUNT
};

struct oci_hooks {
	struct oci_hook *list[OCI_HOOK_COUNT];
	size_t n[OCI_HOOK_COUNT];
};

enum oci_cap_set {
	OCI_CAP_BOUNDING,
	OCI_CAP_EFFECTIVE,
	OCI_CAP_INHERITABLE,
	OCI_CAP_PERMITTED,
	OCI_CAP_AMBIENT,
	OCI_CAP_NSETS
};

struct oci_process {
	bool terminal;
	unsigned console_height, console_width;
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
	char **args; /* NULL-terminated, at least one element */
	char **env;  /* NULL-terminated (possibly empty) */
	char *cwd;   /* absolute */
	bool has_caps;
	uint64_t caps[OCI_CAP_NSETS]; /* bit n = capability n */
	bool no_new_privileges;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
};

struct oci_device {
	char *path;
	char type; /* 'c', 'b', 'u' or 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t mode;
	uint32_t uid, gid;
};

struct oci_spec {
	json_t *json; /* the whole document (owned) */
	char *oci_version;
	char *root_path; /* as written (relative to the bundle or absolute) */
	bool root_readonly;
	char *hostname, *domainname;
	bool has_process;
	struct oci_process process;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hooks hooks;
	json_t *annotations; /* borrowed from json, or NULL */
	struct oci_ns ns[OCI_NS_COUNT];
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;
	json_t *resources;		       /* borrowed, or NULL */
	json_t *sysctl;			       /* borrowed object of strings, or NULL */
	json_t *seccomp;		       /* borrowed, or NULL */
	unsigned long rootfs_propagation;      /* 0 = default (rslave) */
	char **masked_paths, **readonly_paths; /* NULL-terminated, may be NULL */
	char *mount_label;
	/* linux.timeOffsets for a new time namespace (time_namespaces(7)) */
	bool has_time_offsets;
	int64_t monotonic_secs, boottime_secs;
	uint32_t monotonic_nsecs, boottime_nsecs;
};

/* Parses and validates a config.json document held in memory (len bytes,
 * need not be NUL-terminated). On success *out is a new spec the caller
 * frees with oci_spec_free(). */
int oci_spec_parse(const char *data, size_t len, struct oci_spec **out, struct verr **err);

/* Reads and parses BUNDLE/config.json. */
int oci_spec_load(const char *bundle, struct oci_spec **out, struct verr **err);

/* Parses a standalone process object (exec --process, or spec.process) into
 * *p, which the caller clears with oci_process_clear(). */
int oci_process_parse(json_t *j, struct oci_process *p, struct verr **err);
void oci_process_clear(struct oci_process *p);

/* Frees a spec; accepts NULL. */
void oci_spec_free(struct oci_spec *s);

/* Maps names used by the spec. Return -1 when unknown. */
int oci_ns_kind_from_name(const char *name);
const char *oci_ns_kind_name(enum oci_ns_kind k); /* "pid", "network", ... */
int oci_ns_clone_flag(enum oci_ns_kind k);	  /* CLONE_NEWPID, ... */
const char *oci_ns_proc_name(enum oci_ns_kind k); /* "pid", "net", ... for /proc/PID/ns */
int oci_rlimit_from_name(const char *name);	  /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE */
int oci_cap_from_name(const char *name);	  /* "CAP_KILL" -> CAP_KILL */
const char *oci_cap_name(int cap);		  /* CAP_KILL -> "CAP_KILL" or NULL */
int oci_cap_last(void);				  /* highest capability this host knows */

/* Parses a mount "options" array entry into m; unknown options are passed
 * to the filesystem as data. Exposed for the tests. */
void oci_mount_add_option(struct oci_mount *m, const char *opt);

/* Frees a NULL-terminated string vector; accepts NULL. */
void oci_strv_free(char **v);

#endif
