/* Unit tests of the virt board: device tree contents (read back with
 * libfdt), image loading and its errors, machine configuration checks. */
#include <elf.h>
#include <errno.h>
#include <libfdt.h>
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
#include "vm/machine/fdt.h"
#include "vm/machine/loader.h"
#include "vm/machine/machine.h"

static char tmpdir[] = "/tmp/vessel-test-machine-XXXXXX";

static char *tmp_file(const char *name, const void *data, size_t len)
{
	char *path = NULL;
	assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

static const char *prop_str(const void *fdt, const char *path, const char *name)
{
	int off = fdt_path_offset(fdt, path);
	assert_true(off >= 0);
	const char *v = fdt_getprop(fdt, off, name, NULL);
	assert_non_null(v);
	return v;
}

static uint32_t prop_u32(const void *fdt, const char *path, const char *name)
{
	int off = fdt_path_offset(fdt, path), len;
	assert_true(off >= 0);
	const fdt32_t *v = fdt_getprop(fdt, off, name, &len);
	assert_non_null(v);
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*v);
}

static void test_fdt_contents(void **state)
{
	struct vm_fdt_info info = {
		.ram_base_gpa = 0x80000000, .ram_size = 256 << 20, .nr_harts = 3,
		.bootargs = "console=ttyS0", .initrd_start_gpa = 0x8f000000, .initrd_end_gpa = 0x8f100000,
	};
	void *fdt;
	size_t len;
	struct verr *err = NULL;
	assert_int_equal(vm_fdt_build(&info, &fdt, &len, &err), 0);
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), len);
	assert_string_equal(prop_str(fdt, "/chosen", "bootargs"), "console=ttyS0");
	assert_string_equal(prop_str(fdt, "/chosen", "stdout-path"), "/soc/serial@10000000");
	int off = fdt_path_offset(fdt, "/chosen"), plen;
	const fdt64_t *i0 = fdt_getprop(fdt, off, "linux,initrd-start", &plen);
	assert_non_null(i0);
	assert_int_equal(fdt64_ld(i0), 0x8f000000);
	/* memory */
	off = fdt_path_offset(fdt, "/memory@80000000");
	const fdt64_t *reg = fdt_getprop(fdt, off, "reg", &plen);
	assert_int_equal(plen, 16);
	assert_int_equal(fdt64_ld(&reg[0]), 0x80000000);
	assert_int_equal(fdt64_ld(&reg[1]), 256 << 20);
	/* cpus: exactly 3, canonical ISA string without extensions we lack */
	assert_int_equal(prop_u32(fdt, "/cpus", "timebase-frequency"), 10000000);
	assert_true(fdt_path_offset(fdt, "/cpus/cpu@2") >= 0);
	assert_true(fdt_path_offset(fdt, "/cpus/cpu@3") < 0);
	const char *isa = prop_str(fdt, "/cpus/cpu@1", "riscv,isa");
	assert_int_equal(strncmp(isa, "rv64imafdc_", 11), 0);
	assert_null(strstr(isa, "zkr"));
	assert_null(strstr(isa, "_h"));
	assert_string_equal(prop_str(fdt, "/cpus/cpu@0", "mmu-type"), "riscv,sv48");
	assert_string_equal(prop_str(fdt, "/cpus/cpu@0/interrupt-controller", "compatible"), "riscv,cpu-intc");
	assert_true(fdt_path_offset(fdt, "/cpus/cpu-map/cluster0/core2") >= 0);
	/* devices */
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "riscv,plic0") >= 0, 1);
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "riscv,clint0") >= 0, 1);
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "google,goldfish-rtc") >= 0, 1);
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "syscon-poweroff") >= 0, 1);
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "syscon-reboot") >= 0, 1);
	assert_int_equal(prop_u32(fdt, "/soc/serial@10000000", "clock-frequency"), 3686400);
	assert_int_equal(prop_u32(fdt, "/soc/serial@10000000", "interrupts"), 10);
	assert_int_equal(prop_u32(fdt, "/poweroff", "value"), 0x5555);
	assert_int_equal(prop_u32(fdt, "/reboot", "value"), 0x7777);
	/* the PLIC routes M and S external interrupts of every hart */
	off = fdt_path_offset(fdt, "/soc/plic@c000000");
	const fdt32_t *ie = fdt_getprop(fdt, off, "interrupts-extended", &plen);
	assert_int_equal(plen, 3 * 4 * 4);
	assert_int_equal(fdt32_to_cpu(ie[1]), 11);
	assert_int_equal(fdt32_to_cpu(ie[3]), 9);
	uint32_t intc2 = prop_u32(fdt, "/cpus/cpu@2/interrupt-controller", "phandle");
	assert_int_equal(fdt32_to_cpu(ie[8]), intc2);
	uint32_t plic_ph = prop_u32(fdt, "/soc/plic@c000000", "phandle");
	assert_int_equal(prop_u32(fdt, "/soc/serial@10000000", "interrupt-parent"), plic_ph);
	free(fdt);
	/* bad cpu counts */
	info.nr_harts = 0;
	assert_int_equal(vm_fdt_build(&info, &fdt, &len, &err), -1);
	assert_non_null(err);
	verr_clear(&err);
}

