/* Private to src/vm/machine: the board's struct, shared by machine.c (boot,
 * run loop, pause), vmstate.c (save/load) and machine_api.c (control API). */
#ifndef VESSEL_VM_MACHINE_INT_H
#define VESSEL_VM_MACHINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/log.h"
#include "vm/backend/chardev.h"
#include "vm/cpu/cpu.h"
#include "vm/dev/aclint.h"
#include "vm/dev/goldfish_rtc.h"
#include "vm/dev/plic.h"
#include "vm/dev/syscon.h"
#include "vm/dev/uart16550.h"
#include "vm/machine/machine.h"
#include "vm/machine/sbi.h"
#include "vm/machine/vmstate.h"
#include "vm/net/net.h"
#include "vm/virtio/virtio_devices.h"

enum machine_req { REQ_NONE, REQ_RESET, REQ_EXIT, REQ_FATAL };

/* An action handed to the owner thread (machine_call). */
struct machine_action {
	struct machine_action *next;
	int (*fn)(struct machine *m, void *arg);
	void *arg;
	int ret;
	bool done;
};

/* Shutdown through the guest (machine_shutdown): magic SysRq s, u, o on the
 * serial console, then a forced stop at the deadline. */
enum machine_shutdown_stage { SHUT_NONE, SHUT_SYNC, SHUT_REMOUNT, SHUT_POWEROFF, SHUT_WAIT };

struct machine {
	struct machine_config cfg;
	struct cpu_shared sh;
	struct hart *harts[VM_MAX_CPUS];
	pthread_t threads[VM_MAX_CPUS];
	unsigned nr_started; /* hart threads running (0 while paused) */

	pthread_mutex_t lock; /* the board lock: devices, requests, actions */
	pthread_cond_t cond;  /* requests and actions for the owner; action completions */
	enum machine_req req;
	int exit_status;
	char fatal_msg[160];

	/* the owner thread's action loop */
	pthread_t owner;
	bool loop_running;  /* machine_run is serving actions */
	bool loop_closed;   /* machine_run returned: actions fail */
	struct machine_action *actions, *actions_tail;

	/* pause: guest time stops (time_base_ns moves on resume) */
	bool paused;         /* written by the owner under lock */
	int64_t paused_at_ns;
	uint64_t created_ns;
	unsigned busy;       /* snapshot (or migration) in progress: refuse pause/resume */
	/* the current or last snapshot (vmstate.c), under lock */
	struct {
		enum machine_snapshot_status status;
		uint64_t t0_ns, ms, total_ms;
		struct snapshot_shared *shared; /* the writer's progress while active */
		uint32_t phase;			/* once over */
		uint64_t bytes, total_bytes;	/* once over */
		char path[PATH_MAX];
		char error[256];
	} snap;

	enum machine_shutdown_stage shut_stage;
	uint64_t shut_next_ns, shut_deadline_ns;

	_Atomic uint64_t console_out_bytes, console_in_bytes;

	struct aclint aclint;
	struct plic plic;
	struct uart16550 uart;
	struct goldfish_rtc rtc;
	struct syscon syscon;
	struct dev_region regions[5 + VM_VIRTIO_SLOTS];
	unsigned nr_regions;

	/* virtio devices and the host resources behind them */
	struct guest_mem gmem;
	unsigned nr_virtio;
	struct block *disks[VM_MAX_DISKS];
	struct virtio_blk *vblk[VM_MAX_DISKS];
	struct net_backend *net;
	struct virtio_net *vnet;
	struct virtio_rng *vrng;
	struct virtio_console *vcon; /* when the console is hvc0 */

	struct chardev *console;
	struct sbi_env sbi;
	struct log_ratelimit mmio_rl;

	void *dtb;
	size_t dtb_len;
	uint64_t dtb_gpa;

	/* RAM mapped from a snapshot file (restore): ram_hva covers it */
	bool ram_from_file;

	/* loading a state (vmstate.c) */
	struct {
		bool config;
		uint32_t cpus, devs, vdev; /* bit per hart, region, virtio slot */
	} loaded;
	uint64_t loaded_mtime;
	/* live migration (migration.c), created on first use */
	struct machine_migration *migration;
	/* images a restored VM reboots with (cfg points here) */
	char *owned_kernel, *owned_initrd, *owned_bios, *owned_cmdline;
};

/* Owner thread only: stop/start the hart threads. */
void machine_stop_harts(struct machine *m);
int machine_start_harts(struct machine *m, struct verr **err);

#endif
