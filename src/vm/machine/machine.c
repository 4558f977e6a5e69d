#include "vm/machine/machine.h"
#include "vm/machine/machine_int.h"
#include "vm/machine/migration.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/util.h"
#include "vm/machine/fdt.h"
#include "vm/machine/loader.h"

/* fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h), version 2. */
#define FW_DYNAMIC_INFO_MAGIC 0x4942534full
#define FW_DYNAMIC_INFO_VERSION 2
#define FW_DYNAMIC_INFO_NEXT_MODE_S 1
struct fw_dynamic_info {
	uint64_t magic, version, next_addr, next_mode, options, boot_hart;
};

/* ---- requests from guests and the user ---- */

static void machine_request_locked(struct machine *m, enum machine_req req, int status)
{
	/* The first exit wins; a reset never overrides an exit. */
	if (m->req == REQ_EXIT || m->req == REQ_FATAL)
		return;
	m->req = req;
	m->exit_status = status;
	pthread_cond_broadcast(&m->cond);
}

void machine_request_quit(struct machine *m, int status)
{
	pthread_mutex_lock(&m->lock);
	machine_request_locked(m, REQ_EXIT, status);
	pthread_mutex_unlock(&m->lock);
}

static void syscon_request(void *opaque, enum syscon_action action, uint32_t code)
{
	struct machine *m = opaque;
	switch (action) {
	case SYSCON_POWEROFF:
		machine_request_locked(m, REQ_EXIT, 0);
		break;
	case SYSCON_RESET:
		machine_request_locked(m, REQ_RESET, 0);
		break;
	case SYSCON_FAIL:
		/* As QEMU's sifive_test, the status is the guest's code; a code
		 * that would read as success (0 mod 256) becomes 1. */
		machine_request_locked(m, REQ_EXIT, (code & 0xff) ? (int)(code & 0xff) : 1);
		break;
	}
}

/* ---- CPU platform callbacks ---- */

static struct dev_region *machine_find(struct machine *m, uint64_t gpa, unsigned size)
{
	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct dev_region *r = &m->regions[i];
		if (gpa >= r->base_gpa && gpa - r->base_gpa < r->size && size <= r->size - (gpa - r->base_gpa))
			return r;
	}
	return NULL;
}

static int machine_mmio_read(void *opaque, struct hart *h, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct machine *m = opaque;
	struct dev_region *r = machine_find(m, gpa, size);
	if (!r) {
		log_ratelimited(&m->mmio_rl, LOG_WARN, "hart %u: read of unmapped address 0x%llx",
				hart_get_id(h), (unsigned long long)gpa);
		return -1;
	}
	pthread_mutex_lock(&m->lock);
	int ret = r->ops->read(r->dev, gpa - r->base_gpa, size, val);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int machine_mmio_write(void *opaque, struct hart *h, uint64_t gpa, unsigned size, uint64_t val)
{
	struct machine *m = opaque;
	struct dev_region *r = machine_find(m, gpa, size);
	if (!r) {
		log_ratelimited(&m->mmio_rl, LOG_WARN, "hart %u: write of unmapped address 0x%llx",
				hart_get_id(h), (unsigned long long)gpa);
		return -1;
	}
	pthread_mutex_lock(&m->lock);
	int ret = r->ops->write(r->dev, gpa - r->base_gpa, size, val);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static void machine_sbi_call(void *opaque, struct hart *h)
{
	struct machine *m = opaque;
	sbi_handle_call(&m->sbi, h);
}

static void machine_fatal(void *opaque, struct hart *h, const char *why)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	if (m->req != REQ_EXIT && m->req != REQ_FATAL)
		snprintf(m->fatal_msg, sizeof(m->fatal_msg), "hart %u at pc 0x%llx: %s", hart_get_id(h),
			 (unsigned long long)hart_get_pc(h), why);
	machine_request_locked(m, REQ_FATAL, 1);
	pthread_mutex_unlock(&m->lock);
}

static const struct cpu_platform_ops machine_cpu_ops = {
	.mmio_read = machine_mmio_read,
	.mmio_write = machine_mmio_write,
	.sbi_call = machine_sbi_call,
	.fatal = machine_fatal,
};

/* ---- console ---- */

static void console_tx(void *opaque, uint8_t c)
{
	struct machine *m = opaque;
	if (m->vcon)
		return; /* the terminal is on hvc0: the UART is unconnected */
	atomic_fetch_add_explicit(&m->console_out_bytes, 1, memory_order_relaxed);
	if (m->console)
		chardev_write(m->console, &c, 1);
}

static void console_rx_space(void *opaque)
{
	struct machine *m = opaque;
	chardev_notify_space(m->console);
}

/* Reader thread: hands typed bytes to the UART's RX FIFO; what does not fit
 * stays in the backend until the guest reads (console_rx_space). */
static size_t console_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	/* nothing reaches a paused guest: the backend keeps the input and
	 * offers it again on resume (chardev_notify_space) */
	size_t n = m->paused ? 0
		   : m->vcon ? virtio_console_input(m->vcon, buf, len)
			     : uart16550_rx_push(&m->uart, buf, len);
	pthread_mutex_unlock(&m->lock);
	atomic_fetch_add_explicit(&m->console_in_bytes, n, memory_order_relaxed);
	return n;
}