static struct vm_ram ram_setup(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return (struct vm_ram){ p, 0x80000000, size };
}

static void test_loader_image_and_raw(void **state)
{
	struct vm_ram ram = ram_setup(4 << 20);
	struct vm_image img;
	struct verr *err = NULL;
	/* A Linux Image header whose image_size (bss) exceeds the file */
	uint8_t hdr[64] = { 0 };
	uint64_t image_size = 3 << 20;
	memcpy(hdr + 16, &image_size, 8);
	memcpy(hdr + 56, "RSC\x05", 4);
	char *p = tmp_file("Image", hdr, sizeof(hdr));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	assert_non_null(strstr(err->msg, "do not fit"));
	verr_clear(&err);
	image_size = 1 << 20;
	memcpy(hdr + 16, &image_size, 8);
	hdr[0] = 0x4d;
	free(p);
	p = tmp_file("Image", hdr, sizeof(hdr));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), 0);
	assert_string_equal(img.kind, "linux-image");
	assert_int_equal(img.entry_gpa, 0x80200000);
	assert_int_equal(img.end_gpa, 0x80300000);
	assert_int_equal(ram.hva[0x200000], 0x4d);
	free(p);
	/* raw binary */
	p = tmp_file("raw.bin", "\x13\x00\x00\x00", 4);
	assert_int_equal(vm_load_image(&ram, p, 0x80000000, 0x80000000, 0x80400000, &img, &err), 0);
	assert_string_equal(img.kind, "raw");
	assert_int_equal(img.end_gpa, 0x80000004);
	free(p);
	/* missing, empty, directory */
	assert_int_equal(vm_load_image(&ram, "/nonexistent/k", 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	verr_clear(&err);
	p = tmp_file("empty", "", 0);
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	verr_clear(&err);
	free(p);
	assert_int_equal(vm_load_image(&ram, tmpdir, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	assert_non_null(strstr(err->msg, "not a regular file"));
	verr_clear(&err);
	/* initrd placed high, aligned, and refused when too big */
	static uint8_t blob[10000];
	blob[0] = 0xab;
	p = tmp_file("initrd", blob, sizeof(blob));
	assert_int_equal(vm_load_blob_high(&ram, p, 0x80300000, 0x80400000, 4096, &img, &err), 0);
	assert_int_equal(img.start_gpa, (0x80400000 - sizeof(blob)) & ~4095ull);
	assert_int_equal(ram.hva[img.start_gpa - 0x80000000], 0xab);
	assert_int_equal(vm_load_blob_high(&ram, p, 0x803ff000, 0x80400000, 4096, &img, &err), -1);
	verr_clear(&err);
	free(p);
	munmap(ram.hva, ram.size);
}

static void test_loader_elf(void **state)
{
	struct vm_ram ram = ram_setup(4 << 20);
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
		uint8_t code[8];
	} f;
	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_machine = EM_RISCV;
	f.eh.e_entry = 0x80001000;
	f.eh.e_phoff = offsetof(__typeof__(f), ph);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 2;
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = offsetof(__typeof__(f), code), .p_paddr = 0x80001000,
				.p_filesz = 8, .p_memsz = 64 };
	f.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE };
	memcpy(f.code, "ABCDEFGH", 8);
	memset(ram.hva + 0x1000, 0xff, 128);
	struct vm_image img;
	struct verr *err = NULL;
	char *p = tmp_file("k.elf", &f, sizeof(f));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), 0);
	assert_string_equal(img.kind, "elf");
	assert_int_equal(img.entry_gpa, 0x80001000);
	assert_memory_equal(ram.hva + 0x1000, "ABCDEFGH", 8);
	assert_int_equal(ram.hva[0x1000 + 63], 0); /* bss zeroed */
	assert_int_equal(ram.hva[0x1000 + 64], 0xff);
	free(p);
	/* a segment outside RAM */
	f.ph[0].p_paddr = 0x10000000;
	p = tmp_file("k.elf", &f, sizeof(f));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	assert_non_null(strstr(err->msg, "does not fit"));
	verr_clear(&err);
	free(p);
	/* file size beyond the file, wrapping address */
	f.ph[0].p_paddr = 0x80001000;
	f.ph[0].p_filesz = 4096;
	f.ph[0].p_memsz = 4096;
	p = tmp_file("k.elf", &f, sizeof(f));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	verr_clear(&err);
	free(p);
	f.ph[0].p_filesz = 8;
	f.ph[0].p_paddr = UINT64_MAX - 4;
	p = tmp_file("k.elf", &f, sizeof(f));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	verr_clear(&err);
	free(p);
	/* wrong machine */
	f.ph[0].p_paddr = 0x80001000;
	f.eh.e_machine = EM_X86_64;
	p = tmp_file("k.elf", &f, sizeof(f));
	assert_int_equal(vm_load_image(&ram, p, 0x80200000, 0x80000000, 0x80400000, &img, &err), -1);
	assert_non_null(strstr(err->msg, "RISC-V"));
	verr_clear(&err);
	free(p);
	munmap(ram.hva, ram.size);
}

