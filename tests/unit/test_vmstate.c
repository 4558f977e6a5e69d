/* Unit tests of machine state save/load (src/vm/machine/vmstate.c and
 * src/vm/cpu/hart_state.c): round trips of a hart and of a whole machine,
 * and refusal of hostile states (bad privilege, satp, queue outside RAM,
 * a config that does not match, missing sections). Also pause/resume and
 * machine_call on an incoming machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "vm/cpu/hart.h"
#include "vm/machine/machine.h"
#include "vm/machine/vmstate.h"
#include "vm/state/snap.h"
#include "vm/state/stream.h"
#include "vm/virtio/virtio_mmio.h"

/* ---- harts ---- */

static struct cpu_shared test_sh(void)
{
	static uint8_t ram[1 << 16] __attribute__((aligned(4096)));
	return (struct cpu_shared){ .ram_hva = ram, .ram_base_gpa = 0x80000000, .ram_size = sizeof(ram),
				    .sbi_builtin = true, .nr_harts = 1 };
}

static void fill_hart(struct hart *h)
{
	for (unsigned i = 1; i < 32; i++)
		h->x[i] = 0x1111111111111111ull * i;
	for (unsigned i = 0; i < 32; i++)
		h->fp.f[i] = 0xffffffff00000000ull | i;
	h->fp.frm = 3;
	h->fp.fflags = 0x11;
	h->pc = 0x80201234;
	h->priv = PRIV_S;
	h->wfi = true;
	h->mstatus = (2ull << 32) | (2ull << 34) | MSTATUS_SIE | MSTATUS_SUM | (1ull << MSTATUS_MPP_SHIFT);
	h->medeleg = 0xb1ff;
	h->mideleg = MIP_SSIP | MIP_STIP | MIP_SEIP;
	h->mie = MIP_STIP | MIP_SEIP;
	atomic_store(&h->mip, MIP_SEIP);
	h->stvec = 0xffffffff80001001ull;
	h->sepc = 0xffffffff80002000ull;
	h->satp = (8ull << 60) | 0x80123;
	h->menvcfg = MENVCFG_STCE;
	h->stimecmp = 123456789;
	h->instret = 42;
	h->pmpcfg[0] = 0x1f;
	h->pmpaddr[0] = ~0ull >> 10;
	atomic_store(&h->mtimecmp, 987654321);
	atomic_store(&h->hsm_state, HART_STARTED);
	h->lr_valid = true;
}

static void test_hart_round_trip(void **state)
{
	struct cpu_shared sh = test_sh();
	struct hart *a = hart_create(&sh, 0), *b = hart_create(&sh, 0);
	fill_hart(a);
	struct state_buf s1 = { 0 }, s2 = { 0 };
	hart_save_state(a, &s1);
	struct verr *err = NULL;
	assert_int_equal(hart_load_state(b, s1.p, s1.len, &err), 0);
	hart_save_state(b, &s2);
	assert_int_equal(s1.len, s2.len);
	assert_memory_equal(s1.p, s2.p, s1.len);
	assert_memory_equal(a->x, b->x, sizeof(a->x));
	assert_int_equal(b->pc, a->pc);
	assert_int_equal(b->priv, PRIV_S);
	assert_int_equal(b->dpriv, PRIV_S);
	assert_true(b->wfi);
	assert_int_equal(b->satp, a->satp);
	assert_int_equal(b->stimecmp, 123456789);
	assert_int_equal(hart_get_mtimecmp(b), 987654321);
	assert_int_equal(b->fp.frm, 3);
	assert_int_equal(b->fp.fflags, 0x11);
	assert_int_equal(hart_get_state(b), HART_STARTED);
	assert_false(b->lr_valid); /* the reservation is not part of the state */
	state_buf_free(&s1);
	state_buf_free(&s2);
	hart_destroy(a);
	hart_destroy(b);
}

/* Offset of a field in the saved layout (see hart_save_state). */
enum { OFF_X = 4, OFF_PC = OFF_X + 32 * 8, OFF_FRM = OFF_PC + 8 + 32 * 8, OFF_PRIV = OFF_FRM + 2,
       OFF_HSM = OFF_PRIV + 3, OFF_MSTATUS = OFF_HSM + 1, OFF_MIE = OFF_MSTATUS + 3 * 8,
       OFF_CSRS = OFF_MIE + 2 * 8, OFF_SATP = OFF_CSRS + 10 * 8 };

