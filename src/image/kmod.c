/* Kernel modules of a Debian kernel package: dependency resolution from each
 * module's .modinfo "depends=" entry (what depmod reads; the package ships
 * no modules.dep because depmod runs at install time), load order with every
 * module after its dependencies. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "image/image_int.h"

#define MOD_MAX_SIZE (64u << 20) /* one decompressed module */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}
static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

/* ELF-64 (System V gABI, "Sections"): header fields at fixed offsets. */
int kmod_depends(const void *ko, size_t len, char **out, struct verr **err)
{
	const uint8_t *b = ko;
	if (len < 64 || memcmp(b, "\177ELF", 4) != 0)
		return verr_set(err, 0, "not an ELF file");
	if (b[4] != 2 || b[5] != 1)
		return verr_set(err, 0, "not a 64-bit little-endian ELF file");
	uint64_t shoff = rd64(b + 0x28);
	uint16_t shentsize = rd16(b + 0x3a), shnum = rd16(b + 0x3c), shstrndx = rd16(b + 0x3e);
	if (shentsize < 64 || shnum == 0 || shstrndx >= shnum || shoff > len ||
	    (uint64_t)shentsize * shnum > len - shoff)
		return verr_set(err, 0, "bad ELF section header table");
	const uint8_t *strsh = b + shoff + (uint64_t)shstrndx * shentsize;
	uint64_t stroff = rd64(strsh + 24), strsize = rd64(strsh + 32);
	if (stroff > len || strsize > len - stroff)
		return verr_set(err, 0, "bad ELF section name table");
	for (unsigned i = 0; i < shnum; i++) {
		const uint8_t *sh = b + shoff + (uint64_t)i * shentsize;
		uint32_t name = rd32(sh);
		uint64_t off = rd64(sh + 24), size = rd64(sh + 32);
		static const char want[] = ".modinfo";
		if (name >= strsize || strsize - name < sizeof(want) ||
		    memcmp(b + stroff + name, want, sizeof(want)) != 0)
			continue;
		if (off > len || size > len - off)
			return verr_set(err, 0, "bad .modinfo section");
		/* NUL-separated "key=value" strings. */
		const char *p = (const char *)b + off, *end = p + size;
		while (p < end) {
			const char *z = memchr(p, '\0', (size_t)(end - p));
			const char *e = z ? z : end;
			if ((size_t)(e - p) >= 8 && memcmp(p, "depends=", 8) == 0) {
				size_t n = (size_t)(e - p) - 8;
				char *r = xmalloc(n + 1);
				memcpy(r, p + 8, n);
				r[n] = '\0';
				*out = r;
				return 0;
			}
			p = e + 1;
		}
		*out = xstrdup("");
		return 0;
	}
	return verr_set(err, 0, "no .modinfo section (not a kernel module?)");
}

char *kmod_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *n = xstrdup(base);
	char *ko = strstr(n, ".ko");
	if (ko)
		*ko = '\0';
	for (char *q = n; *q; q++)
		if (*q == '-')
			*q = '_';
	return n;
}

/* Module file name once decompressed: "virtio-rng.ko.xz" -> "virtio-rng.ko". */
static char *plain_file_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *n = xstrdup(base ? base + 1 : path);
	char *ko = strstr(n, ".ko");
	if (ko)
		ko[3] = '\0';
	return n;
}

struct kmod {
	char *name;      /* canonical */
	char *path;      /* inside the package */
	void *data;      /* compressed as shipped */
	size_t len;
	enum { KM_NEW, KM_VISITING, KM_DONE } state;
};

struct kmod_set {
	struct kmod *mods;
	size_t n, cap;
	char **builtin;
	size_t n_builtin;
	/* load order */
	const char **o_names;
	const void **o_data;
	size_t *o_lens;
	char **o_owned_names;
	void **o_owned_data;
	size_t n_order;
};

struct kmod_set *kmod_set_new(void)
{
	return xcalloc(1, sizeof(struct kmod_set));
}

