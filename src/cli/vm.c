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
	      "  --dump-dtb FILE    write the device tree blob to FILE and exit\n"
	      "  -v, --verbose      more log output (repeat for debug)\n"
	      "\n"
	      "not supported yet: --disk, --net, --api-socket, --restore, --incoming\n"
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
	OPT_DISK, OPT_NET, OPT_API, OPT_RESTORE, OPT_INCOMING, OPT_HELP,
};

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
	};
	const char *dump_dtb = NULL;
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
		case OPT_NET:
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
	if (!cfg.kernel && !cfg.bios) {
		fprintf(stderr, "vessel vm run: --kernel FILE is required\n");
		return 2;
	}
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