static void expect_refused(struct hart *h, const uint8_t *good, size_t len, size_t off, const void *bytes,
			   size_t n, const char *msg)
{
	uint8_t *bad = xmalloc(len);
	memcpy(bad, good, len);
	memcpy(bad + off, bytes, n);
	struct verr *err = NULL;
	uint64_t pc = h->pc;
	assert_int_equal(hart_load_state(h, bad, len, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errnum, EINVAL);
	if (!strstr(err->msg, msg))
		fail_msg("'%s' does not mention '%s'", err->msg, msg);
	assert_int_equal(h->pc, pc); /* unchanged */
	verr_free(err);
	free(bad);
}

static void test_hart_hostile(void **state)
{
	struct cpu_shared sh = test_sh();
	struct hart *a = hart_create(&sh, 0), *b = hart_create(&sh, 0);
	fill_hart(a);
	struct state_buf s = { 0 };
	hart_save_state(a, &s);
	uint8_t two = 2, nine = 9;
	uint64_t v;
	expect_refused(b, s.p, s.len, OFF_PRIV, &two, 1, "privilege level");
	expect_refused(b, s.p, s.len, OFF_HSM, &nine, 1, "HSM state");
	v = 1;
	expect_refused(b, s.p, s.len, OFF_X, &v, 8, "x0");
	v = 0x80000001;
	expect_refused(b, s.p, s.len, OFF_PC, &v, 8, "misaligned pc");
	v = 10ull << 60; /* Sv57 */
	expect_refused(b, s.p, s.len, OFF_SATP, &v, 8, "satp");
	v = (2ull << 32) | (2ull << 34) | (2ull << MSTATUS_MPP_SHIFT); /* reserved MPP */
	expect_refused(b, s.p, s.len, OFF_MSTATUS, &v, 8, "mstatus");
	v = 1ull << 40;
	expect_refused(b, s.p, s.len, OFF_MIE, &v, 8, "mie");
	/* truncated and oversized */
	struct verr *err = NULL;
	assert_int_equal(hart_load_state(b, s.p, s.len - 1, &err), -1);
	verr_free(err);
	err = NULL;
	uint8_t *big = xcalloc(1, s.len + 1);
	memcpy(big, s.p, s.len);
	assert_int_equal(hart_load_state(b, big, s.len + 1, &err), -1);
	verr_free(err);
	free(big);
	/* another hart's state */
	struct hart *c = hart_create(&sh, 1);
	err = NULL;
	assert_int_equal(hart_load_state(c, s.p, s.len, &err), -1);
	assert_non_null(strstr(err->msg, "hart id"));
	verr_free(err);
	hart_destroy(c);
	state_buf_free(&s);
	hart_destroy(a);
	hart_destroy(b);
}

/* ---- machines ---- */

static struct machine_config small_cfg(unsigned cpus)
{
	return (struct machine_config){ .ram_size = 16 << 20, .nr_cpus = cpus, .console_in_fd = -1,
					.console_out_fd = -1, .rng = true };
}

/* Saves m into a memory stream (state + RAM + end). */
static struct vstream *save_machine(struct machine *m)
{
	struct vstream *s = vstream_mem_writer();
	struct snap_writer *w = NULL;
	struct verr *err = NULL;
	assert_int_equal(snap_writer_new(s, 0, &w, &err), 0);
	if (machine_save_state(m, w, &err) < 0)
		fail_msg("save: %s", err->msg);
	uint64_t size;
	void *ram = machine_ram(m, &size);
	assert_int_equal(snap_write_ram(w, ram, size, &err), 0);
	assert_int_equal(snap_writer_finish(w, &err), 0);
	snap_writer_destroy(w);
	return s;
}

/* Loads data into a fresh incoming machine; returns 0 or -1 with *err. */
static int load_into(const struct machine_config *cfg, const void *data, size_t len, struct machine **out,
		     struct verr **err)
{
	struct machine *m = machine_create_incoming(cfg, err);
	assert_non_null(m);
	struct vstream *s = vstream_mem_reader(data, len);
	struct snap_reader *r = NULL;
	int ret = snap_reader_new(s, 0, &r, err);
	if (ret == 0)
		ret = machine_load_state(m, r, 0, err);
	snap_reader_destroy(r);
	vstream_destroy(s);
	if (out && ret == 0)
		*out = m;
	else
		machine_destroy(m);
	return ret;
}

static void test_machine_round_trip(void **state)
{
	struct machine_config cfg = small_cfg(2);
	struct verr *err = NULL;
	struct machine *a = machine_create_incoming(&cfg, &err);
	assert_non_null(a);
	uint64_t size;
	uint8_t *ram = machine_ram(a, &size);
	memcpy(ram + 4096 * 7, "hello", 5);
	struct vstream *s = save_machine(a);
	size_t len;
	const void *data = vstream_mem_data(s, &len);
	struct machine *b = NULL;
	if (load_into(&cfg, data, len, &b, &err) < 0)
		fail_msg("load: %s", err->msg);
	uint8_t *ram_b = machine_ram(b, &size);
	assert_memory_equal(ram_b + 4096 * 7, "hello", 5);
	/* the loaded machine saves the same state again (except its
	 * creation-dependent time, which is identical here: both are paused
	 * at the loaded mtime +- the test's runtime; compare the RAM and CPUs
	 * through a second round trip instead) */
	struct vstream *s2 = save_machine(b);
	size_t len2;
	vstream_mem_data(s2, &len2);
	assert_int_equal(len, len2);
	/* a machine of another shape refuses it */
	struct machine_config other = small_cfg(1);
	assert_int_equal(load_into(&other, data, len, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "cpus"));
	verr_free(err);
	err = NULL;
	struct machine_config norng = small_cfg(2);
	norng.rng = false;
	assert_int_equal(load_into(&norng, data, len, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "virtio"));
	verr_free(err);
	vstream_destroy(s);
	vstream_destroy(s2);
	machine_destroy(a);
	machine_destroy(b);
}

/* Rewrites the payload of section `name` in a saved stream through fn,
 * re-encoding every section so CRCs stay valid. */
static struct vstream *rewrite(const void *data, size_t len, const char *name,
			       void (*fn)(uint8_t *p, size_t n), bool drop)
{
	struct vstream *in = vstream_mem_reader(data, len), *out = vstream_mem_writer();
	struct snap_reader *r = NULL;
	struct snap_writer *w = NULL;
	struct verr *err = NULL;
	assert_int_equal(snap_reader_new(in, 0, &r, &err), 0);
	assert_int_equal(snap_writer_new(out, 0, &w, &err), 0);
	struct snap_section sec;
	uint8_t *ram = NULL;
	while (snap_reader_next(r, &sec, &err) == 1) {
		if (sec.is_ram) {
			ram = xcalloc(1, sec.ram_size);
			assert_int_equal(snap_ram_load(r, ram, sec.ram_size, &err), 0);
			assert_int_equal(snap_write_ram(w, ram, sec.ram_size, &err), 0);
			free(ram);
			continue;
		}
		if (!strcmp(sec.name, name)) {
			if (drop)
				continue;
			uint8_t *p = xmalloc(sec.len);
			memcpy(p, sec.data, sec.len);
			fn(p, sec.len);
			assert_int_equal(snap_put_section(w, sec.name, sec.version, sec.flags, p, sec.len, &err), 0);
			free(p);
			continue;
		}
		assert_int_equal(snap_put_section(w, sec.name, sec.version, sec.flags, sec.data, sec.len, &err), 0);
	}
	assert_null(err);
	assert_int_equal(snap_writer_finish(w, &err), 0);
	snap_writer_destroy(w);
	snap_reader_destroy(r);
	vstream_destroy(in);
	return out;
}

static void bad_priv(uint8_t *p, size_t n)
{
	p[OFF_PRIV] = 2;
}

/* virtio-mmio state: put queue 0's rings outside RAM and mark it ready. */
static void queue_outside_ram(uint8_t *p, size_t n)
{
	struct virtio_mmio_state st;
	assert_int_equal(n, sizeof(st));
	memcpy(&st, p, n);
	st.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
	st.drv_features = 1ull << VIRTIO_F_VERSION_1;
	st.vq[0].num = 16;
	st.vq[0].ready = true;
	st.vq[0].desc_gpa = 0x10000000; /* MMIO, not RAM */
	st.vq[0].avail_gpa = 0x80001000;
	st.vq[0].used_gpa = 0x80002000;
	memcpy(p, &st, n);
}

static void bool_byte(uint8_t *p, size_t n)
{
	p[offsetof(struct virtio_mmio_state, vq) + offsetof(struct virtq, ready)] = 7;
}

static void bad_mtime(uint8_t *p, size_t n)
{
	memset(p + n - 8, 0xff, 8);
}

static void test_machine_hostile(void **state)
{
	struct machine_config cfg = small_cfg(1);
	struct verr *err = NULL;
	struct machine *a = machine_create_incoming(&cfg, &err);
	assert_non_null(a);
	struct vstream *s = save_machine(a);
	size_t len;
	const void *data = vstream_mem_data(s, &len);
	static const struct {
		const char *section;
		void (*fn)(uint8_t *, size_t);
		bool drop;
		const char *msg;
	} cases[] = {
		{ "cpu0", bad_priv, false, "privilege level" },
		{ "virtio0", queue_outside_ram, false, "virtio0" },
		{ "virtio0", bool_byte, false, "virtio0" },
		{ "machine", bad_mtime, false, "mtime" },
		{ "cpu0", NULL, true, "no section cpu0" },
		{ "dev.plic", NULL, true, "no section dev.plic" },
		{ "machine", NULL, true, "before the machine section" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vstream *bad = rewrite(data, len, cases[i].section, cases[i].fn, cases[i].drop);
		size_t blen;
		const void *bdata = vstream_mem_data(bad, &blen);
		err = NULL;
		assert_int_equal(load_into(&cfg, bdata, blen, NULL, &err), -1);
		assert_non_null(err);
		if (!strstr(err->msg, cases[i].msg))
			fail_msg("case %zu: '%s' does not mention '%s'", i, err->msg, cases[i].msg);
		verr_free(err);
		vstream_destroy(bad);
	}
	/* truncated anywhere: refused, never crashes */
	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		err = NULL;
		assert_int_equal(load_into(&cfg, data, cut, NULL, &err), -1);
		verr_free(err);
	}
	vstream_destroy(s);
	machine_destroy(a);
}

/* ---- the owner's actions ---- */

static int add_one(struct machine *m, void *arg)
{
	(*(int *)arg)++;
	return 7;
}

static void test_pause_resume_call(void **state)
{
	struct machine_config cfg = small_cfg(1);
	struct verr *err = NULL;
	struct machine *m = machine_create_incoming(&cfg, &err);
	assert_non_null(m);
	assert_true(machine_is_paused(m));
	int n = 0;
	assert_int_equal(machine_call(m, add_one, &n), 7); /* on the owner: runs at once */
	assert_int_equal(n, 1);
	assert_int_equal(machine_pause(m, &err), -1);
	assert_int_equal(err->errnum, EALREADY);
	verr_free(err);
	err = NULL;
	/* an incoming machine with no state: its hart is STOPPED, resuming
	 * runs a thread that sleeps; pausing again stops it */
	assert_int_equal(machine_resume(m, &err), 0);
	assert_false(machine_is_paused(m));
	assert_int_equal(machine_resume(m, &err), -1);
	assert_int_equal(err->errnum, EALREADY);
	verr_free(err);
	err = NULL;
	assert_int_equal(machine_pause(m, &err), 0);
	assert_true(machine_is_paused(m));
	/* saving requires a paused machine: it is */
	struct vstream *s = save_machine(m);
	vstream_destroy(s);
	machine_destroy(m);
}

/* machine_snapshot: a forked child writes the file while the VM goes on;
 * the file loads into another machine; a bad path fails cleanly and
 * leaves the machine as it was. */
static void test_snapshot_file(void **state)
{
	struct machine_config cfg = small_cfg(1);
	struct verr *err = NULL;
	struct machine *m = machine_create_incoming(&cfg, &err);
	assert_non_null(m);
	uint64_t size;
	uint8_t *ram = machine_ram(m, &size);
	memcpy(ram + 4096 * 3, "snapshot", 8);
	char dir[] = "/tmp/vessel-test-vmstate-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/vm.snap", dir);
	struct machine_snapshot_result res;
	if (machine_snapshot(m, path, false, &res, &err) < 0)
		fail_msg("snapshot: %s", err->msg);
	assert_true(res.bytes > 4096);
	assert_true(machine_is_paused(m)); /* it was paused before: stays so */
	struct vstream *s = NULL;
	struct snap_reader *r = NULL;
	assert_int_equal(vstream_file_reader(path, &s, &err), 0);
	assert_int_equal(vstream_size(s), res.bytes);
	assert_int_equal(snap_reader_new(s, 0, &r, &err), 0);
	struct machine *b = machine_create_incoming(&cfg, &err);
	if (machine_load_state(b, r, 0, &err) < 0)
		fail_msg("load: %s", err->msg);
	assert_memory_equal(machine_ram(b, &size) + 4096 * 3, "snapshot", 8);
	snap_reader_destroy(r);
	vstream_destroy(s);
	machine_destroy(b);
	/* a running VM stays running after a failed snapshot */
	assert_int_equal(machine_resume(m, &err), 0);
	char *bad = xasprintf("%s/no/such/dir/vm.snap", dir);
	assert_int_equal(machine_snapshot(m, bad, true, &res, &err), -1);
	assert_non_null(strstr(err->msg, "no/such/dir"));
	verr_free(err);
	err = NULL;
	assert_false(machine_is_paused(m));
	assert_int_equal(machine_pause(m, &err), 0); /* not busy any more */
	machine_destroy(m);
	unlink(path);
	rmdir(dir);
	free(path);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hart_round_trip),
		cmocka_unit_test(test_hart_hostile),
		cmocka_unit_test(test_machine_round_trip),
		cmocka_unit_test(test_machine_hostile),
		cmocka_unit_test(test_pause_resume_call),
		cmocka_unit_test(test_snapshot_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
