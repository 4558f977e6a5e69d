/* `vessel vm ...`: run a virtual machine in the foreground. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "image/image.h"
#include "vm/api/api.h"
#include "vm/machine/machine.h"
#include "vm/machine/migration.h"
#include "vm/machine/vmstate.h"
#include "vm/state/snap.h"

static void vm_usage(FILE *f)
{
	fputs("usage: vessel vm run --kernel FILE [options]\n"
	      "       vessel vm run --restore SNAPSHOT [--disk ...] [--net ...] [options]\n"
	      "       vessel vm clone SNAPSHOT NAME [--dir DIR] [run options]\n"
	      "       vessel vm status|pause|resume --api-socket PATH [--json]\n"
	      "       vessel vm shutdown --api-socket PATH [--timeout SECONDS]\n"
	      "       vessel vm snapshot --api-socket PATH [--paused] [--json] FILE\n"
	      "       vessel vm run --incoming tcp:HOST:PORT --memory SIZE [--disk ...] [--net ...]\n"
	      "       vessel vm migrate --api-socket PATH --to tcp:HOST:PORT [--mode precopy|postcopy]\n"
	      "                         [--precopy-rounds N] [--disks shared|copy] [--max-downtime-ms N]\n"
	      "                         [--wait] [--json]\n"
	      "       vessel vm migrate-postcopy|migrate-cancel --api-socket PATH\n"
	      "\n"
	      "Runs a RISC-V RV64GC virtual machine (QEMU `virt` compatible board) in the\n"
	      "foreground with its console on stdio. Ctrl-A x quits, Ctrl-A h helps.\n"
	      "\n"
	      "options:\n"
	      "  --kernel FILE      Linux Image or ELF, loaded at 0x80200000\n"
	      "  --initrd FILE      initial ramdisk\n"
	      "  --append CMDLINE   kernel command line\n"
	      "  --bios FILE        M-mode firmware at 0x80000000 (e.g. OpenSBI fw_dynamic.bin);\n"
	      "                     default: the built-in SBI\n"
	      "  --memory SIZE      guest RAM, 16M to 16G (default 256M)\n"
	      "  --cpus N           harts, 1 to 8 (default 1)\n"
	      "  --image NAME       boot a pulled image (vessel image pull NAME): its kernel\n"
	      "                     and initramfs, unless --kernel/--initrd are given\n"
	      "  --disk FILE[,format=raw|qcow2][,readonly]\n"
	      "                     a virtio-blk disk (vda, vdb, ... in order; up to 6)\n"
	      "  --net none|user[,hostfwd=tcp:HOSTPORT-:GUESTPORT]|tap:IFNAME\n"
	      "                     a virtio-net NIC: user-mode networking (NAT, DHCP on\n"
	      "                     10.0.2.0/24) or a TAP interface (created if missing)\n"
	      "  --mac XX:XX:XX:XX:XX:XX\n"
	      "                     the NIC's address (default: derived from --name, or\n"
	      "                     from the first disk's path, else random)\n"
	      "  --name NAME        the VM's name (used for the default MAC)\n"
	      "  --no-rng           no virtio-rng entropy device\n"
	      "  --console serial|virtio\n"
	      "                     where the terminal is connected: the NS16550A UART\n"
	      "                     (ttyS0, default) or a virtio-console (hvc0; the UART\n"
	      "                     stays, unconnected); boot with --append console=hvc0\n"
	      "                     (the default cmdline of --image does)\n"
	      "  --api-socket PATH  serve the control API (HTTP+JSON, docs/api.md) on PATH\n"
	      "  --restore FILE     resume a snapshot (RAM mapped lazily from FILE, which\n"
	      "                     must stay in place while the VM runs); the machine's\n"
	      "                     shape comes from it: --disk/--net/--mac override\n"
	      "  --force-disks      restore even if a disk changed since the snapshot\n"
	      "  --paused           restore without running the guest (resume it through\n"
	      "                     the API)\n"
	      "  --dump-dtb FILE    write the device tree blob to FILE and exit\n"
	      "  -v, --verbose      more log output (repeat for debug)\n"
	      "\n"
	      "  --incoming tcp:HOST:PORT\n"
	      "                     receive a live migration (docs/migration.md): give the\n"
	      "                     source's --memory, --cpus, --disk (same files: shared\n"
	      "                     storage; with `vm migrate --disks copy`, own images of\n"
	      "                     the same sizes) and --net; no --kernel. hostfwd ports\n"
	      "                     the source holds on this host are handed over\n"
	      "\n"
	      "Exit status: 0 when the guest powers off; the guest's code when it reports\n"
	      "a failure through the test device; 1 when it cannot continue; 2 for bad usage.\n",
	      f);
}

static struct machine *vm_signal_machine;

static void vm_on_signal(int sig)
{
	machine_restore_terminal(vm_signal_machine);
	signal(sig, SIG_DFL);
	raise(sig);
}

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_BIOS, OPT_MEMORY, OPT_CPUS, OPT_DUMP_DTB,
	OPT_DISK, OPT_NET, OPT_API, OPT_RESTORE, OPT_INCOMING, OPT_HELP, OPT_IMAGE, OPT_MAC, OPT_NAME,
	OPT_NO_RNG, OPT_CONSOLE, OPT_FORCE_DISKS, OPT_DIR, OPT_PAUSED,
};

/* FILE[,format=raw|qcow2][,readonly] */
static int parse_disk(char *spec, struct machine_disk *d)
{
	char *save = NULL;
	char *path = strtok_r(spec, ",", &save);
	if (!path || !*path) {
		fprintf(stderr, "vessel vm run: --disk: a file name is required\n");
		return -1;
	}
	*d = (struct machine_disk){ .path = path, .format = BLOCK_FMT_AUTO };
	for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strncmp(o, "format=", 7) == 0) {
			if (block_format_parse(o + 7, &d->format) < 0) {
				fprintf(stderr, "vessel vm run: --disk '%s': format '%s' is not raw or qcow2\n", path,
					o + 7);
				return -1;
			}
		} else if (strcmp(o, "readonly") == 0 || strcmp(o, "readonly=on") == 0) {
			d->readonly = true;
		} else {
			fprintf(stderr, "vessel vm run: --disk '%s': unknown option '%s' (known: format=, readonly)\n",
				path, o);
			return -1;
		}
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6 ||
	    strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1) /* multicast bit: not a station address */
		return -1;
	return 0;
}

