/* Machine state for snapshots, restore and migration (docs/snapshot-format.md,
 * "Machine sections").
 *
 * Everything that is not RAM goes into sections of a snap stream:
 *   machine        the configuration (RAM size, cpus, devices per virtio
 *                  slot, disks with their identity, NIC and MAC, images)
 *   cpu<N>         each hart's architectural state (hart_save_state)
 *   dev.<name>     each board device (syscon, rtc, aclint, plic, uart)
 *   virtio<N>      each virtio-mmio transport (status, features, queues)
 *   vdev<N>        that slot's device (config space)
 *   net            the network backend (libslirp: DHCP leases, guestfwd)
 * then the caller adds RAM ("ram" for a snapshot, "ram-batch" for
 * migration) and ends the stream.
 *
 * A loaded state is hostile input: every section is validated (sizes,
 * ranges, queue addresses inside RAM, a config that matches the machine)
 * before it is installed, and anything else is refused with an error that
 * names the section.
 */
#ifndef VESSEL_VM_MACHINE_VMSTATE_H
#define VESSEL_VM_MACHINE_VMSTATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "vm/machine/machine.h"
#include "vm/state/snap.h"

/* A disk as the "machine" section records it: enough to notice that the
 * image changed since (size, mtime, inode, device). */
struct vmstate_disk {
	char *path; /* absolute (realpath at save time) */
	enum block_format format;
	bool readonly;
	uint64_t virtual_size;
	uint64_t file_size, dev, ino;
	int64_t mtime_ns;
};

/* The "machine" section, decoded. cfg's strings point into this struct
 * (valid until vmstate_config_free); console fds are -1. */
struct vmstate_config {
	struct machine_config cfg;
	struct vmstate_disk disks[VM_MAX_DISKS];
	char *net, *kernel, *initrd, *bios, *cmdline;
	uint32_t slot_ids[VM_VIRTIO_SLOTS]; /* virtio device id per slot */
	unsigned nr_slots;
};

/* Decodes and validates a "machine" section. On success the caller frees
 * *out's strings with vmstate_config_free. */
int vmstate_config_parse(const struct snap_section *sec, struct vmstate_config *out, struct verr **err);
void vmstate_config_free(struct vmstate_config *vc);

/* Checks that the disks cfg will open are the ones the snapshot recorded:
 * same number, and each either the recorded file unchanged (size, mtime,
 * inode) or a qcow2 overlay whose backing file is (a clone). Call before
 * the machine opens them (opening may touch a qcow2 header). Errors name
 * the disk and what changed. */
int vmstate_check_disks(const struct vmstate_config *vc, const struct machine_config *cfg, struct verr **err);

/* Writes every non-RAM section of a paused machine. Owner thread (inside a
 * machine_call) or before machine_run. */
int machine_save_state(struct machine *m, struct snap_writer *w, struct verr **err);

/* Loads one section into a machine created with machine_create_incoming
 * (paused, not yet resumed). Returns 1 when the section was the machine's,
 * 0 for a section it does not know (the caller handles RAM and its own, or
 * calls snap_section_unknown), -1 with *err when it is invalid. */
int machine_load_section(struct machine *m, const struct snap_section *sec, struct verr **err);

/* After the last section: checks that every required section came (the
 * config, each hart, each device and transport), and sets guest time to
 * continue from the saved mtime once the machine resumes. */
int machine_load_finish(struct machine *m, struct verr **err);

/* Flags for machine_load_state. */
#define VMSTATE_MAP_RAM 0x1u /* map "ram" pages from the file (lazy, copy-on-write) */

/* Reads the rest of a stream into m: every machine section, "ram" (copied,
 * or mapped from the file with VMSTATE_MAP_RAM; the reader must then have
 * been opened with SNAP_R_LAZY_RAM) and "ram-batch" sections, up to the
 * verified end; then machine_load_finish. */
int machine_load_state(struct machine *m, struct snap_reader *r, unsigned flags, struct verr **err);

/* Guest RAM (for migration). */
void *machine_ram(struct machine *m, uint64_t *size);

/* Figures of a snapshot. */
struct machine_snapshot_result {
	uint64_t bytes;    /* file size */
	uint64_t ms;       /* the guest was paused this long */
	uint64_t total_ms; /* until the file was on disk */
};

/* Pauses the VM (unless paused already) and forks: the child, a frozen
 * copy-on-write image of the process, flushes the disks, writes state +
 * RAM to a temporary file next to path, fsyncs and renames it over path,
 * while the parent resumes the guest at once (unless stay_paused or it was
 * paused before): the guest pauses for milliseconds, not for the write.
 * Returns when the file is written. A failure (bad path, disk full) leaves
 * any previous file intact and the VM in its previous state; the error
 * names the cause. Thread-safe (the pause runs on the owner through
 * machine_call; the caller's thread waits for the child). */
int machine_snapshot(struct machine *m, const char *path, bool stay_paused, struct machine_snapshot_result *res,
		     struct verr **err);

enum machine_snapshot_status { MSNAP_NONE, MSNAP_ACTIVE, MSNAP_COMPLETED, MSNAP_FAILED };

/* The current or last snapshot of a machine (GET /vm/snapshot). */
struct machine_snapshot_progress {
	enum machine_snapshot_status status;
	const char *phase;    /* "none", "pausing" (pause and fork), then in the
			       * writer: "flushing-disks", "saving-state",
			       * "scanning-ram", "writing-ram", "syncing" (fsync,
			       * rename); "done" when completed (static) */
	uint64_t bytes;	      /* written to the file so far (buffered) */
	uint64_t total_bytes; /* the file's final size, once the RAM was scanned (0 before) */
	uint64_t elapsed_ms;  /* since the request (the whole run once over) */
	uint64_t ms;	      /* the guest was paused this long (0 until resumed) */
	char path[PATH_MAX];
	char error[256];      /* failed: the error chain */
};

/* Copies the state of the current or last snapshot into *out (status
 * MSNAP_NONE before the first). Thread-safe; reads the writer's progress
 * from a page it shares with the writer process. */
void machine_snapshot_progress(struct machine *m, struct machine_snapshot_progress *out);

/* Test hook: VESSEL_TEST_SNAPSHOT_BPS=N (bytes per second) in the VMM's
 * environment makes the snapshot writer pace itself to N bytes/s, so tests
 * can watch a snapshot in progress deterministically (docs/api.md). */
#define MACHINE_SNAPSHOT_TEST_RATE_ENV "VESSEL_TEST_SNAPSHOT_BPS"

#endif