static void test_machine_create(void **state)
{
	static const uint8_t code[4] = { 0x6f, 0, 0, 0 }; /* j . */
	char *k = tmp_file("kernel.bin", code, sizeof(code));
	static uint8_t big[17 << 20];
	char *i = tmp_file("initrd.big", big, sizeof(big));
	struct machine_config cfg = {
		.ram_size = 32 << 20, .nr_cpus = 2, .kernel = k, .cmdline = "x",
		.console_in_fd = -1, .console_out_fd = -1,
	};
	struct verr *err = NULL;
	struct machine *m = machine_create(&cfg, &err);
	assert_non_null(m);
	size_t len;
	const void *dtb = machine_dtb(m, &len);
	assert_int_equal(fdt_check_header(dtb), 0);
	assert_true(fdt_path_offset(dtb, "/cpus/cpu@1") >= 0);
	machine_destroy(m);
	/* an initrd that does not fit */
	cfg.initrd = i;
	cfg.ram_size = 16 << 20;
	assert_null(machine_create(&cfg, &err));
	assert_non_null(strstr(err->msg, "--initrd"));
	verr_clear(&err);
	/* that fits with more RAM, and is described in /chosen */
	cfg.ram_size = 64 << 20;
	m = machine_create(&cfg, &err);
	assert_non_null(m);
	dtb = machine_dtb(m, &len);
	int off = fdt_path_offset(dtb, "/chosen"), plen;
	const fdt64_t *s = fdt_getprop(dtb, off, "linux,initrd-start", &plen);
	const fdt64_t *e = fdt_getprop(dtb, off, "linux,initrd-end", &plen);
	assert_non_null(s);
	assert_int_equal(fdt64_ld(e) - fdt64_ld(s), sizeof(big));
	assert_true(fdt64_ld(e) <= 0x80000000ull + (64 << 20));
	machine_destroy(m);
	/* bad configurations */
	cfg.initrd = NULL;
	cfg.nr_cpus = 9;
	assert_null(machine_create(&cfg, &err));
	verr_clear(&err);
	cfg.nr_cpus = 1;
	cfg.ram_size = 1 << 20;
	assert_null(machine_create(&cfg, &err));
	verr_clear(&err);
	cfg.ram_size = 32 << 20;
	cfg.kernel = NULL;
	assert_null(machine_create(&cfg, &err));
	verr_clear(&err);
	cfg.kernel = "/nonexistent";
	assert_null(machine_create(&cfg, &err));
	assert_non_null(strstr(err->msg, "--kernel"));
	verr_clear(&err);
	free(k);
	free(i);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdt_contents),
		cmocka_unit_test(test_loader_image_and_raw),
		cmocka_unit_test(test_loader_elf),
		cmocka_unit_test(test_machine_create),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
