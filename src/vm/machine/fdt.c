#include "vm/machine/fdt.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/dev/aclint.h"
#include "vm/dev/goldfish_rtc.h"
#include "vm/dev/plic.h"
#include "vm/dev/syscon.h"
#include "vm/dev/uart16550.h"
#include "vm/machine/machine.h"

/* The hart implements Sstc (stimecmp, menvcfg.STCE) and Sv39/Sv48. */
const char vm_fdt_isa[] = "rv64imafdc_zicntr_zicsr_zifencei_sstc";
static const char *const vm_fdt_isa_ext[] = { "i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "sstc" };

#define TIMEBASE_HZ 10000000u

/* Phandles: cpu N = 1 + 2N, its interrupt controller 2 + 2N; then the rest. */
#define PH_CPU(n) (1u + 2u * (n))
#define PH_INTC(n) (2u + 2u * (n))
#define PH_PLIC 100u
#define PH_SYSCON 101u

static int fdt_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t r[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
	return fdt_property(fdt, "reg", r, sizeof(r));
}

static int fdt_begin_node_at(void *fdt, const char *name, uint64_t addr)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(fdt, buf);
}

/* Each step returns a libfdt error (<0) that the caller turns into a verr. */
static int fdt_cpus(void *fdt, const struct vm_fdt_info *info)
{
	int r = 0;
	r |= fdt_begin_node(fdt, "cpus");
	r |= fdt_property_u32(fdt, "#address-cells", 1);
	r |= fdt_property_u32(fdt, "#size-cells", 0);
	r |= fdt_property_u32(fdt, "timebase-frequency", TIMEBASE_HZ);
	for (unsigned i = 0; i < info->nr_harts; i++) {
		r |= fdt_begin_node_at(fdt, "cpu", i);
		r |= fdt_property_u32(fdt, "phandle", PH_CPU(i));
		r |= fdt_property_string(fdt, "device_type", "cpu");
		r |= fdt_property_u32(fdt, "reg", i);
		r |= fdt_property_string(fdt, "status", "okay");
		r |= fdt_property_string(fdt, "compatible", "riscv");
		r |= fdt_property_string(fdt, "riscv,isa", vm_fdt_isa);
		r |= fdt_property_string(fdt, "riscv,isa-base", "rv64i");
		char ext[256];
		size_t len = 0;
		for (size_t e = 0; e < ARRAY_SIZE(vm_fdt_isa_ext); e++) {
			size_t l = strlen(vm_fdt_isa_ext[e]) + 1;
			memcpy(ext + len, vm_fdt_isa_ext[e], l);
			len += l;
		}
		r |= fdt_property(fdt, "riscv,isa-extensions", ext, (int)len);
		r |= fdt_property_string(fdt, "mmu-type", "riscv,sv48");
		r |= fdt_begin_node(fdt, "interrupt-controller");
		r |= fdt_property_u32(fdt, "#interrupt-cells", 1);
		r |= fdt_property(fdt, "interrupt-controller", NULL, 0);
		r |= fdt_property_string(fdt, "compatible", "riscv,cpu-intc");
		r |= fdt_property_u32(fdt, "phandle", PH_INTC(i));
		r |= fdt_end_node(fdt);
		r |= fdt_end_node(fdt);
	}
	r |= fdt_begin_node(fdt, "cpu-map");
	r |= fdt_begin_node(fdt, "cluster0");
	for (unsigned i = 0; i < info->nr_harts; i++) {
		char name[16];
		snprintf(name, sizeof(name), "core%u", i);
		r |= fdt_begin_node(fdt, name);
		r |= fdt_property_u32(fdt, "cpu", PH_CPU(i));
		r |= fdt_end_node(fdt);
	}
	r |= fdt_end_node(fdt);
	r |= fdt_end_node(fdt);
	r |= fdt_end_node(fdt);
	return r;
}

/* interrupts-extended for a device wired to each hart's intc: per hart the
 * given cause numbers (e.g. M software 3 and M timer 7 for the CLINT). */