/* hvc0 output (board lock held) */
static void vcon_output(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;
	atomic_fetch_add_explicit(&m->console_out_bytes, len, memory_order_relaxed);
	if (m->console)
		chardev_write(m->console, buf, len);
}

static void console_quit(void *opaque)
{
	machine_request_quit(opaque, 0);
}

static void sbi_console_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;
	atomic_fetch_add_explicit(&m->console_out_bytes, len, memory_order_relaxed);
	if (m->console)
		chardev_write(m->console, buf, len);
}

static size_t sbi_console_read(void *opaque, uint8_t *buf, size_t len)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	size_t n = uart16550_rx_take(&m->uart, buf, len);
	pthread_mutex_unlock(&m->lock);
	return n;
}

static void sbi_system_reset(void *opaque, uint32_t type, uint32_t reason)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	if (type == SBI_RESET_SHUTDOWN)
		machine_request_locked(m, REQ_EXIT, reason == 0 ? 0 : 1);
	else
		machine_request_locked(m, REQ_RESET, 0);
	pthread_mutex_unlock(&m->lock);
}

/* ---- interrupt wiring ---- */

static void plic_to_hart(void *opaque, unsigned ctx, bool level)
{
	struct machine *m = opaque;
	hart_set_irq(m->harts[ctx / 2], (ctx & 1) ? MIP_SEIP : MIP_MEIP, level);
}

/* ---- virtio devices ---- */

static void machine_add_slot(struct machine *m, struct virtio_mmio *t)
{
	m->regions[m->nr_regions++] = (struct dev_region){
		.base_gpa = VM_VIRTIO_BASE_GPA + 0x1000ull * m->nr_virtio,
		.size = VIRTIO_MMIO_WINDOW,
		.ops = &virtio_mmio_dev_ops,
		.dev = t,
	};
	m->nr_virtio++;
}

static struct irq_line machine_slot_irq(struct machine *m)
{
	return (struct irq_line){ .set = plic_set_irq, .opaque = &m->plic, .n = 1 + m->nr_virtio };
}

/* Disks first (vda, vdb, ... in the order given), then the NIC, then the
 * RNG, then the console, one virtio-mmio slot each. */
