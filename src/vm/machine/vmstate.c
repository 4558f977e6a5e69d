/* Save and load of the machine's non-RAM state (vmstate.h). */
#include "vm/machine/vmstate.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/machine/machine_int.h"

#define MACHINE_SEC_VERSION 1
#define CPU_SEC_VERSION	    1
#define DEV_SEC_VERSION	    1
#define VIRTIO_SEC_VERSION  1
#define VDEV_SEC_VERSION    1
#define NET_SEC_VERSION	    1
#define STR_MAX		    4096
#define NR_BOARD_DEVS	    5 /* regions[0..4]: syscon, rtc, aclint, plic, uart */

/* ---- small encoders ---- */

static void put_str(struct state_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	state_put_u8(b, s != NULL);
	state_put_u32(b, (uint32_t)n);
	state_put_bytes(b, s ? s : "", n);
}

/* NULL stays NULL; a string with a NUL inside or too long is refused. */
static char *get_str(struct state_cursor *c, bool *bad)
{
	uint8_t present = state_get_u8(c);
	uint32_t n = state_get_u32(c);
	if (c->bad || present > 1 || n > STR_MAX || (!present && n)) {
		*bad = true;
		return NULL;
	}
	const uint8_t *p = state_cursor_take(c, n);
	if (!p || memchr(p, 0, n)) {
		*bad = true;
		return NULL;
	}
	if (!present)
		return NULL;
	char *s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static int put_buf_section(struct snap_writer *w, const char *name, uint32_t version, struct state_buf *b,
			   struct verr **err)
{
	int r = snap_put_section(w, name, version, SNAP_SEC_REQUIRED, b->p ? b->p : (const uint8_t *)"", b->len,
				 err);
	state_buf_free(b);
	return r;
}

/* Guest time of a paused machine: settle the pause so far into the time
 * base, so mtime reads the value at which the guest stopped. */
static void settle_time(struct machine *m)
{
	if (!m->paused)
		return;
	int64_t now = (int64_t)now_ns();
	m->sh.time_base_ns += now - m->paused_at_ns;
	m->paused_at_ns = now;
}

/* ---- the machine section ---- */

static void save_config(struct machine *m, struct state_buf *b)
{
	const struct machine_config *cfg = &m->cfg;
	state_put_u64(b, m->sh.ram_size);
	state_put_u32(b, cfg->nr_cpus);
	state_put_u8(b, m->sh.sbi_builtin);
	state_put_u8(b, m->vrng != NULL);
	state_put_bytes(b, cfg->mac, 6);
	put_str(b, m->net ? cfg->net : NULL);
	put_str(b, cfg->kernel);
	put_str(b, cfg->initrd);
	put_str(b, cfg->bios);
	put_str(b, cfg->cmdline);
	state_put_u32(b, cfg->nr_disks);
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		struct block *d = m->disks[i];
		char *abs = realpath(d->path, NULL);
		struct stat st;
		if (stat(d->path, &st) < 0)
			memset(&st, 0, sizeof(st));
		put_str(b, abs ? abs : d->path);
		free(abs);
		state_put_u8(b, (uint8_t)d->format);
		state_put_u8(b, d->readonly);
		state_put_u64(b, d->size);
		state_put_u64(b, (uint64_t)st.st_size);
		state_put_u64(b, (uint64_t)st.st_dev);
		state_put_u64(b, (uint64_t)st.st_ino);
		state_put_u64(b, (uint64_t)((int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec));
	}
	state_put_u32(b, m->nr_virtio);
	for (unsigned i = 0; i < m->nr_virtio; i++) {
		uint32_t id = 0;
		uint64_t v = 0;
		struct dev_region *r = &m->regions[NR_BOARD_DEVS + i];
		/* the DeviceID register (virtio 1.2 §4.2.2) */
		if (r->ops->read(r->dev, 0x008, 4, &v) == 0)
			id = (uint32_t)v;
		state_put_u32(b, id);
	}
	state_put_u64(b, cpu_mtime(&m->sh));
}

void vmstate_config_free(struct vmstate_config *vc)
{
	if (!vc)
		return;
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		free(vc->disks[i].path);
	free(vc->net);
	free(vc->kernel);
	free(vc->initrd);
	free(vc->bios);
	free(vc->cmdline);
	memset(vc, 0, sizeof(*vc));
}

/* Also returns the saved mtime (for the loader). */
static int config_parse(const struct snap_section *sec, struct vmstate_config *out, uint64_t *mtime,
			struct verr **err)
{
	memset(out, 0, sizeof(*out));
	if (snap_section_check_version(sec, MACHINE_SEC_VERSION, err) < 0)
		return -1;
	struct state_cursor c;
	state_cursor_init(&c, sec->data, sec->len);
	bool bad = false;
	struct machine_config *cfg = &out->cfg;
	cfg->console_in_fd = cfg->console_out_fd = -1;
	cfg->ram_size = state_get_u64(&c);
	cfg->nr_cpus = state_get_u32(&c);
	uint8_t sbi = state_get_u8(&c), rng = state_get_u8(&c);
	state_get_bytes(&c, cfg->mac, 6);
	out->net = get_str(&c, &bad);
	out->kernel = get_str(&c, &bad);
	out->initrd = get_str(&c, &bad);
	out->bios = get_str(&c, &bad);
	out->cmdline = get_str(&c, &bad);
	uint32_t nd = state_get_u32(&c);
	if (nd > VM_MAX_DISKS) {
		vmstate_config_free(out);
		return verr_set(err, EINVAL, "section machine: %u disks (at most %d)", nd, VM_MAX_DISKS);
	}
	for (unsigned i = 0; i < nd && !bad; i++) {
		struct vmstate_disk *d = &out->disks[i];
		d->path = get_str(&c, &bad);
		uint8_t fmt = state_get_u8(&c), ro = state_get_u8(&c);
		d->virtual_size = state_get_u64(&c);
		d->file_size = state_get_u64(&c);
		d->dev = state_get_u64(&c);
		d->ino = state_get_u64(&c);
		d->mtime_ns = (int64_t)state_get_u64(&c);
		if (!d->path || (fmt != BLOCK_FMT_RAW && fmt != BLOCK_FMT_QCOW2) || ro > 1)
			bad = true;
		d->format = fmt;
		d->readonly = ro;
		cfg->disks[i] = (struct machine_disk){ .path = d->path, .format = d->format, .readonly = d->readonly };
	}
	cfg->nr_disks = nd;
	uint32_t ns = state_get_u32(&c);
	if (ns > VM_VIRTIO_SLOTS)
		bad = true;
	for (unsigned i = 0; i < ns && !bad; i++) {
		out->slot_ids[i] = state_get_u32(&c);
		if (out->slot_ids[i] == 3) /* the console is on hvc0 */
			cfg->console_virtio = true;
	}
	out->nr_slots = ns;
	uint64_t mt = state_get_u64(&c);
	if (bad || !state_cursor_done(&c) || sbi > 1 || rng > 1) {
		vmstate_config_free(out);
		return verr_set(err, EINVAL, "section machine: malformed");
	}
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > VM_MAX_CPUS || cfg->ram_size < VM_MIN_RAM ||
	    cfg->ram_size > VM_MAX_RAM || (cfg->ram_size & 4095)) {
		vmstate_config_free(out);
		return verr_set(err, EINVAL, "section machine: %u cpus, %llu bytes of RAM: out of range", cfg->nr_cpus,
				(unsigned long long)cfg->ram_size);
	}
	if (mt >= ACLINT_MAX_MTIME) {
		vmstate_config_free(out);
		return verr_set(err, EINVAL, "section machine: mtime 0x%llx out of range", (unsigned long long)mt);
	}
	if ((sbi != 0) != (out->bios == NULL)) {
		vmstate_config_free(out);
		return verr_set(err, EINVAL, "section machine: firmware setting is inconsistent");
	}
	cfg->net = out->net;
	cfg->kernel = out->kernel;
	cfg->initrd = out->initrd;
	cfg->bios = out->bios;
	cfg->cmdline = out->cmdline;
	cfg->rng = rng;
	if (mtime)
		*mtime = mt;
	return 0;
}