static int fdt_irqs_ext(void *fdt, unsigned nr_harts, uint32_t c0, uint32_t c1)
{
	fdt32_t v[4 * VM_MAX_CPUS];
	for (unsigned i = 0; i < nr_harts; i++) {
		v[4 * i + 0] = cpu_to_fdt32(PH_INTC(i));
		v[4 * i + 1] = cpu_to_fdt32(c0);
		v[4 * i + 2] = cpu_to_fdt32(PH_INTC(i));
		v[4 * i + 3] = cpu_to_fdt32(c1);
	}
	return fdt_property(fdt, "interrupts-extended", v, (int)(sizeof(v[0]) * 4 * nr_harts));
}

static int fdt_soc(void *fdt, const struct vm_fdt_info *info)
{
	int r = 0;
	r |= fdt_begin_node(fdt, "soc");
	r |= fdt_property_u32(fdt, "#address-cells", 2);
	r |= fdt_property_u32(fdt, "#size-cells", 2);
	r |= fdt_property_string(fdt, "compatible", "simple-bus");
	r |= fdt_property(fdt, "ranges", NULL, 0);

	r |= fdt_begin_node_at(fdt, "rtc", RTC_BASE_GPA);
	r |= fdt_property_u32(fdt, "interrupts", RTC_IRQ);
	r |= fdt_property_u32(fdt, "interrupt-parent", PH_PLIC);
	r |= fdt_reg(fdt, RTC_BASE_GPA, RTC_SIZE);
	r |= fdt_property_string(fdt, "compatible", "google,goldfish-rtc");
	r |= fdt_end_node(fdt);

	r |= fdt_begin_node_at(fdt, "serial", UART_BASE_GPA);
	r |= fdt_property_u32(fdt, "interrupts", UART_IRQ);
	r |= fdt_property_u32(fdt, "interrupt-parent", PH_PLIC);
	r |= fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ);
	r |= fdt_reg(fdt, UART_BASE_GPA, UART_SIZE);
	r |= fdt_property_string(fdt, "compatible", "ns16550a");
	r |= fdt_end_node(fdt);

	/* only the slots that hold a device: an empty slot would be probed for
	 * nothing */
	for (unsigned i = 0; i < info->nr_virtio && i < VM_VIRTIO_SLOTS; i++) {
		uint64_t base = VM_VIRTIO_BASE_GPA + 0x1000ull * i;
		r |= fdt_begin_node_at(fdt, "virtio_mmio", base);
		r |= fdt_property_u32(fdt, "interrupts", 1 + i);
		r |= fdt_property_u32(fdt, "interrupt-parent", PH_PLIC);
		r |= fdt_reg(fdt, base, 0x1000);
		r |= fdt_property(fdt, "dma-coherent", NULL, 0);
		r |= fdt_property_string(fdt, "compatible", "virtio,mmio");
		r |= fdt_end_node(fdt);
	}

	r |= fdt_begin_node_at(fdt, "test", SYSCON_BASE_GPA);
	r |= fdt_property_u32(fdt, "phandle", PH_SYSCON);
	r |= fdt_reg(fdt, SYSCON_BASE_GPA, SYSCON_SIZE);
	static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";
	r |= fdt_property(fdt, "compatible", test_compat, sizeof(test_compat));
	r |= fdt_end_node(fdt);

	r |= fdt_begin_node_at(fdt, "plic", PLIC_BASE_GPA);
	r |= fdt_property_u32(fdt, "phandle", PH_PLIC);
	r |= fdt_property_u32(fdt, "riscv,ndev", PLIC_NR_SOURCES - 1);
	r |= fdt_reg(fdt, PLIC_BASE_GPA, PLIC_SIZE);
	r |= fdt_irqs_ext(fdt, info->nr_harts, 11, 9); /* M external, S external */
	r |= fdt_property(fdt, "interrupt-controller", NULL, 0);
	static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
	r |= fdt_property(fdt, "compatible", plic_compat, sizeof(plic_compat));
	r |= fdt_property_u32(fdt, "#address-cells", 0);
	r |= fdt_property_u32(fdt, "#interrupt-cells", 1);
	r |= fdt_end_node(fdt);

	r |= fdt_begin_node_at(fdt, "clint", ACLINT_BASE_GPA);
	r |= fdt_irqs_ext(fdt, info->nr_harts, 3, 7); /* M software, M timer */
	r |= fdt_reg(fdt, ACLINT_BASE_GPA, ACLINT_SIZE);
	static const char clint_compat[] = "sifive,clint0\0riscv,clint0";
	r |= fdt_property(fdt, "compatible", clint_compat, sizeof(clint_compat));
	r |= fdt_end_node(fdt);

	r |= fdt_end_node(fdt);
	return r;
}

