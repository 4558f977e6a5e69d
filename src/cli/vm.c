/* `vessel vm ...`: run a virtual machine in the foreground. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "image/image.h"
#include "vm/machine/machine.h"

static void vm_usage(FILE *f)
{
	fputs("usage: vessel vm run --kernel FILE [options]\n"
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
	      "  --dump-dtb FILE    write the device tree blob to FILE and exit\n"
	      "  -v, --verbose      more log output (repeat for debug)\n"
	      "\n"
	      "not supported yet: --api-socket, --restore, --incoming\n"
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
	OPT_NO_RNG, OPT_CONSOLE,
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

static int vm_run(int argc, char **argv)
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct machine_config cfg = {
		.ram_size = VM_DEFAULT_RAM,
		.nr_cpus = 1,
		.console_in_fd = STDIN_FILENO,
		.console_out_fd = STDOUT_FILENO,
		.console_raw = true,
		.rng = true,
	};
	const char *dump_dtb = NULL, *image = NULL, *name = NULL;
	bool have_mac = false;
	cleanup_free char *image_kernel = NULL;
	cleanup_free char *image_initrd = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg.kernel = optarg;
			break;
		case OPT_INITRD:
			cfg.initrd = optarg;
			break;
		case OPT_APPEND:
			cfg.cmdline = optarg;
			break;
		case OPT_BIOS:
			cfg.bios = optarg;
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &cfg.ram_size) < 0 || cfg.ram_size < VM_MIN_RAM || cfg.ram_size > VM_MAX_RAM ||
			    (cfg.ram_size & 4095)) {
				fprintf(stderr, "vessel vm run: --memory '%s': expected a size from 16M to 16G\n", optarg);
				return 2;
			}
			break;
		case OPT_CPUS: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > VM_MAX_CPUS) {
				fprintf(stderr, "vessel vm run: --cpus '%s': expected a number from 1 to %d\n", optarg,
					VM_MAX_CPUS);
				return 2;
			}
			cfg.nr_cpus = (unsigned)n;
			break;
		}
		case OPT_DUMP_DTB:
			dump_dtb = optarg;
			break;
		case OPT_DISK:
			if (cfg.nr_disks == VM_MAX_DISKS) {
				fprintf(stderr, "vessel vm run: at most %d --disk options\n", VM_MAX_DISKS);
				return 2;
			}
			if (parse_disk(optarg, &cfg.disks[cfg.nr_disks]) < 0)
				return 2;
			cfg.nr_disks++;
			break;
		case OPT_NET:
			cfg.net = optarg;
			break;
		case OPT_MAC:
			if (parse_mac(optarg, cfg.mac) < 0) {
				fprintf(stderr, "vessel vm run: --mac '%s': expected a unicast address like 52:54:00:12:34:56\n",
					optarg);
				return 2;
			}
			have_mac = true;
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_IMAGE:
			image = optarg;
			break;
		case OPT_NO_RNG:
			cfg.rng = false;
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
		case OPT_RESTORE:
		case OPT_INCOMING:
			fprintf(stderr, "vessel vm run: %s is not supported yet\n", argv[optind - 1]);
			return 2;
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
		fprintf(stderr, "vessel vm run: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (image) {
		struct verr *ierr = NULL;
		if (image_resolve(image, &image_kernel, &image_initrd, &ierr) < 0) {
			fprintf(stderr, "vessel vm run: --image: %s\n", ierr->msg);
			verr_free(ierr);
			return 1;
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
	if (!cfg.kernel && !cfg.bios) {
		fprintf(stderr, "vessel vm run: --kernel FILE (or --image NAME) is required\n");
		return 2;
	}
	cleanup_free char *disk0 = cfg.nr_disks ? realpath(cfg.disks[0].path, NULL) : NULL;
	if (!have_mac)
		default_mac(name ? name : disk0, cfg.mac);
	if (dump_dtb) {
		cfg.console_in_fd = cfg.console_out_fd = -1;
		cfg.console_raw = false;
	}

	struct verr *err = NULL;
	struct machine *m = machine_create(&cfg, &err);
	if (!m) {
		fprintf(stderr, "vessel vm run: %s\n", err->msg);
		verr_free(err);
		return 1;
	}
	if (dump_dtb) {
		size_t len;
		const void *dtb = machine_dtb(m, &len);
		int r = write_file_atomic(dump_dtb, dtb, len, 0644);
		machine_destroy(m);
		if (r < 0) {
			fprintf(stderr, "vessel vm run: --dump-dtb '%s': %s\n", dump_dtb, strerror(-r));
			return 1;
		}
		return 0;
	}

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

	int status = machine_run(m, &err);
	machine_destroy(m);
	vm_signal_machine = NULL;
	if (status < 0) {
		fprintf(stderr, "\r\nvessel vm run: %s\n", err->msg);
		verr_free(err);
		return 1;
	}
	return status;
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
	fprintf(stderr, "vessel vm: unknown command '%s' (try: vessel vm --help)\n", argv[1]);
	return 2;
}
