/* Internals of oci/cgroup exposed for unit tests only. */
#ifndef VESSEL_OCI_CGROUP_INT_H
#define VESSEL_OCI_CGROUP_INT_H

#include <jansson.h>

#include "base/err.h"

/* cgroup v2 device control: compiles linux.resources.devices (borrowed; the
 * last matching rule wins, no match allows, runc's default devices are
 * appended) into a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the
 * cgroup2 directory dir, replacing the one attached before. */
int oci_cgroup_devices_bpf(const char *dir, json_t *rules, struct verr **err);

#endif