static int fdt_syscon_action(void *fdt, const char *name, uint32_t value)
{
	int r = 0;
	r |= fdt_begin_node(fdt, name);
	r |= fdt_property_u32(fdt, "value", value);
	r |= fdt_property_u32(fdt, "offset", 0);
	r |= fdt_property_u32(fdt, "regmap", PH_SYSCON);
	r |= fdt_property_string(fdt, "compatible", strcmp(name, "poweroff") == 0 ? "syscon-poweroff" : "syscon-reboot");
	r |= fdt_end_node(fdt);
	return r;
}

int vm_fdt_build(const struct vm_fdt_info *info, void **out, size_t *out_len, struct verr **err)
{
	size_t cap = 16384 + (info->bootargs ? strlen(info->bootargs) : 0);
	if (info->nr_harts == 0 || info->nr_harts > VM_MAX_CPUS)
		return verr_set(err, 0, "device tree: %u cpus (1 to %u)", info->nr_harts, VM_MAX_CPUS);
	void *fdt = xmalloc(cap);
	int r = 0;
	r |= fdt_create(fdt, (int)cap);
	r |= fdt_finish_reservemap(fdt);
	r |= fdt_begin_node(fdt, "");
	r |= fdt_property_u32(fdt, "#address-cells", 2);
	r |= fdt_property_u32(fdt, "#size-cells", 2);
	r |= fdt_property_string(fdt, "compatible", "riscv-virtio");
	r |= fdt_property_string(fdt, "model", "riscv-virtio,vessel");

	r |= fdt_begin_node(fdt, "chosen");
	char stdout_path[64];
	snprintf(stdout_path, sizeof(stdout_path), "/soc/serial@%llx", (unsigned long long)UART_BASE_GPA);
	r |= fdt_property_string(fdt, "stdout-path", stdout_path);
	if (info->bootargs)
		r |= fdt_property_string(fdt, "bootargs", info->bootargs);
	if (info->initrd_end_gpa > info->initrd_start_gpa) {
		r |= fdt_property_u64(fdt, "linux,initrd-start", info->initrd_start_gpa);
		r |= fdt_property_u64(fdt, "linux,initrd-end", info->initrd_end_gpa);
	}
	r |= fdt_end_node(fdt);

	r |= fdt_syscon_action(fdt, "poweroff", 0x5555);
	r |= fdt_syscon_action(fdt, "reboot", 0x7777);

	r |= fdt_begin_node_at(fdt, "memory", info->ram_base_gpa);
	r |= fdt_property_string(fdt, "device_type", "memory");
	r |= fdt_reg(fdt, info->ram_base_gpa, info->ram_size);
	r |= fdt_end_node(fdt);

	r |= fdt_cpus(fdt, info);
	r |= fdt_soc(fdt, info);
	r |= fdt_end_node(fdt);
	r |= fdt_finish(fdt);
	if (r == 0)
		r = fdt_pack(fdt);
	if (r != 0) {
		free(fdt);
		return verr_set(err, 0, "device tree: libfdt error");
	}
	*out_len = fdt_totalsize(fdt);
	*out = fdt;
	return 0;
}