static int machine_add_virtio(struct machine *m, struct verr **err)
{
	const struct machine_config *cfg = &m->cfg;
	m->gmem = (struct guest_mem){ m->sh.ram_hva, m->sh.ram_base_gpa, m->sh.ram_size, &m->sh };
	if (cfg->nr_disks > VM_MAX_DISKS)
		return verr_set(err, 0, "at most %d disks", VM_MAX_DISKS);
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct machine_disk *d = &cfg->disks[i];
		if (block_open_ex(d->path, d->format, d->readonly, d->migrating_in ? BLOCK_OPEN_NOLOCK : 0,
				  &m->disks[i], err) < 0)
			return verr_wrap(err, "--disk");
		char serial[21];
		snprintf(serial, sizeof(serial), "vessel-vd%c", 'a' + i);
		m->vblk[i] = virtio_blk_create(m->disks[i], serial, &m->gmem, machine_slot_irq(m), &m->lock, err);
		if (!m->vblk[i])
			return verr_wrap(err, "--disk '%s'", d->path);
		machine_add_slot(m, virtio_blk_transport(m->vblk[i]));
	}
	if (cfg->net) {
		if (net_backend_open_flags(cfg->net, cfg->net_migrating_in ? NET_OPEN_INCOMING : 0, &m->net, err) < 0)
			return -1;
		if (m->net) {
			m->vnet = virtio_net_create(m->net, cfg->mac, &m->gmem, machine_slot_irq(m), &m->lock, err);
			if (!m->vnet)
				return verr_wrap(err, "--net");
			machine_add_slot(m, virtio_net_transport(m->vnet));
		}
	}
	if (cfg->rng) {
		m->vrng = virtio_rng_create(&m->gmem, machine_slot_irq(m), &m->lock);
		machine_add_slot(m, virtio_rng_transport(m->vrng));
	}
	if (cfg->console_virtio) {
		if (m->nr_virtio == VM_VIRTIO_SLOTS)
			return verr_set(err, 0, "virtio console: all %d virtio-mmio slots are taken (use fewer disks)",
					VM_VIRTIO_SLOTS);
		const struct virtio_console_io io = { .output = vcon_output, .rx_ready = console_rx_space, .opaque = m };
		m->vcon = virtio_console_create(&io, &m->gmem, machine_slot_irq(m), &m->lock);
		machine_add_slot(m, virtio_console_transport(m->vcon));
	}
	return 0;
}

static void machine_destroy_virtio(struct machine *m)
{
	/* backend threads first: they call into the devices */
	net_backend_destroy(m->net);
	m->net = NULL;
	virtio_net_destroy(m->vnet);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		virtio_blk_destroy(m->vblk[i]); /* joins the I/O thread */
		/* what the guest wrote without flushing reaches the disk too */
		if (m->disks[i] && !m->disks[i]->readonly && block_flush(m->disks[i]) < 0)
			log_warn("flush of '%s' failed at exit", m->disks[i]->path);
		block_close(m->disks[i]);
	}
	virtio_rng_destroy(m->vrng);
	virtio_console_destroy(m->vcon);
}

/* ---- boot ---- */

/* Drops every page of guest RAM (reboot). RAM mapped from a snapshot file
 * becomes anonymous memory again (MADV_DONTNEED would bring the file's
 * pages back). */