/* A locally administered address from a stable key (FNV-1a), or random. */
static void default_mac(const char *key, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	if (key) {
		for (const char *p = key; *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	} else {
		FILE *f = fopen("/dev/urandom", "r");
		if (!f || fread(&h, sizeof(h), 1, f) != 1)
			h ^= (uint64_t)getpid() << 16 ^ now_ns();
		if (f)
			fclose(f);
	}
	mac[0] = 0x52; /* 52:54:00 like QEMU: locally administered, unicast */
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* The state of a --restore in progress: the reader stays open while the
 * machine loads the rest of the stream. */
struct restore_ctx {
	struct vstream *s;
	struct snap_reader *r;
	struct vmstate_config vc;
	struct snap_section first;
	bool have_vc;
};

static void restore_ctx_free(struct restore_ctx *rc)
{
	snap_reader_destroy(rc->r);
	vstream_destroy(rc->s);
	if (rc->have_vc)
		vmstate_config_free(&rc->vc);
}

/* Opens a snapshot and decodes its first section, the machine's config. */
static int restore_open(const char *path, struct restore_ctx *rc, struct verr **err)
{
	if (vstream_file_reader(path, &rc->s, err) < 0 || snap_reader_new(rc->s, SNAP_R_LAZY_RAM, &rc->r, err) < 0)
		return -1;
	if (snap_reader_header(rc->r)->flags & SNAP_F_STREAM)
		return verr_set(err, EINVAL, "a migration stream, not a snapshot");
	int n = snap_reader_next(rc->r, &rc->first, err);
	if (n < 0)
		return -1;
	if (n == 0 || strcmp(rc->first.name, "machine"))
		return verr_set(err, EINVAL, "the first section is not the machine's configuration");
	if (vmstate_config_parse(&rc->first, &rc->vc, err) < 0)
		return -1;
	rc->have_vc = true;
	return 0;
}

/* Creates the overlays of a clone: DIR/NAME-vdX.qcow2 backed by each disk
 * of the snapshot. */
static int clone_disks(const struct vmstate_config *vc, const char *name, const char *dir, struct machine_config *cfg,
		       char **paths, bool *created, struct verr **err)
{
	for (unsigned i = 0; i < vc->cfg.nr_disks; i++) {
		paths[i] = xasprintf("%s/%s-vd%c.qcow2", dir, name, 'a' + i);
		if (access(paths[i], F_OK) == 0)
			return verr_set(err, EEXIST, "clone disk '%s' exists already (remove it or pick another name)",
					paths[i]);
		if (qcow2_create(paths[i], vc->disks[i].virtual_size, vc->disks[i].path, err) < 0)
			return verr_wrap(err, "create overlay of '%s'", vc->disks[i].path);
		created[i] = true;
		cfg->disks[i] = (struct machine_disk){ .path = paths[i], .format = BLOCK_FMT_QCOW2,
						       .readonly = vc->disks[i].readonly };
	}
	cfg->nr_disks = vc->cfg.nr_disks;
	return 0;
}

/* --incoming: tell whoever starts the source that we are ready. */
static void vm_on_listen(void *opaque, const char *addr)
{
	fprintf(stderr, "%s: waiting for the migration on %s\n", (const char *)opaque, addr);
}

/* A VM that left by migration says so, with the figures. */
static void vm_report_migration(struct machine *m, const char *prog)
{
	struct migrate_progress p;
	machine_migration_progress(m, &p);
	if (p.state == MIGRATE_COMPLETED)
		fprintf(stderr, "\r\n%s: migrated (%s): total %llu ms, downtime %.2f ms, %u rounds, %llu bytes\n", prog,
			migrate_mode_name(p.mode), (unsigned long long)p.total_ms, (double)p.downtime_us / 1000,
			p.round, (unsigned long long)p.bytes);
}

static int vm_run_main(int argc, char **argv, const char *clone_snapshot, const char *clone_name)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "bios", required_argument, NULL, OPT_BIOS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "api-socket", required_argument, NULL, OPT_API },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "no-rng", no_argument, NULL, OPT_NO_RNG },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "force-disks", no_argument, NULL, OPT_FORCE_DISKS },
		{ "paused", no_argument, NULL, OPT_PAUSED },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t t_start = now_ns();
	struct machine_config cfg = {
		.ram_size = VM_DEFAULT_RAM,
		.nr_cpus = 1,
		.console_in_fd = STDIN_FILENO,
		.console_out_fd = STDOUT_FILENO,
		.console_raw = true,
		.rng = true,
	};
	const char *dump_dtb = NULL, *image = NULL, *name = clone_name, *api_socket = NULL;
	const char *restore = clone_snapshot, *clone_dir = ".", *incoming = NULL;
	bool have_mac = false, force_disks = false, shape_given = false, net_given = false, start_paused = false;
	cleanup_free char *image_kernel = NULL;
	cleanup_free char *image_initrd = NULL;
	const char *prog = clone_snapshot ? "vessel vm clone" : "vessel vm run";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg.kernel = optarg;
			shape_given = true;
			break;
		case OPT_INITRD:
			cfg.initrd = optarg;
			shape_given = true;
			break;
		case OPT_APPEND:
			cfg.cmdline = optarg;
			shape_given = true;
			break;
		case OPT_BIOS:
			cfg.bios = optarg;
			shape_given = true;
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &cfg.ram_size) < 0 || cfg.ram_size < VM_MIN_RAM || cfg.ram_size > VM_MAX_RAM ||
			    (cfg.ram_size & 4095)) {
				fprintf(stderr, "%s: --memory '%s': expected a size from 16M to 16G\n", prog, optarg);
				return 2;
			}
			shape_given = true;
			break;
		case OPT_CPUS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > VM_MAX_CPUS) {
				fprintf(stderr, "%s: --cpus '%s': expected a number from 1 to %d\n", prog, optarg,
					VM_MAX_CPUS);
				return 2;
			}
			cfg.nr_cpus = (unsigned)n;
			shape_given = true;
			break;
		}
		case OPT_DUMP_DTB:
			dump_dtb = optarg;
			break;
		case OPT_DISK:
			if (cfg.nr_disks == VM_MAX_DISKS) {
				fprintf(stderr, "%s: at most %d --disk options\n", prog, VM_MAX_DISKS);
				return 2;
			}
			if (parse_disk(optarg, &cfg.disks[cfg.nr_disks]) < 0)
				return 2;
			cfg.nr_disks++;
			break;
		case OPT_NET:
			cfg.net = optarg;
			net_given = true;
			break;
		case OPT_MAC:
			if (parse_mac(optarg, cfg.mac) < 0) {
				fprintf(stderr, "%s: --mac '%s': expected a unicast address like 52:54:00:12:34:56\n",
					prog, optarg);
				return 2;
			}
			have_mac = true;
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_IMAGE:
			image = optarg;
			shape_given = true;
			break;
		case OPT_NO_RNG:
			cfg.rng = false;
			shape_given = true;
			break;
		case OPT_CONSOLE:
			/* ttyS0/hvc0: the guest's names for them, as users of
			 * console= know them */
			if (strcmp(optarg, "serial") == 0 || strcmp(optarg, "ttyS0") == 0) {
				cfg.console_virtio = false;
			} else if (strcmp(optarg, "virtio") == 0 || strcmp(optarg, "hvc0") == 0) {
				cfg.console_virtio = true;
			} else {
				fprintf(stderr, "vessel vm run: --console '%s': expected serial (ttyS0) or virtio (hvc0)\n",
					optarg);
				return 2;
			}
			break;
		case OPT_API:
			api_socket = optarg;
			break;
		case OPT_RESTORE:
			if (clone_snapshot) {
				fprintf(stderr, "%s: --restore: the snapshot is the first argument\n", prog);
				return 2;
			}
			restore = optarg;
			break;
		case OPT_FORCE_DISKS:
			force_disks = true;
			break;
		case OPT_PAUSED:
			start_paused = true;
			break;
		case OPT_DIR:
			if (!clone_snapshot) {
				fprintf(stderr, "%s: --dir is an option of vessel vm clone\n", prog);
				return 2;
			}
			clone_dir = optarg;
			break;
		case OPT_INCOMING:
			if (clone_snapshot) {
				fprintf(stderr, "%s: --incoming is an option of vessel vm run\n", prog);
				return 2;
			}
			incoming = optarg;
			break;
		case 'v':
			log_level_current++;
			break;
		case OPT_HELP:
			vm_usage(stdout);
			return 0;
		default:
			vm_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return 2;
	}
	struct verr *err = NULL;
	struct restore_ctx rc = { 0 };
	char *clone_paths[VM_MAX_DISKS] = { 0 };
	bool clone_created[VM_MAX_DISKS] = { 0 };
	int ret = 1;
	struct machine *m = NULL;
	struct vm_api *api = NULL;
	if (incoming && (restore || dump_dtb || start_paused)) {
		fprintf(stderr, "%s: --incoming cannot be combined with --restore, --paused or --dump-dtb\n", prog);
		return 2;
	}
	if (restore) {
		if (shape_given || dump_dtb) {
			fprintf(stderr, "%s: the machine (memory, cpus, images, rng) comes from the snapshot: "
					"only --disk, --net, --mac, --name, --api-socket may be given with it\n", prog);
			return 2;
		}
		if (restore_open(restore, &rc, &err) < 0) {
			verr_wrap(&err, "restore '%s'", restore);
			goto fail;
		}
		/* the snapshot's machine, with the console of this process and
		 * the overrides given */
		struct machine_config sc = rc.vc.cfg;
		sc.console_in_fd = cfg.console_in_fd;
		sc.console_out_fd = cfg.console_out_fd;
		sc.console_raw = cfg.console_raw;
		if (cfg.nr_disks) {
			memcpy(sc.disks, cfg.disks, sizeof(sc.disks));
			sc.nr_disks = cfg.nr_disks;
		}
		if (net_given) {
			if (!strcmp(cfg.net, "none") != !rc.vc.cfg.net) {
				fprintf(stderr, "%s: --net: the snapshot's VM %s a NIC; a restore keeps the devices\n",
					prog, rc.vc.cfg.net ? "has" : "has no");
				ret = 2;
				goto out;
			}
			sc.net = cfg.net;
		}
		if (clone_snapshot) {
			if (clone_disks(&rc.vc, clone_name, clone_dir, &sc, clone_paths, clone_created, &err) < 0) {
				verr_wrap(&err, "clone '%s'", clone_name);
				goto fail;
			}
			if (!have_mac)
				default_mac(clone_name, sc.mac);
		}
		if (have_mac)
			memcpy(sc.mac, cfg.mac, 6);
		if (!force_disks && vmstate_check_disks(&rc.vc, &sc, &err) < 0) {
			verr_wrap(&err, "restore '%s'", restore);
			goto fail;
		}
		cfg = sc;
	} else {
		if (image) {
			if (image_resolve(image, &image_kernel, &image_initrd, &err) < 0) {
				verr_wrap(&err, "--image");
				goto fail;
			}
			if (!cfg.kernel)
				cfg.kernel = image_kernel;
			if (!cfg.initrd)
				cfg.initrd = image_initrd;
			if (!cfg.cmdline && cfg.console_virtio)
				cfg.cmdline = cfg.nr_disks ? "console=hvc0 root=/dev/vda" : "console=hvc0";
			else if (!cfg.cmdline)
				cfg.cmdline = cfg.nr_disks ? "console=ttyS0 root=/dev/vda" : "console=ttyS0";
		}
		if (!cfg.kernel && !cfg.bios && !incoming) {
			fprintf(stderr, "%s: --kernel FILE (or --image NAME, --restore SNAPSHOT, --incoming) is required\n",
				prog);
			return 2;
		}
		cleanup_free char *disk0 = cfg.nr_disks ? realpath(cfg.disks[0].path, NULL) : NULL;
		if (!have_mac)
			default_mac(name ? name : disk0, cfg.mac);
	}
	if (start_paused && (!restore || !api_socket)) {
		fprintf(stderr, "%s: --paused needs --restore and --api-socket (POST /vm/resume starts it)\n", prog);
		ret = 2;
		goto out;
	}
	if (dump_dtb) {
		cfg.console_in_fd = cfg.console_out_fd = -1;
		cfg.console_raw = false;
	}

	uint64_t t_restore = now_ns();
	/* shared storage: the source holds the disks until the switch */
	for (unsigned i = 0; incoming && i < cfg.nr_disks; i++)
		cfg.disks[i].migrating_in = true;
	/* one host: the source holds the hostfwd ports until the switch */
	cfg.net_migrating_in = incoming != NULL;
	struct timespec cpu0;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
	m = restore || incoming ? machine_create_incoming(&cfg, &err) : machine_create(&cfg, &err);
	if (!m)
		goto fail;
	if (restore) {
		log_debug("restore: machine created in %.2f ms", (double)(now_ns() - t_restore) / 1e6);
		if (machine_load_section(m, &rc.first, &err) < 0 ||
		    machine_load_state(m, rc.r, getenv("VESSEL_RESTORE_COPY") ? 0 : VMSTATE_MAP_RAM, &err) < 0 ||
		    (!start_paused && machine_resume(m, &err) < 0)) {
			verr_wrap(&err, "restore '%s'", restore);
			goto fail;
		}
		uint64_t t_run = now_ns();
		struct timespec cpu1;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
		double cpu_ms = (double)(cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e6;
		/* wall clock from the start of the restore (and of the process)
		 * to the hart threads started on the loaded state; the CPU time
		 * the restore used does not depend on the host's load */
		log_info("restore: guest running %.2f ms after the restore started (%.2f ms after process start; "
			 "%.2f ms of CPU)",
			 (double)(t_run - t_restore) / 1e6, (double)(t_run - t_start) / 1e6, cpu_ms);
	}
	if (dump_dtb) {
		size_t len;
		const void *dtb = machine_dtb(m, &len);
		int r = write_file_atomic(dump_dtb, dtb, len, 0644);
		machine_destroy(m);
		if (r < 0) {
			fprintf(stderr, "%s: --dump-dtb '%s': %s\n", prog, dump_dtb, strerror(-r));
			return 1;
		}
		return 0;
	}
	if (api_socket && machine_api_start(m, api_socket, &api, &err) < 0)
		goto fail;

	/* The terminal is in raw mode from here: restore it on every exit,
	 * signals included. A closed stdout must not kill the VMM. */
	vm_signal_machine = m;
	struct sigaction sa = { .sa_handler = vm_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = incoming ? machine_run_incoming(m, incoming, vm_on_listen, (void *)prog, NULL, &err)
			      : machine_run(m, &err);
	vm_api_stop(api);
	vm_report_migration(m, prog);
	api = NULL;
	machine_destroy(m);
	m = NULL;
	vm_signal_machine = NULL;
	if (status < 0) {
		fprintf(stderr, "\r\n%s: %s\n", prog, err->msg);
		verr_free(err);
		ret = 1;
		goto out;
	}
	ret = status;
	goto out;
fail:
	fprintf(stderr, "%s: %s\n", prog, err ? err->msg : "failed");
	verr_free(err);
	ret = 1;
	/* a clone that never ran leaves no overlays behind */
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		if (clone_paths[i] && clone_created[i])
			unlink(clone_paths[i]);
out:
	vm_api_stop(api);
	machine_destroy(m);
	restore_ctx_free(&rc);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		free(clone_paths[i]);
	return ret;
}

static int vm_run(int argc, char **argv)
{
	return vm_run_main(argc, argv, NULL, NULL);
}

/* vessel vm clone SNAPSHOT NAME [run options] */
static int vm_clone(int argc, char **argv)
{
	if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
		fprintf(stderr, "usage: vessel vm clone SNAPSHOT NAME [--dir DIR] [--net ...] [--api-socket PATH] ...\n");
		return 2;
	}
	const char *snap = argv[1], *name = argv[2];
	if (!*name || strchr(name, '/')) {
		fprintf(stderr, "vessel vm clone: NAME '%s' must be a plain name\n", name);
		return 2;
	}
	/* the options follow: shift them into place for getopt */
	argv[2] = argv[0];
	return vm_run_main(argc - 2, argv + 2, snap, name);
}

