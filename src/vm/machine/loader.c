#include "vm/machine/loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

/* RISC-V Linux Image header (Documentation/arch/riscv/boot-image-header.rst). */
struct riscv_image_header {
	uint32_t code0, code1;
	uint64_t text_offset, image_size, flags;
	uint32_t version, res1;
	uint64_t res2;
	uint64_t magic;  /* "RISCV\0\0\0", deprecated */
	uint32_t magic2; /* "RSC\x05" */
	uint32_t res3;
};
#define RISCV_IMAGE_MAGIC 0x5643534952ull
#define RISCV_IMAGE_MAGIC2 0x05435352u

/* Is [gpa, gpa+len) inside [lo, hi)? */
static bool range_ok(uint64_t gpa, uint64_t len, uint64_t lo, uint64_t hi)
{
	return gpa >= lo && gpa <= hi && len <= hi - gpa;
}

static int load_elf(const struct vm_ram *ram, int fd, const char *path, uint64_t fsize, uint64_t lo,
		    uint64_t hi, struct vm_image *out, struct verr **err)
{
	Elf64_Ehdr eh;
	if (fsize < sizeof(eh) || pread_full(fd, &eh, sizeof(eh), 0) < 0)
		return verr_set(err, 0, "'%s': truncated ELF header", path);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_RISCV)
		return verr_set(err, 0, "'%s': not a 64-bit little-endian RISC-V ELF file", path);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256 ||
	    eh.e_phoff > fsize || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > fsize - eh.e_phoff)
		return verr_set(err, 0, "'%s': bad ELF program header table", path);
	Elf64_Phdr ph[256];
	if (pread_full(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff) < 0)
		return verr_set(err, 0, "'%s': cannot read ELF program headers", path);
	uint64_t start = UINT64_MAX, end = 0;
	/* Check everything first, then copy. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_offset > fsize || ph[i].p_filesz > fsize - ph[i].p_offset)
			return verr_set(err, 0, "'%s': ELF segment %u is malformed", path, i);
		if (!range_ok(ph[i].p_paddr, ph[i].p_memsz, lo, hi))
			return verr_set(err, 0,
					"'%s': ELF segment %u at 0x%llx-0x%llx does not fit in guest RAM 0x%llx-0x%llx",
					path, i, (unsigned long long)ph[i].p_paddr,
					(unsigned long long)(ph[i].p_paddr + ph[i].p_memsz), (unsigned long long)lo,
					(unsigned long long)hi);
		if (ph[i].p_paddr < start)
			start = ph[i].p_paddr;
		if (ph[i].p_paddr + ph[i].p_memsz > end)
			end = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (end == 0)
		return verr_set(err, 0, "'%s': ELF file has no loadable segment", path);
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		uint8_t *dst = ram->hva + (ph[i].p_paddr - ram->base_gpa);
		int e = pread_full(fd, dst, ph[i].p_filesz, ph[i].p_offset);
		if (e < 0)
			return verr_set(err, -e, "'%s': read", path);
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}
	out->entry_gpa = eh.e_entry;
	out->start_gpa = start;
	out->end_gpa = end;
	out->kind = "elf";
	return 0;
}

int vm_load_image(const struct vm_ram *ram, const char *path, uint64_t load_gpa, uint64_t load_min_gpa,
		  uint64_t limit_gpa, struct vm_image *out, struct verr **err)
{
	uint64_t fsize;
	int fd = open_regular_file(path, &fsize, err);
	if (fd < 0)
		return -1;
	uint64_t lo = load_min_gpa > ram->base_gpa ? load_min_gpa : ram->base_gpa;
	uint64_t hi = limit_gpa < ram->base_gpa + ram->size ? limit_gpa : ram->base_gpa + ram->size;
	int ret = -1;
	uint8_t magic[4] = { 0 };
	struct riscv_image_header ih;
	if (fsize == 0) {
		verr_set(err, 0, "'%s': empty file", path);
		goto out;
	}
	int e = fsize >= 4 ? pread_full(fd, magic, 4, 0) : 0;
	if (e < 0) {
		verr_set(err, -e, "'%s': read", path);
		goto out;
	}
	if (memcmp(magic, ELFMAG, SELFMAG) == 0) {
		ret = load_elf(ram, fd, path, fsize, lo, hi, out, err);
		goto out;
	}
	uint64_t mem_len = fsize;
	out->kind = "raw";
	if (fsize >= sizeof(ih) && pread_full(fd, &ih, sizeof(ih), 0) == 0 &&
	    (ih.magic2 == RISCV_IMAGE_MAGIC2 || ih.magic == RISCV_IMAGE_MAGIC)) {
		out->kind = "linux-image";
		/* image_size covers text, data and bss: the kernel needs all
		 * of it (0 in very old headers: the file size then). */
		if (ih.image_size > mem_len)
			mem_len = ih.image_size;
	}
	if (!range_ok(load_gpa, mem_len, lo, hi)) {
		verr_set(err, 0, "'%s': %llu bytes at 0x%llx do not fit in guest RAM (free 0x%llx-0x%llx)", path,
			 (unsigned long long)mem_len, (unsigned long long)load_gpa, (unsigned long long)lo,
			 (unsigned long long)hi);
		goto out;
	}
	e = pread_full(fd, ram->hva + (load_gpa - ram->base_gpa), fsize, 0);
	if (e < 0) {
		verr_set(err, -e, "'%s': read", path);
		goto out;
	}
	out->entry_gpa = load_gpa;
	out->start_gpa = load_gpa;
	out->end_gpa = load_gpa + mem_len;
	ret = 0;
out:
	close(fd);
	return ret;
}

int vm_load_blob_high(const struct vm_ram *ram, const char *path, uint64_t min_gpa, uint64_t top_gpa,
		      uint64_t align, struct vm_image *out, struct verr **err)
{
	uint64_t fsize;
	int fd = open_regular_file(path, &fsize, err);
	if (fd < 0)
		return -1;
	int ret = -1;
	uint64_t lo = min_gpa > ram->base_gpa ? min_gpa : ram->base_gpa;
	uint64_t hi = top_gpa < ram->base_gpa + ram->size ? top_gpa : ram->base_gpa + ram->size;
	if (hi < lo || fsize > hi - lo || ((hi - fsize) & ~(align - 1)) < lo) {
		verr_set(err, 0, "'%s': %llu bytes do not fit in guest RAM (free 0x%llx-0x%llx)", path,
			 (unsigned long long)fsize, (unsigned long long)lo, (unsigned long long)hi);
		goto out;
	}
	uint64_t start = (hi - fsize) & ~(align - 1);
	int e = pread_full(fd, ram->hva + (start - ram->base_gpa), fsize, 0);
	if (e < 0) {
		verr_set(err, -e, "'%s': read", path);
		goto out;
	}
	out->entry_gpa = start;
	out->start_gpa = start;
	out->end_gpa = start + fsize;
	out->kind = "raw";
	ret = 0;
out:
	close(fd);
	return ret;
}