static int machine_ram_reset(struct machine *m, struct verr **err)
{
	if (m->ram_from_file) {
		void *p = mmap(m->sh.ram_hva, m->sh.ram_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			return verr_set(err, errno, "clear guest RAM");
		m->ram_from_file = false;
		return 0;
	}
	if (madvise(m->sh.ram_hva, m->sh.ram_size, MADV_DONTNEED) < 0)
		return verr_set(err, errno, "clear guest RAM");
	return 0;
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

/* Loads the images, writes the device tree and resets devices and harts.
 * Called with no hart running. */
static int machine_boot(struct machine *m, struct verr **err)
{
	const struct machine_config *cfg = &m->cfg;
	struct vm_ram ram = { m->sh.ram_hva, m->sh.ram_base_gpa, m->sh.ram_size };
	uint64_t ram_end = ram.base_gpa + ram.size;

	/* The device tree goes at the top of RAM (below 3 GiB, as QEMU does
	 * for the firmware's sake), 2 MiB aligned, followed by the
	 * fw_dynamic_info block. Its size does not depend on the initrd
	 * addresses, so build it once to learn the size. */
	struct vm_fdt_info fi = {
		.ram_base_gpa = ram.base_gpa,
		.ram_size = ram.size,
		.nr_harts = cfg->nr_cpus,
		.bootargs = cfg->cmdline,
		.initrd_start_gpa = cfg->initrd ? 1 : 0,
		.initrd_end_gpa = cfg->initrd ? 2 : 0,
		.nr_virtio = m->nr_virtio,
	};
	free(m->dtb);
	m->dtb = NULL;
	if (vm_fdt_build(&fi, &m->dtb, &m->dtb_len, err) < 0)
		return -1;
	uint64_t fdt_top = ram_end < 0xc0000000ull ? ram_end : 0xc0000000ull;
	uint64_t need = ((m->dtb_len + 7) & ~7ull) + sizeof(struct fw_dynamic_info);
	if (need > fdt_top - ram.base_gpa)
		return verr_set(err, 0, "device tree does not fit in RAM");
	m->dtb_gpa = align_down(fdt_top - need, 2ull << 20);
	uint64_t info_gpa = m->dtb_gpa + ((m->dtb_len + 7) & ~7ull);

	struct vm_image fw = { 0 }, kernel = { 0 }, initrd = { 0 };
	uint64_t next_min = ram.base_gpa;
	if (cfg->bios) {
		if (vm_load_image(&ram, cfg->bios, ram.base_gpa, ram.base_gpa, m->dtb_gpa, &fw, err) < 0)
			return verr_wrap(err, "--bios");
		next_min = fw.end_gpa;
	}
	if (cfg->kernel) {
		if (vm_load_image(&ram, cfg->kernel, VM_KERNEL_GPA, next_min, m->dtb_gpa, &kernel, err) < 0)
			return verr_wrap(err, "--kernel");
		next_min = kernel.end_gpa;
		log_info("kernel (%s) at 0x%llx-0x%llx, entry 0x%llx", kernel.kind,
			 (unsigned long long)kernel.start_gpa, (unsigned long long)kernel.end_gpa,
			 (unsigned long long)kernel.entry_gpa);
	}
	if (cfg->initrd) {
		if (vm_load_blob_high(&ram, cfg->initrd, next_min, m->dtb_gpa, 4096, &initrd, err) < 0)
			return verr_wrap(err, "--initrd");
		fi.initrd_start_gpa = initrd.start_gpa;
		fi.initrd_end_gpa = initrd.end_gpa;
		free(m->dtb);
		m->dtb = NULL;
		if (vm_fdt_build(&fi, &m->dtb, &m->dtb_len, err) < 0)
			return -1;
	}
	memcpy(ram.hva + (m->dtb_gpa - ram.base_gpa), m->dtb, m->dtb_len);

	if (cfg->bios) {
		struct fw_dynamic_info info = {
			.magic = FW_DYNAMIC_INFO_MAGIC,
			.version = FW_DYNAMIC_INFO_VERSION,
			.next_addr = cfg->kernel ? kernel.entry_gpa : VM_KERNEL_GPA,
			.next_mode = FW_DYNAMIC_INFO_NEXT_MODE_S,
			.options = 0,
			.boot_hart = 0,
		};
		memcpy(ram.hva + (info_gpa - ram.base_gpa), &info, sizeof(info));
	}
	/* the images replaced whatever the harts may have decoded (reboot) */
	cpu_note_ram_write(&m->sh, ram.base_gpa, ram.size);

	/* Fresh harts: all STOPPED, then started as firmware expects. Under
	 * the board lock: the console reader may raise the UART interrupt,
	 * which reaches a hart through the PLIC. */
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < cfg->nr_cpus; i++) {
		hart_destroy(m->harts[i]);
		m->harts[i] = hart_create(&m->sh, i);
	}
	for (unsigned i = 0; i < m->nr_regions; i++)
		m->regions[i].ops->reset(m->regions[i].dev);
	m->req = REQ_NONE;
	pthread_mutex_unlock(&m->lock);
	if (cfg->bios) {
		/* QEMU's reset vector: every hart enters the firmware in M-mode
		 * with a0 = hartid, a1 = dtb, a2 = fw_dynamic_info. */
		for (unsigned i = 0; i < cfg->nr_cpus; i++) {
			hart_reset(m->harts[i], fw.entry_gpa, m->dtb_gpa);
			hart_set_reg(m->harts[i], 12, info_gpa);
		}
	} else {
		hart_enter_supervisor(m->harts[0], kernel.entry_gpa, m->dtb_gpa);
	}
	return 0;
}

static struct machine *machine_new(const struct machine_config *cfg, bool incoming, struct verr **err)
{
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > VM_MAX_CPUS) {
		verr_set(err, 0, "%u cpus: must be 1 to %u", cfg->nr_cpus, VM_MAX_CPUS);
		return NULL;
	}
	if (cfg->ram_size < VM_MIN_RAM || cfg->ram_size > VM_MAX_RAM || (cfg->ram_size & 4095)) {
		verr_set(err, 0, "memory size %llu: must be 16M to 16G, a multiple of 4 KiB",
			 (unsigned long long)cfg->ram_size);
		return NULL;
	}
	if (!incoming && !cfg->kernel && !cfg->bios) {
		verr_set(err, 0, "no --kernel (or --bios) to boot");
		return NULL;
	}
	struct machine *m = xcalloc(1, sizeof(*m));
	m->cfg = *cfg;
	m->created_ns = now_ns();
	m->owner = pthread_self();
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);

	/* Lazily backed RAM: host pages exist only once the guest touches them. */
	void *ram = mmap(NULL, cfg->ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) {
		verr_set(err, errno, "map %llu bytes of guest RAM", (unsigned long long)cfg->ram_size);
		machine_destroy(m);
		return NULL;
	}
	m->sh.ram_hva = ram;
	m->sh.ram_base_gpa = VM_RAM_BASE_GPA;
	m->sh.ram_size = cfg->ram_size;
	m->sh.time_base_ns = (int64_t)now_ns();
	m->sh.sbi_builtin = cfg->bios == NULL;
	m->sh.ops = &machine_cpu_ops;
	m->sh.opaque = m;
	m->sh.harts = m->harts;
	m->sh.nr_harts = cfg->nr_cpus;
	atomic_store(&m->sh.stop, false);
	for (unsigned i = 0; i < cfg->nr_cpus; i++)
		m->harts[i] = hart_create(&m->sh, i);

	aclint_init(&m->aclint, &m->sh);
	plic_init(&m->plic, 2 * cfg->nr_cpus);
	for (unsigned c = 0; c < 2 * cfg->nr_cpus; c++)
		m->plic.out[c] = (struct irq_line){ .set = plic_to_hart, .opaque = m, .n = c };
	uart16550_init(&m->uart);
	m->uart.irq = (struct irq_line){ .set = plic_set_irq, .opaque = &m->plic, .n = UART_IRQ };
	m->uart.tx = console_tx;
	m->uart.rx_space = console_rx_space;
	m->uart.backend_opaque = m;
	goldfish_rtc_init(&m->rtc);
	m->rtc.irq = (struct irq_line){ .set = plic_set_irq, .opaque = &m->plic, .n = RTC_IRQ };
	m->syscon = (struct syscon){ .request = syscon_request, .opaque = m };

	const struct dev_region regions[] = {
		{ SYSCON_BASE_GPA, SYSCON_SIZE, &syscon_ops, &m->syscon },
		{ RTC_BASE_GPA, RTC_SIZE, &goldfish_rtc_ops, &m->rtc },
		{ ACLINT_BASE_GPA, ACLINT_SIZE, &aclint_ops, &m->aclint },
		{ PLIC_BASE_GPA, PLIC_SIZE, &plic_ops, &m->plic },
		{ UART_BASE_GPA, UART_SIZE, &uart16550_ops, &m->uart },
	};
	memcpy(m->regions, regions, sizeof(regions));
	m->nr_regions = ARRAY_SIZE(regions);
	if (machine_add_virtio(m, err) < 0) {
		machine_destroy(m);
		return NULL;
	}

	m->sbi = (struct sbi_env){
		.sh = &m->sh,
		.console_write = sbi_console_write,
		.console_read = sbi_console_read,
		.system_reset = sbi_system_reset,
		.opaque = m,
	};

	if (incoming) {
		/* no images: the harts stay STOPPED until a state is loaded, and
		 * the machine starts paused (machine_resume runs it) */
		m->paused = true;
		m->paused_at_ns = (int64_t)now_ns();
		if (m->vnet)
			virtio_net_set_paused(m->vnet, true);
		net_backend_pause(m->net);
	} else if (machine_boot(m, err) < 0) {
		machine_destroy(m);
		return NULL;
	}
	if (cfg->console_out_fd >= 0) {
		int in_fd = cfg->console_in_fd;
		m->console = chardev_stdio_create(in_fd, cfg->console_out_fd, cfg->console_raw && in_fd >= 0,
						  cfg->console_raw, err);
		if (!m->console) {
			machine_destroy(m);
			return NULL;
		}
	}
	return m;
}

