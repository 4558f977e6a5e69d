/* The control API's callbacks for a machine (docs/api.md): each request is
 * an action on the owner thread (machine_call), so API threads never touch
 * harts or devices themselves. */
#include <errno.h>
#include <string.h>

#include "base/util.h"
#include "vm/api/api.h"
#include "vm/machine/machine_int.h"
#include "vm/machine/migration.h"
#include "vm/machine/vmstate.h"

/* "state" is what the vCPUs do (QEMU's query-status: running, paused,
 * and postmigrate as "migrated": the VM runs at a destination now and this
 * process is about to exit); "operation" what holds the VM meanwhile
 * (Proxmox's lock: migrate, snapshot; QEMU's inmigrate is "incoming"),
 * with its "operation_phase". */
static json_t *api_get_info(void *opaque, struct verr **err)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	const char *state = m->shut_stage != SHUT_NONE ? "shutting-down" : m->paused ? "paused" : "running";
	bool has_migration = m->migration != NULL;
	pthread_mutex_unlock(&m->lock);
	const char *operation = "none", *phase = NULL;
	struct machine_snapshot_progress *sp = xmalloc(sizeof(*sp));
	machine_snapshot_progress(m, sp);
	if (sp->status == MSNAP_ACTIVE) {
		operation = "snapshotting";
		phase = sp->phase;
	}
	free(sp);
	const char *incoming = has_migration ? machine_migration_incoming_phase(m) : NULL;
	if (incoming) {
		operation = "incoming";
		phase = incoming;
	} else if (has_migration) {
		struct migrate_progress pr;
		machine_migration_progress(m, &pr);
		if (pr.state == MIGRATE_COMPLETED) {
			state = "migrated";
		} else if (pr.state == MIGRATE_ACTIVE) {
			operation = "migrating";
			phase = pr.phase;
		}
	}
	json_t *devs = json_object();
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		if (!m->vblk[i])
			continue;
		struct virtio_blk_stats st;
		virtio_blk_stats(m->vblk[i], &st);
		char name[8];
		snprintf(name, sizeof(name), "vd%c", 'a' + i);
		json_object_set_new(devs, name,
				    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "type", "virtio-blk", "path",
					      m->disks[i]->path, "read_ops", (json_int_t)st.reads, "write_ops",
					      (json_int_t)st.writes, "read_bytes", (json_int_t)st.bytes_read,
					      "write_bytes", (json_int_t)st.bytes_written, "flush_ops",
					      (json_int_t)st.flushes, "errors", (json_int_t)st.errors));
	}
	if (m->net) {
		struct net_stats st;
		net_backend_stats(m->net, &st);
		char mac[18];
		const uint8_t *a = m->cfg.mac;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
		json_object_set_new(devs, "net0",
				    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "type", "virtio-net", "mac", mac,
					      "rx_packets", (json_int_t)st.rx_frames, "rx_bytes", (json_int_t)st.rx_bytes,
					      "tx_packets", (json_int_t)st.tx_frames, "tx_bytes", (json_int_t)st.tx_bytes,
					      "tx_dropped", (json_int_t)st.tx_dropped));
	}
	json_object_set_new(devs, "console",
			    json_pack("{s:s, s:I, s:I}", "type", "uart16550", "out_bytes",
				      (json_int_t)atomic_load(&m->console_out_bytes), "in_bytes",
				      (json_int_t)atomic_load(&m->console_in_bytes)));
	json_t *info = json_pack("{s:s, s:i, s:I, s:I, s:o}", "state", state, "cpus", (int)m->cfg.nr_cpus, "memory",
				 (json_int_t)m->sh.ram_size, "uptime_ms",
				 (json_int_t)((now_ns() - m->created_ns) / 1000000), "devices", devs);
	if (info) {
		json_object_set_new(info, "operation", json_string(operation));
		if (phase)
			json_object_set_new(info, "operation_phase", json_string(phase));
	} else {
		verr_set(err, ENOMEM, "build the answer");
	}
	return info;
}

static int api_pause(void *opaque, struct verr **err)
{
	return machine_pause(opaque, err);
}

static int api_resume(void *opaque, struct verr **err)
{
	return machine_resume(opaque, err);
}

static int api_shutdown(void *opaque, uint64_t timeout_ms, struct verr **err)
{
	return machine_shutdown(opaque, timeout_ms, err);
}

static int api_snapshot(void *opaque, const char *path, bool stay_paused, json_t **result, struct verr **err)
{
	struct machine_snapshot_result res;
	if (machine_snapshot(opaque, path, stay_paused, &res, err) < 0)
		return -1;
	*result = json_pack("{s:I, s:I, s:I}", "bytes", (json_int_t)res.bytes, "ms", (json_int_t)res.ms,
			    "total_ms", (json_int_t)res.total_ms);
	return 0;
}

static json_t *api_snapshot_status(void *opaque, struct verr **err)
{
	static const char *const names[] = {
		[MSNAP_NONE] = "none", [MSNAP_ACTIVE] = "active", [MSNAP_COMPLETED] = "completed", [MSNAP_FAILED] = "failed"
	};
	cleanup_free struct machine_snapshot_progress *p = xmalloc(sizeof(*p));
	machine_snapshot_progress(opaque, p);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "status", names[p->status], "phase", p->phase, "bytes",
			      (json_int_t)p->bytes, "total_bytes", (json_int_t)p->total_bytes);
	if (o && p->status != MSNAP_NONE) {
		json_object_set_new(o, "path", json_string(p->path));
		json_object_set_new(o, p->status == MSNAP_ACTIVE ? "elapsed_ms" : "total_ms",
				    json_integer((json_int_t)p->elapsed_ms));
		if (p->ms || p->status != MSNAP_ACTIVE)
			json_object_set_new(o, "ms", json_integer((json_int_t)p->ms));
		if (p->status == MSNAP_FAILED)
			json_object_set_new(o, "error", json_string(p->error));
	}
	if (!o)
		verr_set(err, ENOMEM, "build the answer");
	return o;
}

static const struct vm_api_ops machine_api_ops = {
	.get_info = api_get_info,
	.pause = api_pause,
	.resume = api_resume,
	.shutdown = api_shutdown,
	.snapshot = api_snapshot,
	.snapshot_status = api_snapshot_status,
	.migrate = machine_api_migrate, /* migration.c */
	.migration_status = machine_api_migration_status,
	.migrate_postcopy = machine_api_migrate_postcopy,
	.migrate_cancel = machine_api_migrate_cancel,
	.migrated = machine_api_migrated,
};

int machine_api_start(struct machine *m, const char *socket_path, struct vm_api **out, struct verr **err)
{
	return vm_api_start(socket_path, &machine_api_ops, m, out, err);
}