void kmod_set_free(struct kmod_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->mods[i].name);
		free(s->mods[i].path);
		free(s->mods[i].data);
	}
	free(s->mods);
	for (size_t i = 0; i < s->n_builtin; i++)
		free(s->builtin[i]);
	free(s->builtin);
	for (size_t i = 0; i < s->n_order; i++) {
		free(s->o_owned_names[i]);
		free(s->o_owned_data[i]);
	}
	free(s->o_names);
	free(s->o_data);
	free(s->o_lens);
	free(s->o_owned_names);
	free(s->o_owned_data);
	free(s);
}

void kmod_set_add(struct kmod_set *s, const char *path, void *data, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->mods = xrealloc(s->mods, s->cap * sizeof(*s->mods));
	}
	s->mods[s->n++] = (struct kmod){
		.name = kmod_name(path), .path = xstrdup(path), .data = data, .len = len,
	};
}

void kmod_set_builtin(struct kmod_set *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if (e > p) {
			char *line = xmalloc((size_t)(e - p) + 1);
			memcpy(line, p, (size_t)(e - p));
			line[e - p] = '\0';
			s->builtin = xrealloc(s->builtin, (s->n_builtin + 1) * sizeof(char *));
			s->builtin[s->n_builtin++] = kmod_name(line);
			free(line);
		}
		p = e + 1;
	}
}

static struct kmod *find_mod(struct kmod_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->mods[i].name, name) == 0)
			return &s->mods[i];
	return NULL;
}

static bool is_builtin(const struct kmod_set *s, const char *name)
{
	for (size_t i = 0; i < s->n_builtin; i++)
		if (strcmp(s->builtin[i], name) == 0)
			return true;
	return false;
}

static int want(struct kmod_set *s, const char *raw_name, unsigned depth, struct verr **err)
{
	cleanup_free char *name = kmod_name(raw_name);
	struct kmod *m = find_mod(s, name);
	if (!m) {
		if (is_builtin(s, name))
			return 0;
		return verr_set(err, 0, "module %s: not in the kernel package", name);
	}
	if (m->state == KM_DONE)
		return 0;
	if (m->state == KM_VISITING || depth > 64)
		return verr_set(err, 0, "module %s: dependency cycle", name);
	m->state = KM_VISITING;
	void *ko;
	size_t ko_len;
	if (decompress_buf(m->data, m->len, MOD_MAX_SIZE, &ko, &ko_len, err) < 0)
		return verr_wrap(err, "module %s", m->path);
	char *deps;
	if (kmod_depends(ko, ko_len, &deps, err) < 0) {
		free(ko);
		return verr_wrap(err, "module %s", m->path);
	}
	char *save = NULL;
	for (char *d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
		if (!*d)
			continue;
		if (want(s, d, depth + 1, err) < 0) {
			free(deps);
			free(ko);
			return verr_wrap(err, "needed by %s", name);
		}
	}
	free(deps);
	/* find_mod's pointer is stable: the table does not grow while resolving. */
	m->state = KM_DONE;
	size_t i = s->n_order++;
	s->o_names = xrealloc(s->o_names, s->n_order * sizeof(*s->o_names));
	s->o_data = xrealloc(s->o_data, s->n_order * sizeof(*s->o_data));
	s->o_lens = xrealloc(s->o_lens, s->n_order * sizeof(*s->o_lens));
	s->o_owned_names = xrealloc(s->o_owned_names, s->n_order * sizeof(char *));
	s->o_owned_data = xrealloc(s->o_owned_data, s->n_order * sizeof(void *));
	s->o_owned_names[i] = plain_file_name(m->path);
	s->o_owned_data[i] = ko;
	s->o_names[i] = s->o_owned_names[i];
	s->o_data[i] = ko;
	s->o_lens[i] = ko_len;
	return 0;
}

int kmod_set_want(struct kmod_set *s, const char *name, struct verr **err)
{
	return want(s, name, 0, err);
}

size_t kmod_set_order(const struct kmod_set *s, const char ***names, const void ***data,
		      const size_t **lens)
{
	*names = s->o_names;
	*data = s->o_data;
	*lens = s->o_lens;
	return s->n_order;
}