struct machine *machine_create(const struct machine_config *cfg, struct verr **err)
{
	return machine_new(cfg, false, err);
}

struct machine *machine_create_incoming(const struct machine_config *cfg, struct verr **err)
{
	return machine_new(cfg, true, err);
}

const void *machine_dtb(const struct machine *m, size_t *len)
{
	*len = m->dtb_len;
	return m->dtb;
}

static void *hart_thread(void *arg)
{
	hart_run(arg);
	return NULL;
}

int machine_start_harts(struct machine *m, struct verr **err)
{
	atomic_store(&m->sh.stop, false);
	for (m->nr_started = 0; m->nr_started < m->cfg.nr_cpus; m->nr_started++) {
		int r = pthread_create(&m->threads[m->nr_started], NULL, hart_thread, m->harts[m->nr_started]);
		if (r) {
			verr_set(err, r, "start hart %u", m->nr_started);
			machine_stop_harts(m);
			return -1;
		}
	}
	return 0;
}

/* Every hart leaves its run loop at an instruction boundary (hart_run
 * checks sh->stop between slices and in its sleeps), then is joined. */
void machine_stop_harts(struct machine *m)
{
	atomic_store(&m->sh.stop, true);
	for (unsigned i = 0; i < m->cfg.nr_cpus; i++)
		hart_kick(m->harts[i]);
	for (unsigned i = 0; i < m->nr_started; i++)
		pthread_join(m->threads[i], NULL);
	m->nr_started = 0;
}