/* ---- control API clients ---- */

/* Prints the server's error (its message chain) and returns 1. */
static int api_failed(const char *cmd, long status, json_t *reply)
{
	json_t *e = reply ? json_object_get(reply, "error") : NULL;
	fprintf(stderr, "vessel vm %s: %s (HTTP %ld)\n", cmd, json_is_string(e) ? json_string_value(e) : "failed",
		status);
	return 1;
}

static int api_request(const char *cmd, const char *sock, const char *method, const char *path, json_t *body,
		       json_t **reply, long *status)
{
	struct verr *err = NULL;
	if (vm_api_call(sock, method, path, body, status, reply, &err) < 0) {
		fprintf(stderr, "vessel vm %s: %s\n", cmd, err->msg);
		verr_free(err);
		return -1;
	}
	return 0;
}

static void print_status(json_t *r)
{
	printf("state:   %s\n", json_string_value(json_object_get(r, "state")) ?: "?");
	const char *op = json_string_value(json_object_get(r, "operation"));
	if (op && strcmp(op, "none"))
		printf("doing:   %s (%s)\n", op, json_string_value(json_object_get(r, "operation_phase")) ?: "?");
	printf("cpus:    %lld\n", (long long)json_integer_value(json_object_get(r, "cpus")));
	printf("memory:  %lld MiB\n", (long long)json_integer_value(json_object_get(r, "memory")) >> 20);
	printf("uptime:  %.1f s\n", (double)json_integer_value(json_object_get(r, "uptime_ms")) / 1000);
	const char *key;
	json_t *d;
	json_object_foreach(json_object_get(r, "devices"), key, d)
	{
		printf("%-8s %s", key, json_string_value(json_object_get(d, "type")) ?: "");
		const char *k2;
		json_t *v;
		json_object_foreach(d, k2, v)
		{
			if (json_is_integer(v))
				printf(" %s=%lld", k2, (long long)json_integer_value(v));
			else if (json_is_string(v) && strcmp(k2, "type"))
				printf(" %s=%s", k2, json_string_value(v));
		}
		printf("\n");
	}
}