int vmstate_config_parse(const struct snap_section *sec, struct vmstate_config *out, struct verr **err)
{
	return config_parse(sec, out, NULL, err);
}

static bool same_file(const struct vmstate_disk *d, const struct stat *st)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
	return (uint64_t)st->st_size == d->file_size && (uint64_t)st->st_ino == d->ino &&
	       (uint64_t)st->st_dev == d->dev && mt == d->mtime_ns;
}

int vmstate_check_disks(const struct vmstate_config *vc, const struct machine_config *cfg, struct verr **err)
{
	if (cfg->nr_disks != vc->cfg.nr_disks)
		return verr_set(err, EINVAL, "the snapshot has %u disks, this VM %u", vc->cfg.nr_disks,
				cfg->nr_disks);
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct vmstate_disk *d = &vc->disks[i];
		const char *path = cfg->disks[i].path;
		struct stat st;
		if (stat(path, &st) < 0)
			return verr_set(err, errno, "disk %u '%s'", i, path);
		if (same_file(d, &st))
			continue;
		/* a clone's overlay: a qcow2 image whose backing file is the
		 * recorded one, unchanged */
		struct block *b = NULL;
		struct verr *e = NULL;
		bool ok = false;
		if (block_open(path, BLOCK_FMT_AUTO, true, &b, &e) == 0 && b->format == BLOCK_FMT_QCOW2 &&
		    b->backing_path && b->size == d->virtual_size) {
			struct stat bst;
			ok = stat(b->backing_path, &bst) == 0 && same_file(d, &bst);
		}
		block_close(b);
		verr_free(e);
		if (ok)
			continue;
		int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
		const char *what = (uint64_t)st.st_ino != d->ino || (uint64_t)st.st_dev != d->dev ? "another file"
				   : (uint64_t)st.st_size != d->file_size				   ? "its size changed"
				   : mt != d->mtime_ns ? "it was modified" : "it changed";
		return verr_set(err, EEXIST,
				"disk %u '%s' is not the image the snapshot was taken with ('%s'): %s since the "
				"snapshot (restoring over it would corrupt the guest's file systems; --force-disks "
				"overrides)",
				i, path, d->path, what);
	}
	return 0;
}

