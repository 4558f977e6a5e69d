/* The container's root file system (runtime-spec config.md "Root",
 * "Mounts", config-linux.md "Devices", "Default Devices", "Masked Paths",
 * "Readonly Paths", "Rootfs Mount Propagation"). Runs in the container's
 * init, inside its new mount namespace, in three steps around the
 * createContainer hooks and pivot_root. Every target path inside the rootfs
 * is resolved with openat2(RESOLVE_IN_ROOT), so symlinks in an image cannot
 * point a mount outside the container. */
#ifndef VESSEL_OCI_MOUNTS_H
#define VESSEL_OCI_MOUNTS_H

#include <stdbool.h>

#include "base/err.h"
#include "oci/spec.h"

struct oci_rootfs {
	const struct oci_spec *spec;
	const char *rootfs;	    /* absolute host path */
	const char *bundle;	    /* absolute; relative bind sources resolve here */
	bool no_pivot;		    /* chroot instead of pivot_root */
	bool userns;		    /* in a new user namespace: bind devices, no mknod */
	const char *cgroup_relpath; /* container cgroup below each hierarchy root, or NULL */
	bool cgroupns;		    /* the container has its own cgroup namespace */
};

/* Step 1 (before pivot_root): root propagation, bind of the rootfs, every
 * spec mount, default and spec devices, /dev symlinks. */
int oci_rootfs_prepare(const struct oci_rootfs *r, struct verr **err);

/* Step 2: pivot_root (or chroot with no_pivot); cwd is "/" afterwards. */
int oci_rootfs_pivot(const struct oci_rootfs *r, struct verr **err);

/* Step 3 (after pivot_root): bind console_slave (if >= 0) on /dev/console,
 * masked and read-only paths, read-only root. */
int oci_rootfs_finish(const struct oci_rootfs *r, int console_slave, struct verr **err);

/* Opens path inside the directory tree rootfd as if rootfd were "/",
 * creating missing directories (mode 0755) and, if as_file, the last
 * component as an empty file. Returns an O_PATH fd. Exposed for tests. */
int oci_open_in_root(int rootfd, const char *path, bool create, bool as_file, struct verr **err);

#endif