/* ---- the owner thread's actions ---- */

static bool on_owner(const struct machine *m)
{
	return pthread_equal(pthread_self(), m->owner);
}

int machine_call(struct machine *m, int (*fn)(struct machine *m, void *arg), void *arg)
{
	pthread_mutex_lock(&m->lock);
	bool direct = on_owner(m) && !m->loop_closed;
	if (m->loop_closed) {
		pthread_mutex_unlock(&m->lock);
		return -ESHUTDOWN;
	}
	if (direct) {
		pthread_mutex_unlock(&m->lock);
		return fn(m, arg);
	}
	struct machine_action a = { .fn = fn, .arg = arg };
	if (m->actions_tail)
		m->actions_tail->next = &a;
	else
		m->actions = &a;
	m->actions_tail = &a;
	pthread_cond_broadcast(&m->cond);
	while (!a.done)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	return a.ret;
}

/* Runs queued actions (lock held on entry and exit, dropped around each). */
static void run_actions(struct machine *m)
{
	while (m->actions) {
		struct machine_action *a = m->actions;
		m->actions = a->next;
		if (!m->actions)
			m->actions_tail = NULL;
		pthread_mutex_unlock(&m->lock);
		int ret = a->fn(m, a->arg);
		pthread_mutex_lock(&m->lock);
		a->ret = ret;
		a->done = true;
		pthread_cond_broadcast(&m->cond);
	}
}