/* ---- save ---- */

static const char *dev_name(const struct machine *m, unsigned i)
{
	static const char *const names[NR_BOARD_DEVS] = { "dev.syscon", "dev.rtc", "dev.aclint", "dev.plic",
							    "dev.uart" };
	(void)m;
	return names[i];
}

int machine_save_state(struct machine *m, struct snap_writer *w, struct verr **err)
{
	if (!m->paused || m->nr_started)
		return verr_set(err, EBUSY, "save state: the VM is not paused");
	settle_time(m);
	struct state_buf b = { 0 };
	save_config(m, &b);
	if (put_buf_section(w, "machine", MACHINE_SEC_VERSION, &b, err) < 0)
		return -1;
	for (unsigned i = 0; i < m->cfg.nr_cpus; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cpu%u", i);
		hart_save_state(m->harts[i], &b);
		if (put_buf_section(w, name, CPU_SEC_VERSION, &b, err) < 0)
			return -1;
	}
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct dev_region *r = &m->regions[i];
		size_t n = r->ops->save(r->dev, NULL, 0);
		uint8_t *buf = xmalloc(n);
		r->ops->save(r->dev, buf, n);
		state_put_bytes(&b, buf, n);
		free(buf);
		char name[16];
		if (i < NR_BOARD_DEVS)
			snprintf(name, sizeof(name), "%s", dev_name(m, i));
		else
			snprintf(name, sizeof(name), "virtio%u", (unsigned char)(i - NR_BOARD_DEVS)); /* < VM_VIRTIO_SLOTS */
		int rr = put_buf_section(w, name, i < NR_BOARD_DEVS ? DEV_SEC_VERSION : VIRTIO_SEC_VERSION, &b, err);
		if (rr < 0) {
			pthread_mutex_unlock(&m->lock);
			return -1;
		}
	}
	/* each virtio device's own state: its config space, which a restore
	 * compares with the device it created (capacity, MAC) */
	for (unsigned i = 0; i < m->nr_virtio; i++) {
		uint8_t cfgbuf[256];
		size_t n = 0;
		struct virtio_mmio *t = m->regions[NR_BOARD_DEVS + i].dev;
		for (unsigned d = 0; d < VM_MAX_DISKS; d++)
			if (m->vblk[d] && virtio_blk_transport(m->vblk[d]) == t)
				n = virtio_blk_config(m->vblk[d], cfgbuf, sizeof(cfgbuf));
		if (m->vnet && virtio_net_transport(m->vnet) == t)
			n = virtio_net_config(m->vnet, cfgbuf, sizeof(cfgbuf));
		state_put_u32(&b, (uint32_t)n);
		state_put_bytes(&b, cfgbuf, n);
		char name[16];
		snprintf(name, sizeof(name), "vdev%u", i);
		if (put_buf_section(w, name, VDEV_SEC_VERSION, &b, err) < 0) {
			pthread_mutex_unlock(&m->lock);
			return -1;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (m->net) {
		net_backend_save(m->net, &b);
		if (put_buf_section(w, "net", NET_SEC_VERSION, &b, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- load ---- */

void *machine_ram(struct machine *m, uint64_t *size)
{
	*size = m->sh.ram_size;
	return m->sh.ram_hva;
}

static int load_machine_sec(struct machine *m, const struct snap_section *sec, struct verr **err)
{
	struct vmstate_config vc;
	uint64_t mtime;
	if (config_parse(sec, &vc, &mtime, err) < 0)
		return -1;
	int r = 0;
	if (vc.cfg.ram_size != m->sh.ram_size || vc.cfg.nr_cpus != m->cfg.nr_cpus)
		r = verr_set(err, EINVAL, "section machine: %u cpus and %llu MiB of RAM, this VM has %u and %llu MiB",
			     vc.cfg.nr_cpus, (unsigned long long)(vc.cfg.ram_size >> 20), m->cfg.nr_cpus,
			     (unsigned long long)(m->sh.ram_size >> 20));
	else if (vc.nr_slots != m->nr_virtio)
		r = verr_set(err, EINVAL, "section machine: %u virtio devices, this VM has %u", vc.nr_slots,
			     m->nr_virtio);
	else if ((vc.cfg.bios == NULL) != m->sh.sbi_builtin)
		r = verr_set(err, EINVAL, "section machine: firmware (built-in SBI or --bios) differs");
	for (unsigned i = 0; r == 0 && i < vc.nr_slots; i++) {
		uint64_t v = 0;
		struct dev_region *reg = &m->regions[NR_BOARD_DEVS + i];
		reg->ops->read(reg->dev, 0x008, 4, &v);
		if (v != vc.slot_ids[i])
			r = verr_set(err, EINVAL, "section machine: virtio slot %u holds device type %u, this VM has %u",
				     i, vc.slot_ids[i], (unsigned)v);
	}
	if (r == 0) {
		m->loaded_mtime = mtime;
		m->loaded.config = true;
		/* a restored VM reboots with the images it was started with */
		if (!m->cfg.kernel && !m->cfg.bios) {
			m->owned_kernel = vc.kernel;
			m->owned_initrd = vc.initrd;
			m->owned_bios = vc.bios;
			m->owned_cmdline = vc.cmdline;
			vc.kernel = vc.initrd = vc.bios = vc.cmdline = NULL;
			m->cfg.kernel = m->owned_kernel;
			m->cfg.initrd = m->owned_initrd;
			m->cfg.bios = m->owned_bios;
			m->cfg.cmdline = m->owned_cmdline;
		}
	}
	vmstate_config_free(&vc);
	return r;
}

static int parse_index(const char *s, unsigned max, unsigned *out)
{
	if (!*s || strlen(s) > 2 || (s[0] == '0' && s[1]))
		return -1;
	unsigned v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v >= max)
		return -1;
	*out = v;
	return 0;
}

int machine_load_section(struct machine *m, const struct snap_section *sec, struct verr **err)
{
	unsigned idx;
	if (!strcmp(sec->name, "machine")) {
		if (m->loaded.config)
			return verr_set(err, EINVAL, "section machine: appears twice");
		return load_machine_sec(m, sec, err) < 0 ? -1 : 1;
	}
	bool is_cpu = !strncmp(sec->name, "cpu", 3), is_virtio = !strncmp(sec->name, "virtio", 6);
	bool is_vdev = !strncmp(sec->name, "vdev", 4);
	bool is_dev = !strncmp(sec->name, "dev.", 4), is_net = !strcmp(sec->name, "net");
	if (!is_cpu && !is_virtio && !is_vdev && !is_dev && !is_net)
		return 0;
	if (!m->loaded.config)
		return verr_set(err, EINVAL, "section %s: comes before the machine section", sec->name);
	if (m->nr_started)
		return verr_set(err, EBUSY, "section %s: the VM is running", sec->name);
	if (is_cpu) {
		if (parse_index(sec->name + 3, m->cfg.nr_cpus, &idx) < 0)
			return verr_set(err, EINVAL, "section %s: no such hart in this VM", sec->name);
		if (snap_section_check_version(sec, CPU_SEC_VERSION, err) < 0)
			return -1;
		if (hart_load_state(m->harts[idx], sec->data, sec->len, err) < 0)
			return verr_wrap(err, "section %s", sec->name);
		m->loaded.cpus |= 1u << idx;
		return 1;
	}
	if (is_net) {
		if (!m->net)
			return verr_set(err, EINVAL, "section net: this VM has no user-mode network");
		if (snap_section_check_version(sec, NET_SEC_VERSION, err) < 0)
			return -1;
		if (net_backend_load(m->net, sec->data, sec->len, err) < 0)
			return verr_wrap(err, "section net");
		return 1;
	}
	unsigned region;
	uint32_t version;
	if (is_dev) {
		for (idx = 0; idx < NR_BOARD_DEVS; idx++)
			if (!strcmp(sec->name, dev_name(m, idx)))
				break;
		if (idx == NR_BOARD_DEVS)
			return 0; /* a device this build does not have: the caller decides */
		region = idx;
		version = DEV_SEC_VERSION;
	} else if (is_virtio) {
		if (parse_index(sec->name + 6, m->nr_virtio, &idx) < 0)
			return verr_set(err, EINVAL, "section %s: no such virtio slot in this VM", sec->name);
		region = NR_BOARD_DEVS + idx;
		version = VIRTIO_SEC_VERSION;
	} else {
		if (parse_index(sec->name + 4, m->nr_virtio, &idx) < 0)
			return verr_set(err, EINVAL, "section %s: no such virtio slot in this VM", sec->name);
		if (snap_section_check_version(sec, VDEV_SEC_VERSION, err) < 0)
			return -1;
		/* the device's config must be what this VM's device shows:
		 * same capacity, same MAC (guest drivers cached them) */
		uint8_t cfgbuf[256];
		size_t n = 0;
		struct virtio_mmio *t = m->regions[NR_BOARD_DEVS + idx].dev;
		for (unsigned d = 0; d < VM_MAX_DISKS; d++)
			if (m->vblk[d] && virtio_blk_transport(m->vblk[d]) == t)
				n = virtio_blk_config(m->vblk[d], cfgbuf, sizeof(cfgbuf));
		/* a restore may give the NIC a new MAC (clones): the guest
		 * keeps the one it read at probe time until it reboots */
		size_t skip = 0;
		if (m->vnet && virtio_net_transport(m->vnet) == t) {
			n = virtio_net_config(m->vnet, cfgbuf, sizeof(cfgbuf));
			skip = 6;
		}
		struct state_cursor c;
		state_cursor_init(&c, sec->data, sec->len);
		uint32_t len = state_get_u32(&c);
		const uint8_t *p = state_cursor_take(&c, len);
		if (!p || !state_cursor_done(&c))
			return verr_set(err, EINVAL, "section %s: malformed", sec->name);
		if (len != n || memcmp(p + skip, cfgbuf + skip, n - skip))
			return verr_set(err, EINVAL,
					"section %s: the device's configuration differs (disk size or MAC changed)",
					sec->name);
		m->loaded.vdev |= 1u << idx;
		return 1;
	}
	if (snap_section_check_version(sec, version, err) < 0)
		return -1;
	struct dev_region *r = &m->regions[region];
	pthread_mutex_lock(&m->lock);
	int lr = r->ops->load(r->dev, sec->data, sec->len);
	pthread_mutex_unlock(&m->lock);
	if (lr < 0)
		return verr_set(err, EINVAL, "section %s: not a valid %s state", sec->name, r->ops->name);
	m->loaded.devs |= 1u << region;
	return 1;
}

int machine_load_finish(struct machine *m, struct verr **err)
{
	if (!m->loaded.config)
		return verr_set(err, EINVAL, "incomplete state: no machine section");
	for (unsigned i = 0; i < m->cfg.nr_cpus; i++)
		if (!(m->loaded.cpus & (1u << i)))
			return verr_set(err, EINVAL, "incomplete state: no section cpu%u", i);
	for (unsigned i = 0; i < m->nr_regions; i++) {
		if (m->loaded.devs & (1u << i))
			continue;
		if (i < NR_BOARD_DEVS)
			return verr_set(err, EINVAL, "incomplete state: no section %s", dev_name(m, i));
		return verr_set(err, EINVAL, "incomplete state: no section virtio%u", i - NR_BOARD_DEVS);
	}
	for (unsigned i = 0; i < m->nr_virtio; i++)
		if (!(m->loaded.vdev & (1u << i)))
			return verr_set(err, EINVAL, "incomplete state: no section vdev%u", i);
	/* guest time continues from the saved mtime when the VM resumes; the
	 * harts re-evaluate mtimecmp/stimecmp against it, so a hart sleeping
	 * in WFI wakes at its deadline */
	int64_t now = (int64_t)now_ns();
	m->sh.time_base_ns = now - (int64_t)(m->loaded_mtime * 100);
	m->paused_at_ns = now;
	/* RAM came from a file or a stream: nothing decoded before holds */
	cpu_note_ram_write(&m->sh, m->sh.ram_base_gpa, m->sh.ram_size);
	for (unsigned i = 0; i < m->cfg.nr_cpus; i++)
		hart_kick(m->harts[i]);
	return 0;
}

struct batch_ctx {
	struct machine *m;
	struct verr **err;
};

static int batch_page(void *opaque, uint64_t pfn, const void *page)
{
	struct batch_ctx *c = opaque;
	if (pfn >= c->m->sh.ram_size / SNAP_PAGE_SIZE)
		return verr_set(c->err, EINVAL, "ram-batch: page %llu is outside RAM", (unsigned long long)pfn);
	uint8_t *dst = c->m->sh.ram_hva + pfn * SNAP_PAGE_SIZE;
	if (page)
		memcpy(dst, page, SNAP_PAGE_SIZE);
	else
		memset(dst, 0, SNAP_PAGE_SIZE);
	return 0;
}

int machine_load_state(struct machine *m, struct snap_reader *r, unsigned flags, struct verr **err)
{
	struct snap_section sec;
	bool ram = false;
	int n;
	while ((n = snap_reader_next(r, &sec, err)) == 1) {
		if (sec.is_ram) {
			if (ram)
				return verr_set(err, EINVAL, "section ram: appears twice");
			if (sec.ram_size != m->sh.ram_size)
				return verr_set(err, EINVAL, "section ram: %llu bytes of RAM, this VM has %llu",
						(unsigned long long)sec.ram_size, (unsigned long long)m->sh.ram_size);
			if (flags & VMSTATE_MAP_RAM) {
				unsigned nmaps = 0;
				uint64_t t0 = now_ns();
				if (snap_ram_map(r, m->sh.ram_hva, m->sh.ram_size, 30000, &nmaps, err) < 0)
					return -1;
				m->ram_from_file = true;
				log_debug("restore: RAM mapped from the snapshot with %u mappings in %.2f ms", nmaps,
					  (double)(now_ns() - t0) / 1e6);
			} else if (snap_ram_load(r, m->sh.ram_hva, m->sh.ram_size, err) < 0) {
				return -1;
			}
			ram = true;
			continue;
		}
		if (!strcmp(sec.name, "ram-batch")) {
			struct batch_ctx c = { m, err };
			if (snap_ram_batch_foreach(&sec, batch_page, &c, err) != 0)
				return -1;
			continue;
		}
		int h = machine_load_section(m, &sec, err);
		if (h < 0)
			return -1;
		if (h == 0 && snap_section_unknown(&sec, err) < 0)
			return -1;
	}
	if (n < 0)
		return -1;
	return machine_load_finish(m, err);
}

/* ---- snapshot ---- */

enum snapshot_phase { PH_NONE, PH_PAUSING, PH_FLUSHING, PH_STATE, PH_SCANNING, PH_RAM, PH_SYNCING, PH_DONE };

static const char *const snapshot_phase_names[] = {
	[PH_NONE] = "none",	     [PH_PAUSING] = "pausing",	 [PH_FLUSHING] = "flushing-disks",
	[PH_STATE] = "saving-state", [PH_SCANNING] = "scanning-ram", [PH_RAM] = "writing-ram",
	[PH_SYNCING] = "syncing",    [PH_DONE] = "done",
};

/* The writer's progress, on a page shared with the child (MAP_SHARED |
 * MAP_ANONYMOUS, created before the fork): the child writes, API threads
 * read. */
struct snapshot_shared {
	_Atomic uint32_t phase;
	_Atomic uint64_t bytes, total_bytes;
};

/* The child's snap_writer progress hook; paces the writer when the test
 * hook asks for it (rate_bps). */
struct child_progress {
	struct snapshot_shared *sh;
	uint64_t rate_bps, t0_ns;
};

static void child_progress(void *opaque, uint64_t pos, uint64_t ram_end)
{
	struct child_progress *cp = opaque;
	atomic_store(&cp->sh->bytes, pos);
	if (ram_end && atomic_load(&cp->sh->phase) == PH_SCANNING) {
		atomic_store(&cp->sh->total_bytes, ram_end + SNAP_END_SECTION_SIZE);
		atomic_store(&cp->sh->phase, PH_RAM);
	}
	if (cp->rate_bps) {
		uint64_t due_ns = (uint64_t)((double)pos * 1e9 / (double)cp->rate_bps);
		uint64_t now = now_ns() - cp->t0_ns;
		if (due_ns > now + 1000000) {
			struct timespec ts = { (time_t)((due_ns - now) / 1000000000), (long)((due_ns - now) % 1000000000) };
			nanosleep(&ts, NULL);
		}
	}
}

struct snapshot_args {
	const char *path;
	bool stay_paused;
	struct machine_snapshot_result *res;
	struct verr **err;
	struct snapshot_shared *shared;
	uint64_t rate_bps;
	bool installed; /* m->snap describes this snapshot */
	/* set by do_snapshot for the caller */
	bool was_paused;
	pid_t child;
	int rfd;
	bool failed; /* for snapshot_done */
};

/* The child's report on its pipe: u8 status (0 ok), u64 file size, then
 * the error message. */
static void report(int fd, uint8_t status, uint64_t bytes, const char *msg)
{
	uint8_t head[9];
	head[0] = status;
	le64_put(head + 1, bytes);
	if (write_full(fd, head, sizeof(head)) == 0 && msg)
		(void)!write_full(fd, msg, strlen(msg));
}

/* Which pages of anonymous RAM hold anything: the others (neither present
 * nor swapped in /proc/self/pagemap) were never written, or were dropped,
 * and read as zero. Lets the writer skip them instead of faulting each in
 * (a forked child does not inherit the zero-page mappings: 65536 faults,
 * ~1.3 s, for an untouched 256 MiB guest on the build machine). NULL when
 * unknown: RAM mapped from a snapshot file (a page not mapped yet may hold
 * the file's data) or no pagemap. Caller frees. */
static uint8_t *ram_populated(const struct machine *m)
{
	if (m->ram_from_file || sysconf(_SC_PAGESIZE) != SNAP_PAGE_SIZE)
		return NULL;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	uint64_t npages = m->sh.ram_size / SNAP_PAGE_SIZE;
	uint64_t first = (uintptr_t)m->sh.ram_hva / SNAP_PAGE_SIZE;
	uint8_t *bm = xcalloc(1, (size_t)((npages + 7) / 8));
	static uint64_t buf[8192];
	for (uint64_t i = 0; i < npages;) {
		uint64_t n = npages - i < 8192 ? npages - i : 8192;
		ssize_t r = pread(fd, buf, n * 8, (off_t)((first + i) * 8));
		if (r != (ssize_t)(n * 8)) {
			free(bm);
			close(fd);
			return NULL;
		}
		for (uint64_t j = 0; j < n; j++)
			if (buf[j] & (3ull << 62)) /* present or swapped */
				bm[(i + j) / 8] |= (uint8_t)(1u << ((i + j) % 8));
		i += n;
	}
	close(fd);
	return bm;
}

/* In the forked child: the process is a frozen copy of the paused VM
 * (other threads do not exist here, the board lock was re-initialized).
 * Writes the file and exits without running atexit handlers. */
static void __attribute__((noreturn)) snapshot_child(struct machine *m, const struct snapshot_args *a, int wfd)
{
	const char *path = a->path;
	struct verr *e = NULL;
	struct vstream *s = NULL;
	struct snap_writer *w = NULL;
	uint8_t *populated = NULL;
	int r = -1;
	struct child_progress cp = { .sh = a->shared, .rate_bps = a->rate_bps, .t0_ns = now_ns() };
	/* what the guest wrote reaches the disk before the snapshot claims it
	 * (the fds are shared with the parent: the same files) */
	atomic_store(&cp.sh->phase, PH_FLUSHING);
	for (unsigned i = 0; i < m->cfg.nr_disks; i++)
		if (m->disks[i] && !m->disks[i]->readonly && block_flush(m->disks[i]) < 0) {
			verr_set(&e, EIO, "flush disk '%s'", m->disks[i]->path);
			goto out;
		}
	atomic_store(&cp.sh->phase, PH_STATE);
	if (vstream_file_writer(path, 0600, &s, &e) < 0 || snap_writer_new(s, 0, &w, &e) < 0)
		goto out;
	snap_writer_set_progress(w, child_progress, &cp);
	if (machine_save_state(m, w, &e) < 0)
		goto out;
	atomic_store(&cp.sh->phase, PH_SCANNING);
	populated = ram_populated(m);
	if (snap_write_ram_hinted(w, m->sh.ram_hva, m->sh.ram_size, populated, &e) < 0 ||
	    snap_writer_finish(w, &e) < 0)
		goto out;
	atomic_store(&cp.sh->bytes, vstream_pos(s));
	atomic_store(&cp.sh->phase, PH_SYNCING);
	if (vstream_commit(s, &e) < 0)
		goto out;
	r = 0;
out:;
	free(populated);
	uint64_t bytes = s ? vstream_pos(s) : 0;
	snap_writer_destroy(w);
	vstream_destroy(s); /* an uncommitted temporary file is removed */
	report(wfd, r == 0 ? 0 : 1, bytes, e ? e->msg : NULL);
	_exit(r == 0 ? 0 : 1);
}

/* On the owner: pause, fork a child that writes the frozen VM, resume at
 * once. The guest is paused only for the fork (page tables are copied, the
 * pages shared copy-on-write), not for the write. */
static int do_snapshot(struct machine *m, void *arg)
{
	struct snapshot_args *a = arg;
	if (m->busy)
		return verr_set(a->err, EBUSY, "a snapshot or migration is in progress");
	uint64_t t0 = now_ns();
	atomic_store(&a->shared->phase, PH_PAUSING);
	pthread_mutex_lock(&m->lock);
	m->snap.status = MSNAP_ACTIVE;
	m->snap.t0_ns = t0;
	m->snap.ms = m->snap.total_ms = 0;
	m->snap.shared = a->shared;
	snprintf(m->snap.path, sizeof(m->snap.path), "%s", a->path);
	m->snap.error[0] = 0;
	pthread_mutex_unlock(&m->lock);
	a->installed = true;
	a->was_paused = m->paused;
	if (!a->was_paused && machine_pause(m, a->err) < 0)
		return -1;
	int fds[2];
	pid_t pid = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		verr_set(a->err, errno, "snapshot: pipe");
	} else {
		/* no other thread may hold the board lock in the child's copy */
		pthread_mutex_lock(&m->lock);
		pid = fork();
		if (pid == 0) {
			pthread_mutex_init(&m->lock, NULL);
			close(fds[0]);
			snapshot_child(m, a, fds[1]);
		}
		int fe = errno;
		pthread_mutex_unlock(&m->lock);
		close(fds[1]);
		if (pid < 0) {
			close(fds[0]);
			verr_set(a->err, fe, "snapshot: fork");
		}
	}
	if (!a->was_paused && (pid < 0 || !a->stay_paused)) {
		struct verr *e = NULL;
		if (machine_resume(m, &e) < 0) {
			log_error("snapshot: resume failed: %s", e->msg);
			verr_free(e);
		}
	}
	/* after the resume, which a busy VM refuses: until the child is done,
	 * no other snapshot, migration, pause or resume */
	if (pid > 0) {
		m->busy++;
		a->child = pid;
		a->rfd = fds[0];
	}
	a->res->ms = (now_ns() - t0) / 1000000;
	pthread_mutex_lock(&m->lock);
	m->snap.ms = a->res->ms;
	pthread_mutex_unlock(&m->lock);
	return pid > 0 ? 0 : -1;
}

/* On the owner, once the child is done: a failed snapshot that was to
 * leave the VM paused leaves it as it was (running) instead. */
static int snapshot_done(struct machine *m, void *arg)
{
	struct snapshot_args *a = arg;
	m->busy--;
	if (a->failed && a->stay_paused && !a->was_paused && m->paused) {
		struct verr *e = NULL;
		if (machine_resume(m, &e) < 0) {
			log_error("snapshot: resume failed: %s", e->msg);
			verr_free(e);
		}
	}
	return 0;
}

/* The snapshot a is over (ok or not): its figures stay in m->snap for
 * GET /vm/snapshot; the shared page goes. */
static void snapshot_finish(struct machine *m, struct snapshot_args *a, bool ok, const struct verr *e)
{
	if (!a->installed)
		return;
	pthread_mutex_lock(&m->lock);
	m->snap.status = ok ? MSNAP_COMPLETED : MSNAP_FAILED;
	m->snap.phase = ok ? PH_DONE : atomic_load(&a->shared->phase);
	m->snap.bytes = ok ? a->res->bytes : atomic_load(&a->shared->bytes);
	m->snap.total_bytes = ok ? a->res->bytes : atomic_load(&a->shared->total_bytes);
	m->snap.total_ms = (now_ns() - m->snap.t0_ns) / 1000000;
	snprintf(m->snap.error, sizeof(m->snap.error), "%s", e && e->msg ? e->msg : "");
	m->snap.shared = NULL;
	pthread_mutex_unlock(&m->lock);
}

void machine_snapshot_progress(struct machine *m, struct machine_snapshot_progress *out)
{
	pthread_mutex_lock(&m->lock);
	out->status = m->snap.status;
	uint32_t phase = m->snap.phase;
	out->bytes = m->snap.bytes;
	out->total_bytes = m->snap.total_bytes;
	if (m->snap.shared) {
		phase = atomic_load(&m->snap.shared->phase);
		out->bytes = atomic_load(&m->snap.shared->bytes);
		out->total_bytes = atomic_load(&m->snap.shared->total_bytes);
	}
	out->phase = phase < ARRAY_SIZE(snapshot_phase_names) ? snapshot_phase_names[phase] : "none";
	out->elapsed_ms = m->snap.status == MSNAP_ACTIVE ? (now_ns() - m->snap.t0_ns) / 1000000 : m->snap.total_ms;
	out->ms = m->snap.ms;
	memcpy(out->path, m->snap.path, sizeof(out->path));
	memcpy(out->error, m->snap.error, sizeof(out->error));
	pthread_mutex_unlock(&m->lock);
}

int machine_snapshot(struct machine *m, const char *path, bool stay_paused, struct machine_snapshot_result *res,
		     struct verr **err)
{
	struct verr *e = NULL;
	memset(res, 0, sizeof(*res));
	uint64_t t0 = now_ns();
	struct snapshot_args a = { .path = path, .stay_paused = stay_paused, .res = res, .err = &e, .rfd = -1 };
	const char *rate = getenv(MACHINE_SNAPSHOT_TEST_RATE_ENV);
	if (rate && *rate) {
		char *end;
		unsigned long long v = strtoull(rate, &end, 10);
		if (*end || v == 0)
			return verr_set(err, EINVAL, "%s='%s': expected bytes per second", MACHINE_SNAPSHOT_TEST_RATE_ENV,
					rate);
		a.rate_bps = v;
	}
	a.shared = mmap(NULL, sizeof(*a.shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a.shared == MAP_FAILED)
		return verr_set(err, errno, "snapshot '%s': map the progress page", path);
	int r = machine_call(m, do_snapshot, &a);
	if (r < 0) {
		if (r == -ESHUTDOWN && !e)
			verr_set(&e, ESHUTDOWN, "the VM has stopped");
		else
			verr_wrap(&e, "snapshot '%s'", path);
		snapshot_finish(m, &a, false, e);
		munmap(a.shared, sizeof(*a.shared));
		if (err)
			*err = e;
		else
			verr_free(e);
		return -1;
	}
	/* the child's report, then its exit */
	char buf[1024];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(a.rfd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	buf[len] = 0;
	close(a.rfd);
	int status = 0;
	while (waitpid(a.child, &status, 0) < 0 && errno == EINTR)
		;
	bool ok = len >= 9 && buf[0] == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	a.failed = !ok;
	machine_call(m, snapshot_done, &a); /* -ESHUTDOWN: the VM stopped meanwhile */
	res->total_ms = (now_ns() - t0) / 1000000;
	if (!ok) {
		if (len > 9)
			verr_set(&e, EIO, "snapshot '%s': %s", path, buf + 9);
		else
			verr_set(&e, EIO, "snapshot '%s': the writer process failed (status 0x%x)", path, status);
		snapshot_finish(m, &a, false, e);
		munmap(a.shared, sizeof(*a.shared));
		if (err)
			*err = e;
		else
			verr_free(e);
		return -1;
	}
	res->bytes = le64_get((const uint8_t *)buf + 1);
	snapshot_finish(m, &a, true, NULL);
	munmap(a.shared, sizeof(*a.shared));
	return 0;
}
