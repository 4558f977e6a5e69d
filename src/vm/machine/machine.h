/* The `virt` board: RAM, devices, firmware, boot, and the run loop.
 *
 * Memory map (QEMU virt): syscon 0x0010_0000, goldfish RTC 0x0010_1000,
 * CLINT 0x0200_0000, PLIC 0x0c00_0000, NS16550A 0x1000_0000,
 * RAM 0x8000_0000. One host thread per hart; devices are serialized by one
 * board lock.
 */
#ifndef VESSEL_VM_MACHINE_H
#define VESSEL_VM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "vm/block/block.h"

#define VM_MAX_CPUS 8
#define VM_RAM_BASE_GPA 0x80000000ull
#define VM_KERNEL_GPA 0x80200000ull
#define VM_MIN_RAM (16ull << 20)
#define VM_MAX_RAM (16ull << 30)
#define VM_DEFAULT_RAM (256ull << 20)
/* virtio-mmio slots as QEMU virt: 0x1000_1000 + n*0x1000, PLIC IRQ 1+n. */
#define VM_VIRTIO_BASE_GPA 0x10001000ull
#define VM_VIRTIO_SLOTS 8
#define VM_MAX_DISKS 6 /* leaves slots for the NIC and the RNG */

struct machine_disk {
	const char *path;          /* borrowed */
	enum block_format format;  /* BLOCK_FMT_AUTO probes */
	bool readonly;
	bool migrating_in;         /* --incoming: opened without its lock until the
				    * migration hands it over (migration.c) */
};

struct machine_config {
	uint64_t ram_size;     /* VM_MIN_RAM..VM_MAX_RAM, multiple of 4 KiB */
	unsigned nr_cpus;      /* 1..VM_MAX_CPUS */
	const char *kernel;    /* paths, borrowed for the machine's lifetime; */
	const char *initrd;    /* NULL when absent (kernel or bios required) */
	const char *bios;
	const char *cmdline;
	int console_in_fd;     /* -1: no console input */
	int console_out_fd;    /* -1: console output discarded */
	bool console_raw;      /* raw mode + Ctrl-A escapes when in_fd is a tty */
	bool console_virtio;   /* the console on a virtio-console (hvc0), after the
				  other virtio devices; the UART stays, unconnected */
	struct machine_disk disks[VM_MAX_DISKS]; /* virtio-blk: vda, vdb, ... */
	unsigned nr_disks;
	const char *net;       /* --net spec (see vm/net/net.h); NULL: no NIC */
	bool net_migrating_in; /* --incoming: hostfwd ports the source holds are
				  handed over by the migration (NET_OPEN_INCOMING) */
	uint8_t mac[6];        /* the NIC's address */
	bool rng;              /* a virtio-rng device */
};

struct machine;

/* Maps RAM, creates harts and devices, loads the images and builds the
 * device tree. Returns NULL and *err (e.g. a kernel that does not fit) on
 * failure. Free with machine_destroy(). */
struct machine *machine_create(const struct machine_config *cfg, struct verr **err);

/* A machine for incoming state (snapshot restore, migration destination):
 * RAM mapped (zero), devices created from cfg (kernel/initrd/bios may be
 * NULL: nothing is loaded, nothing boots). It starts paused with every hart
 * STOPPED; load a state (vmstate.h), then machine_resume() runs it (on the
 * owner thread, or from another thread once machine_run serves actions). */
struct machine *machine_create_incoming(const struct machine_config *cfg, struct verr **err);

/* The device tree of the current boot (borrowed until the next reset). */
const void *machine_dtb(const struct machine *m, size_t *len);

/* Runs the machine on the calling thread until the guest powers off, fails,
 * or the user quits; a guest reboot reloads the images and continues.
 * Returns the exit status (0 on poweroff, the guest's code for a reported
 * failure), or -1 with *err when the guest cannot continue. */
int machine_run(struct machine *m, struct verr **err);

/* Hands fn(m, arg) to the machine's owner thread (the one in machine_run,
 * or the creating thread before that) and waits for its return value.
 * fn runs without the board lock, serialized with the run loop and every
 * other action, so it may pause/resume, save or load state. Called on the
 * owner thread itself, fn runs at once. Thread-safe. Returns fn's value, or
 * -ESHUTDOWN once machine_run has returned. */
int machine_call(struct machine *m, int (*fn)(struct machine *m, void *arg), void *arg);

/* Pause: every hart stops at an instruction boundary, in-flight disk
 * requests complete, the network and the console stop injecting into the
 * guest, and guest time (mtime) stops. Resume continues it without a jump.
 * Thread-safe (through machine_call). Errors: EALREADY (already in that
 * state), EBUSY (a snapshot or migration holds the VM), ESHUTDOWN. */
int machine_pause(struct machine *m, struct verr **err);
int machine_resume(struct machine *m, struct verr **err);
bool machine_is_paused(struct machine *m);

/* Asks the guest to power off: magic SysRq s (sync), u (remount read-only),
 * o (power off) on the serial console, which Linux honours without any
 * guest agent; machine_run then returns 0 when the guest powers off, or is
 * stopped by force (also status 0, with a warning) after timeout_ms (0:
 * at once). A paused VM is resumed first. Thread-safe. */
int machine_shutdown(struct machine *m, uint64_t timeout_ms, struct verr **err);
bool machine_shutting_down(struct machine *m);

struct vm_api;
/* Serves the control API (docs/api.md) for m on a new Unix socket:
 * GET /vm, POST /vm/pause, /vm/resume, /vm/shutdown, /vm/snapshot. Stop it
 * with vm_api_stop() before machine_destroy(). */
int machine_api_start(struct machine *m, const char *socket_path, struct vm_api **out, struct verr **err);

/* Thread-safe: ask machine_run to return with `status`. */
void machine_request_quit(struct machine *m, int status);

/* Restores the console terminal mode; async-signal-safe. */
void machine_restore_terminal(struct machine *m);

/* Frees everything; accepts NULL and half-built machines. */
void machine_destroy(struct machine *m);

#endif