/* machine_run has returned: fail every queued and later action. */
static void close_actions(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	m->loop_closed = true;
	m->loop_running = false;
	while (m->actions) {
		struct machine_action *a = m->actions;
		m->actions = a->next;
		a->ret = -ESHUTDOWN;
		a->done = true;
	}
	m->actions_tail = NULL;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* ---- pause / resume (owner thread) ---- */

static int do_pause(struct machine *m, void *arg)
{
	struct verr **err = arg;
	if (m->paused)
		return verr_set(err, EALREADY, "the VM is already paused");
	if (m->busy)
		return verr_set(err, EBUSY, "a snapshot or migration is in progress");
	machine_stop_harts(m);
	/* in-flight disk requests complete into guest RAM now, not later */
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		if (m->vblk[i])
			virtio_blk_drain(m->vblk[i]);
	pthread_mutex_lock(&m->lock);
	m->paused = true;
	m->paused_at_ns = (int64_t)now_ns();
	if (m->vnet)
		virtio_net_set_paused(m->vnet, true);
	pthread_mutex_unlock(&m->lock);
	/* slirp: no timers, no host sockets served, nothing injected */
	net_backend_pause(m->net);
	log_info("VM paused");
	return 0;
}

static int do_resume(struct machine *m, void *arg)
{
	struct verr **err = arg;
	if (!m->paused)
		return verr_set(err, EALREADY, "the VM is not paused");
	if (m->busy)
		return verr_set(err, EBUSY, "a snapshot or migration is in progress");
	/* guest time continues from where it stopped: no jump, no burst of
	 * expired timers */
	m->sh.time_base_ns += (int64_t)now_ns() - m->paused_at_ns;
	pthread_mutex_lock(&m->lock);
	m->paused = false;
	if (m->vnet)
		virtio_net_set_paused(m->vnet, false);
	pthread_mutex_unlock(&m->lock);
	net_backend_resume(m->net);
	if (machine_start_harts(m, err) < 0)
		return -1;
	if (m->console)
		chardev_notify_space(m->console);
	log_info("VM resumed");
	return 0;
}

static int call_with_err(struct machine *m, int (*fn)(struct machine *, void *), struct verr **err)
{
	struct verr *e = NULL;
	int r = machine_call(m, fn, &e);
	if (r == -ESHUTDOWN && !e)
		return verr_set(err, ESHUTDOWN, "the VM has stopped");
	if (r < 0) {
		if (err)
			*err = e;
		else
			verr_free(e);
		return -1;
	}
	verr_free(e);
	return 0;
}

int machine_pause(struct machine *m, struct verr **err)
{
	return call_with_err(m, do_pause, err);
}

int machine_resume(struct machine *m, struct verr **err)
{
	return call_with_err(m, do_resume, err);
}

bool machine_is_paused(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	bool p = m->paused;
	pthread_mutex_unlock(&m->lock);
	return p;
}

/* ---- shutdown through the guest ---- */

/* Magic SysRq on the console (serial: break + key; hvc0: ^O + key):
 * s = emergency sync, u = remount read-only, o = power off. Debian's kernels build serial
 * SysRq in and enable these three by default (kernel.sysrq = 438). */
static void shutdown_tick(struct machine *m, uint64_t now)
{
	static const char keys[] = { [SHUT_SYNC] = 's', [SHUT_REMOUNT] = 'u', [SHUT_POWEROFF] = 'o' };
	if (m->shut_stage == SHUT_NONE)
		return;
	if (now >= m->shut_deadline_ns) {
		log_warn("the guest did not power off in time: stopping it");
		m->shut_stage = SHUT_NONE;
		machine_request_locked(m, REQ_EXIT, 0);
		return;
	}
	if (m->shut_stage == SHUT_WAIT || now < m->shut_next_ns)
		return;
	uint8_t key = (uint8_t)keys[m->shut_stage];
	if (m->vcon) {
		/* hvc0: Linux's hvc driver reads ^O + key as SysRq */
		const uint8_t seq[2] = { 0x0f, key };
		if (virtio_console_input(m->vcon, seq, 2) != 2) {
			m->shut_next_ns = now + 50 * 1000000ull; /* no receive buffers yet */
			return;
		}
	} else {
		if (!uart16550_rx_break(&m->uart)) {
			m->shut_next_ns = now + 50 * 1000000ull; /* the guest has input pending */
			return;
		}
		uart16550_rx_push(&m->uart, &key, 1);
	}
	m->shut_stage++;
	m->shut_next_ns = now + 400 * 1000000ull; /* let sync and remount run */
}

struct shutdown_args {
	uint64_t timeout_ms;
	struct verr **err;
};

static int do_shutdown(struct machine *m, void *arg)
{
	struct shutdown_args *a = arg;
	if (m->paused && do_resume(m, a->err) < 0)
		return -1;
	pthread_mutex_lock(&m->lock);
	uint64_t now = now_ns();
	uint64_t deadline = now + a->timeout_ms * 1000000ull;
	if (m->shut_stage == SHUT_NONE) {
		m->shut_stage = SHUT_SYNC;
		m->shut_next_ns = now;
		m->shut_deadline_ns = deadline;
	} else if (deadline < m->shut_deadline_ns) {
		m->shut_deadline_ns = deadline; /* a second request may shorten the wait */
	}
	if (a->timeout_ms == 0) {
		m->shut_stage = SHUT_NONE;
		machine_request_locked(m, REQ_EXIT, 0);
	}
	pthread_mutex_unlock(&m->lock);
	log_info("shutdown requested (forced after %llu ms)", (unsigned long long)a->timeout_ms);
	return 0;
}

int machine_shutdown(struct machine *m, uint64_t timeout_ms, struct verr **err)
{
	struct shutdown_args a = { .timeout_ms = timeout_ms };
	struct verr *e = NULL;
	a.err = &e;
	int r = machine_call(m, do_shutdown, &a);
	if (r == -ESHUTDOWN && !e)
		return verr_set(err, ESHUTDOWN, "the VM has stopped");
	if (r < 0) {
		*err = e;
		return -1;
	}
	return 0;
}

bool machine_shutting_down(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	bool s = m->shut_stage != SHUT_NONE;
	pthread_mutex_unlock(&m->lock);
	return s;
}

/* ---- the run loop ---- */

static void deadline_in(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	ts->tv_sec += (time_t)(ms / 1000);
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int machine_run(struct machine *m, struct verr **err)
{
	if (m->console && m->cfg.console_in_fd >= 0) {
		struct chardev_handler h = { .input = console_input, .quit = console_quit, .opaque = m };
		int r = chardev_start(m->console, &h);
		if (r < 0)
			return verr_set(err, -r, "console reader thread");
	}
	pthread_mutex_lock(&m->lock);
	m->owner = pthread_self();
	m->loop_running = true;
	bool paused = m->paused;
	pthread_mutex_unlock(&m->lock);
	int ret;
	/* harts already run when the VM was resumed before machine_run */
	if (!paused && m->nr_started == 0 && machine_start_harts(m, err) < 0) {
		ret = -1;
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&m->lock);
		while (m->req == REQ_NONE && !m->actions) {
			if (m->rtc.s.alarm_running || m->shut_stage != SHUT_NONE) {
				/* a pending RTC alarm or shutdown: check every 10 ms */
				struct timespec ts;
				deadline_in(&ts, 10);
				pthread_cond_timedwait(&m->cond, &m->lock, &ts);
				if (!m->paused)
					goldfish_rtc_poll(&m->rtc);
				shutdown_tick(m, now_ns());
			} else {
				pthread_cond_wait(&m->cond, &m->lock);
			}
		}
		if (m->actions && m->req == REQ_NONE) {
			run_actions(m);
			pthread_mutex_unlock(&m->lock);
			continue;
		}
		enum machine_req req = m->req;
		int status = m->exit_status;
		pthread_mutex_unlock(&m->lock);
		machine_stop_harts(m);
		if (req == REQ_EXIT) {
			ret = status;
			goto out;
		}
		if (req == REQ_FATAL) {
			ret = verr_set(err, 0, "the guest cannot continue: %s", m->fatal_msg);
			goto out;
		}
		/* Reboot: a fresh RAM (dropping every page), images reloaded. */
		log_info("guest reboot");
		if (!m->cfg.kernel && !m->cfg.bios) {
			ret = verr_set(err, 0, "reboot: no kernel or firmware to boot (a restored VM reboots with "
					       "the images it was started with, which are not available)");
			goto out;
		}
		if (machine_ram_reset(m, err) < 0 || machine_boot(m, err) < 0) {
			ret = verr_wrap(err, "reboot");
			goto out;
		}
		if (machine_start_harts(m, err) < 0) {
			ret = -1;
			goto out;
		}
	}
out:
	close_actions(m);
	return ret;
}

void machine_restore_terminal(struct machine *m)
{
	if (m)
		chardev_restore_terminal(m->console);
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	/* Stop the reader thread before the state it feeds goes away. */
	if (m->console) {
		machine_request_quit(m, 0);
		chardev_destroy(m->console);
	}
	machine_destroy_virtio(m);
	for (unsigned i = 0; i < VM_MAX_CPUS; i++)
		hart_destroy(m->harts[i]);
	if (m->sh.ram_hva)
		munmap(m->sh.ram_hva, m->sh.ram_size);
	free(m->dtb);
	free(m->owned_kernel);
	free(m->owned_initrd);
	free(m->owned_bios);
	free(m->owned_cmdline);
	machine_migration_free(m);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