/* vessel vm status|pause|resume|shutdown --api-socket PATH ... */
static int vm_client(int argc, char **argv)
{
	const char *cmd = argv[0];
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },	{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	bool json_out = false;
	long timeout = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'j': json_out = true; break;
		case 't': {
			char *end;
			timeout = strtol(optarg, &end, 10);
			if (!*optarg || *end || timeout < 0 || timeout > VM_API_SHUTDOWN_MAX_S) {
				fprintf(stderr, "vessel vm %s: --timeout '%s': expected seconds from 0 to %d\n", cmd,
					optarg, VM_API_SHUTDOWN_MAX_S);
				return 2;
			}
			break;
		}
		case 'h': vm_usage(stdout); return 0;
		default: vm_usage(stderr); return 2;
		}
	}
	if (!sock) {
		fprintf(stderr, "vessel vm %s: --api-socket PATH is required\n", cmd);
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "vessel vm %s: unexpected argument\n", cmd);
		return 2;
	}
	if (timeout >= 0 && strcmp(cmd, "shutdown")) {
		fprintf(stderr, "vessel vm %s: option not valid for this command\n", cmd);
		return 2;
	}
	json_t *reply = NULL, *body = NULL;
	long status = 0;
	int ret;
	if (!strcmp(cmd, "status")) {
		if (api_request(cmd, sock, "GET", "/vm", NULL, &reply, &status) < 0)
			return 1;
		if (status != 200)
			ret = api_failed(cmd, status, reply);
		else if (json_out) {
			char *s = json_dumps(reply, JSON_INDENT(2));
			printf("%s\n", s);
			free(s);
			ret = 0;
		} else {
			print_status(reply);
			ret = 0;
		}
	} else {
		char path[32];
		snprintf(path, sizeof(path), "/vm/%s", cmd);
		if (timeout >= 0)
			body = json_pack("{s:I}", "timeout_s", (json_int_t)timeout);
		if (api_request(cmd, sock, "POST", path, body, &reply, &status) < 0) {
			json_decref(body);
			return 1;
		}
		ret = status == 204 || status == 200 ? 0 : api_failed(cmd, status, reply);
	}
	json_decref(body);
	json_decref(reply);
	return ret;
}

int cli_vm_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		vm_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return vm_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "clone") == 0)
		return vm_clone(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate") == 0)
		return cli_vm_migrate(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate-postcopy") == 0)
		return cli_vm_migrate_postcopy(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate-cancel") == 0)
		return cli_vm_migrate_cancel(argc - 1, argv + 1);
	if (strcmp(argv[1], "snapshot") == 0)
		return cli_vm_snapshot(argc - 1, argv + 1);
	static const char *const client_cmds[] = { "status", "pause", "resume", "shutdown" };
	for (size_t i = 0; i < ARRAY_SIZE(client_cmds); i++)
		if (strcmp(argv[1], client_cmds[i]) == 0)
			return vm_client(argc - 1, argv + 1);
	fprintf(stderr, "vessel vm: unknown command '%s' (try: vessel vm --help)\n", argv[1]);
	return 2;
}
