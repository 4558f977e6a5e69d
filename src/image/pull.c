/* `vessel image pull debian`: the chain of trust is Debian's archive keyring
 * -> InRelease (gpgv) -> SHA256 of Packages.xz -> SHA256 and size of each
 * .deb; every file is checked before anything uses it. See docs/images.md. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image_int.h"

#define DEFAULT_RELEASE "trixie"
#define DEFAULT_MIRROR "http://deb.debian.org/debian"
#define DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define ARCH "riscv64"
#define KERNEL_META "linux-image-riscv64"
#define BUSYBOX_PKG "busybox-static"
#define INRELEASE_MAX (16u << 20)
#define PACKAGES_MAX (1u << 30)
#define KERNEL_MAX (512u << 20)
#define BUSYBOX_MAX (64u << 20)
#define MODULE_FILE_MAX (64u << 20)

/* Modules the guest loads (Debian builds virtio_mmio as a module);
 * crc32c_generic: ext4 asks the crypto API for "crc32c" (metadata_csum) at
 * mount time and nothing declares that dependency. Built-in ones are
 * skipped. */
static const char *const wanted_modules[] = {
	"virtio_mmio", "virtio_blk", "virtio_net", "virtio_console", "virtio_rng",
	"crc32c_generic", "ext4",
};

static void note(const struct image_pull_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(const struct image_pull_opts *o, const char *fmt, ...)
{
	if (!o->note)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) >= 0) {
		o->note(o->cb_ctx, m);
		free(m);
	}
	va_end(ap);
}

static int mkdir_p(const char *path, struct verr **err)
{
	cleanup_free char *p = xstrdup(path);
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return verr_set(err, errno, "mkdir '%s'", p);
		*q = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return verr_set(err, errno, "mkdir '%s'", p);
	return 0;
}

/* ---- manifest: "key=value" lines ---- */

struct manifest {
	char *text;
};

static const char *manifest_get(const struct manifest *m, const char *key, char *buf, size_t len)
{
	if (!m->text)
		return NULL;
	size_t kl = strlen(key);
	for (const char *p = m->text; *p;) {
		const char *e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if ((size_t)(e - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t n = (size_t)(e - p) - kl - 1;
			if (n >= len)
				return NULL;
			memcpy(buf, p + kl + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

static bool manifest_is(const struct manifest *m, const char *key, const char *want)
{
	char buf[512];
	const char *v = manifest_get(m, key, buf, sizeof(buf));
	return v && strcmp(v, want) == 0;
}

/* The file exists and its hash is the manifest's "<key>" entry. */
static bool manifest_file_ok(const struct manifest *m, const char *dir, const char *file,
			     const char *key)
{
	char buf[128];
	uint8_t want[APT_SHA256_LEN], got[APT_SHA256_LEN];
	const char *v = manifest_get(m, key, buf, sizeof(buf));
	cleanup_free char *p = xasprintf("%s/%s", dir, file);
	return v && apt_hex_sha256(v, strlen(v), want) == 0 && sha256_file(p, got, NULL) == 0 &&
	       memcmp(want, got, sizeof(got)) == 0;
}

/* ---- gpgv ---- */

/* Verifies the clear-signed file `in` against the keyring and writes the
 * signed text (exactly what the signature covers) to `out`. */
static int gpgv_verify(const char *keyring, const char *in, const char *out, const char *url,
		       struct verr **err)
{
	if (access(keyring, R_OK) < 0)
		return verr_set(err, errno, "keyring '%s' (install debian-archive-keyring)", keyring);
	unlink(out);
	const char *argv[] = { "gpgv", "--quiet", "--keyring", keyring, "--output", out, in, NULL };
	char *text = NULL;
	int st;
	int rr = image_run_tool(argv, &text, &st, err);
	if (rr <= 0)
		return rr;
	unlink(out);
	size_t len = strlen(text);
	/* Keep gpgv's verdict lines ("BAD signature", "Can't check
	 * signature: No public key", ...), not the signature details. */
	char *o = xcalloc(1, 2 * len + 2), *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strstr(l, "Signature made") || strstr(l, "using "))
			continue;
		if (strncmp(l, "gpgv: ", 6) == 0)
			l += 6;
		if (*o)
			strcat(o, "; ");
		strcat(o, l);
	}
	free(text);
	text = o;
	int r = verr_set(err, 0, "%s: %s%s%s", url,
			 WIFEXITED(st) && WEXITSTATUS(st) == 127
				 ? "gpgv not found (install gpgv)"
				 : "OpenPGP signature check failed (gpgv)",
			 *text ? ": " : "", text);
	free(text);
	return r;
}

/* ---- kernel and busybox packages ---- */

struct kernel_walk {
	struct kmod_set *mods;
	void *image;
	size_t image_len;
	char *image_path;
	char *kver;      /* from lib/modules/<kver>/ */
	bool kver_clash;
};

static int kernel_entry(void *ctx, const char *path, mode_t mode, int64_t size,
			const char *symlink, struct archive *a, struct verr **err)
{
	struct kernel_walk *k = ctx;
	if (!S_ISREG(mode))
		return 0;
	const char *rel = path;
	if (strncmp(rel, "usr/", 4) == 0)
		rel += 4;
	if (strncmp(rel, "boot/vmlinu", 11) == 0 && (rel[11] == 'x' || rel[11] == 'z') &&
	    rel[12] == '-') {
		if (k->image)
			return verr_set(err, 0, "two kernel images (%s, %s)", k->image_path, path);
		if (deb_read_data(a, KERNEL_MAX, &k->image, &k->image_len, err) < 0)
			return verr_wrap(err, "%s", path);
		k->image_path = xstrdup(path);
		return 0;
	}
	if (strncmp(rel, "lib/modules/", 12) != 0)
		return 0;
	const char *kv = rel + 12, *slash = strchr(kv, '/');
	if (!slash)
		return 0;
	if (!k->kver)
		k->kver = strndup(kv, (size_t)(slash - kv));
	else if (strncmp(k->kver, kv, (size_t)(slash - kv)) != 0 || k->kver[slash - kv])
		k->kver_clash = true;
	void *data;
	size_t len;
	if (strcmp(slash, "/modules.builtin") == 0) {
		if (deb_read_data(a, MODULE_FILE_MAX, &data, &len, err) < 0)
			return verr_wrap(err, "%s", path);
		kmod_set_builtin(k->mods, data, len);
		free(data);
	} else if (strstr(slash, ".ko") && strncmp(slash, "/kernel/", 8) == 0) {
		const char *ko = strstr(strrchr(slash, '/'), ".ko");
		if (!ko || !(ko[3] == '\0' || !strcmp(ko, ".ko.xz") || !strcmp(ko, ".ko.zst") ||
			     !strcmp(ko, ".ko.gz")))
			return 0;
		if (deb_read_data(a, MODULE_FILE_MAX, &data, &len, err) < 0)
			return verr_wrap(err, "%s", path);
		kmod_set_add(k->mods, path, data, len);
	}
	return 0;
}

struct busybox_walk {
	void *bin;
	size_t len;
};

static int busybox_entry(void *ctx, const char *path, mode_t mode, int64_t size,
			 const char *symlink, struct archive *a, struct verr **err)
{
	struct busybox_walk *b = ctx;
	if (!S_ISREG(mode) || b->bin ||
	    (strcmp(path, "bin/busybox") != 0 && strcmp(path, "usr/bin/busybox") != 0))
		return 0;
	if (deb_read_data(a, BUSYBOX_MAX, &b->bin, &b->len, err) < 0)
		return verr_wrap(err, "%s", path);
	return 0;
}

/* The real kernel package behind the metapackage: the first alternative of
 * its Depends that is a linux-image-* package present in the index. */
static const struct apt_package *resolve_kernel(const struct apt_packages *idx, struct verr **err)
{
	const struct apt_package *meta = apt_packages_find(idx, KERNEL_META);
	if (!meta) {
		verr_set(err, 0, "package %s is not in the index", KERNEL_META);
		return NULL;
	}
	if (!meta->depends) {
		verr_set(err, 0, "package %s has no Depends", KERNEL_META);
		return NULL;
	}
	char **deps;
	if (apt_depends_first(meta->depends, &deps, err) < 0) {
		verr_wrap(err, "package %s", KERNEL_META);
		return NULL;
	}
	const struct apt_package *k = NULL;
	for (char **d = deps; *d && !k; d++)
		if (strncmp(*d, "linux-image-", 12) == 0 && strcmp(*d, KERNEL_META) != 0)
			k = apt_packages_find(idx, *d);
	if (!k)
		verr_set(err, 0, "package %s: no linux-image-* dependency in the index (Depends: %s)",
			 KERNEL_META, meta->depends);
	apt_strv_free(deps);
	return k;
}

/* Fetches (or reuses a verified cached copy of) a package's .deb. */
static int get_deb(struct fetch *f, const char *mirror, const char *dir,
		   const struct apt_package *p, char **out, struct verr **err)
{
	const char *base = strrchr(p->filename, '/');
	base = base ? base + 1 : p->filename;
	if (!*base || base[0] == '.' || strstr(p->filename, ".."))
		return verr_set(err, 0, "package %s: suspicious Filename '%s'", p->name, p->filename);
	char *path = xasprintf("%s/debs/%s", dir, base);
	if (!sha256_file_matches(path, p->sha256, p->size)) {
		cleanup_free char *url = xasprintf("%s/%s", mirror, p->filename);
		if (fetch_file(f, url, path, 0, p->sha256, p->size, err) < 0) {
			free(path);
			return verr_wrap(err, "package %s %s", p->name, p->version);
		}
	}
	*out = path;
	return 0;
}

/* Removes cached .debs other than the ones in use. */
static void prune_debs(const char *dir, const char *keep1, const char *keep2)
{
	cleanup_free char *d = xasprintf("%s/debs", dir);
	DIR *dh = opendir(d);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *p = xasprintf("%s/%s", d, de->d_name);
		if (strcmp(p, keep1) != 0 && strcmp(p, keep2) != 0)
			unlink(p);
	}
	closedir(dh);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *hex(const uint8_t sum[APT_SHA256_LEN])
{
	char *h = xmalloc(2 * APT_SHA256_LEN + 1);
	apt_sha256_hex(sum, h);
	return h;
}

/* Removes what an interrupted pull (killed, power loss) left in dir: partial
 * downloads, temporary outputs, rootfs staging directories. Called with the
 * lock held, so no other pull is writing them. */
static void remove_leftovers(const char *dir)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh))) {
		const char *n = de->d_name;
		size_t l = strlen(n);
		bool part = l > 5 && strcmp(n + l - 5, ".part") == 0;
		if (!part && !strstr(n, ".tmp.") && !strstr(n, ".raw.") && strncmp(n, "rootfs.", 7) != 0 &&
		    strcmp(n, "InRelease.new") != 0 && strncmp(n, "Release.verified", 16) != 0)
			continue;
		cleanup_free char *p = xasprintf("%s/%s", dir, n);
		rm_rf(p);
	}
	closedir(dh);
}

/* Everything one pull holds; released by pull_state_free(). */
struct pull_state {
	struct fetch *f;
	struct apt_release *rel;
	struct apt_packages *idx;
	struct kernel_walk kw;
	struct busybox_walk bw;
	struct manifest old;
	char *dir, *kdeb, *bdeb, *rel_text;
	void *pk_text;
	struct apt_package keep[2]; /* the kernel and busybox entries, owned */
	int lock_fd;
};

static void pull_state_free(struct pull_state *s)
{
	fetch_destroy(s->f);
	apt_release_free(s->rel);
	apt_packages_free(s->idx);
	for (int i = 0; i < 2; i++) {
		free(s->keep[i].name);
		free(s->keep[i].version);
		free(s->keep[i].filename);
		free(s->keep[i].depends);
	}
	kmod_set_free(s->kw.mods);
	free(s->kw.image);
	free(s->kw.image_path);
	free(s->kw.kver);
	free(s->bw.bin);
	free(s->old.text);
	free(s->dir);
	free(s->kdeb);
	free(s->bdeb);
	free(s->rel_text);
	free(s->pk_text);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
}

static const char *keyring_of(const struct image_pull_opts *o)
{
	return o->keyring ? o->keyring : DEFAULT_KEYRING;
}

/* Fetches dists/<dists>/InRelease, checks its signature and parses it into
 * s->rel (replacing an earlier one). The verified file stays at
 * <dir>/InRelease.new until pull_indexes() keeps it. `want` is the release
 * the user asked for: the Release must name it as its suite or codename. */
static int fetch_release(struct pull_state *s, const struct image_pull_opts *o, const char *mirror,
			 const char *dists, const char *want, struct verr **err)
{
	cleanup_free char *url = xasprintf("%s/dists/%s/InRelease", mirror, dists);
	cleanup_free char *inrel = xasprintf("%s/InRelease.new", s->dir);
	cleanup_free char *relp = xasprintf("%s/Release.verified", s->dir);
	if (fetch_file(s->f, url, inrel, INRELEASE_MAX, NULL, 0, err) < 0)
		return -1;
	int r = gpgv_verify(keyring_of(o), inrel, relp, url, err);
	if (r < 0) {
		unlink(inrel);
		return -1;
	}
	free(s->rel_text);
	s->rel_text = NULL;
	apt_release_free(s->rel);
	s->rel = NULL;
	size_t len;
	r = read_file(relp, INRELEASE_MAX, &s->rel_text, &len);
	unlink(relp);
	if (r < 0)
		return verr_set(err, -r, "read '%s'", relp);
	if (apt_release_parse(s->rel_text, len, &s->rel, err) < 0)
		return verr_wrap(err, "%s", url);
	/* A validly signed Release of another suite must not pass for this one. */
	if (!(s->rel->codename && strcmp(s->rel->codename, want) == 0) &&
	    !(s->rel->suite && strcmp(s->rel->suite, want) == 0))
		return verr_set(err, 0, "%s: signed for suite '%s' (%s), not '%s'", url,
				s->rel->suite ? s->rel->suite : "?",
				s->rel->codename ? s->rel->codename : "?", want);
	note(o, "InRelease: good signature (%s %s, %s)", s->rel->codename ? s->rel->codename : "",
	     s->rel->suite ? s->rel->suite : "", s->rel->date ? s->rel->date : "no date");
	return 0;
}

/* Gets the Packages.xz that s->rel lists into <dir>/Packages.xz, checked
 * against its SHA256 and size. Like apt: from by-hash/SHA256/<hash> when
 * the Release says "Acquire-By-Hash: yes" (a by-hash name never changes
 * content, so it cannot race with the mirror's updates of the plain name),
 * falling back to the plain name only when the mirror has no such by-hash
 * file (404), or when the Release lacks Acquire-By-Hash. */
static int fetch_packages(struct pull_state *s, const char *mirror, const char *dists,
			  uint8_t pk_sum[APT_SHA256_LEN], struct verr **err)
{
	static const char pk_rel[] = "main/binary-" ARCH "/Packages.xz";
	const struct apt_release_file *pf = apt_release_find(s->rel, pk_rel);
	if (!pf)
		return verr_set(err, 0, "%s/dists/%s/InRelease: lists no %s", mirror, dists, pk_rel);
	memcpy(pk_sum, pf->sha256, APT_SHA256_LEN);
	cleanup_free char *pk_path = xasprintf("%s/Packages.xz", s->dir);
	if (sha256_file_matches(pk_path, pf->sha256, pf->size))
		return 0;
	char h[65];
	apt_sha256_hex(pf->sha256, h);
	cleanup_free char *plain = xasprintf("%s/dists/%s/%s", mirror, dists, pk_rel);
	int r = -2;
	if (s->rel->by_hash) {
		cleanup_free char *by_hash = xasprintf(
			"%s/dists/%s/main/binary-" ARCH "/by-hash/SHA256/%s", mirror, dists, h);
		r = fetch_file_as(s->f, pk_rel, by_hash, pk_path, 0, pf->sha256, pf->size, err);
		if (r == -2)
			verr_clear(err);
	}
	if (r == -2 && fetch_file(s->f, plain, pk_path, 0, pf->sha256, pf->size, err) < 0)
		return -1;
	return r == -1 ? -1 : 0;
}

/* Steps 1-2: InRelease (verified) and the riscv64 Packages index.
 *
 * A mirror (or a CDN node) can be caught half-updated: dists/trixie/InRelease
 * already new while neither the by-hash file nor the plain Packages.xz it
 * lists is there yet (apt fails with "Hash Sum mismatch"). Debian publishes
 * each release under two names, its codename (trixie) and its suite
 * (stable), and mirrors update them one after the other; so when the index
 * cannot be had under the asked name, the other name is tried, with its own
 * signed InRelease that must name the same codename. The first error is the
 * one reported when that fails too. */
static int pull_indexes(struct pull_state *s, const struct image_pull_opts *o, const char *release,
			const char *mirror, uint8_t pk_sum[APT_SHA256_LEN], struct verr **err)
{
	cleanup_free char *inrel = xasprintf("%s/InRelease.new", s->dir);
	cleanup_free char *kept = xasprintf("%s/InRelease", s->dir);
	if (fetch_release(s, o, mirror, release, release, err) < 0)
		return -1;
	struct verr *first = NULL;
	if (fetch_packages(s, mirror, release, pk_sum, &first) == 0) {
		/* Kept for reference (and for tests that serve a local mirror). */
		if (rename(inrel, kept) < 0)
			unlink(inrel);
		return 0;
	}
	unlink(inrel);
	const char *alias = NULL;
	cleanup_free char *codename = s->rel->codename ? xstrdup(s->rel->codename) : NULL;
	if (s->rel->suite && strcmp(s->rel->suite, release) != 0)
		alias = s->rel->suite;
	else if (codename && strcmp(codename, release) != 0)
		alias = codename;
	cleanup_free char *alias_s = alias ? xstrdup(alias) : NULL;
	cleanup_free char *first_date = xstrdup(s->rel->date ? s->rel->date : "?");
	if (!alias_s || !codename) {
		*err = first;
		return -1;
	}
	note(o, "%s (dists/%s, %s); trying dists/%s, the same release under its other name",
	     first->msg, release, first_date, alias_s);
	struct verr *second = NULL;
	if (fetch_release(s, o, mirror, alias_s, codename, &second) < 0 ||
	    fetch_packages(s, mirror, alias_s, pk_sum, &second) < 0) {
		note(o, "dists/%s: %s", alias_s, second->msg);
		verr_free(second);
		unlink(inrel);
		*err = first;
		return -1;
	}
	verr_free(first);
	note(o, "using dists/%s (%s): the mirror is still updating dists/%s", alias_s,
	     s->rel->date ? s->rel->date : "no date", release);
	if (rename(inrel, kept) < 0)
		unlink(inrel);
	return 0;
}

static int load_index(struct pull_state *s, struct verr **err)
{
	cleanup_free char *pk_path = xasprintf("%s/Packages.xz", s->dir);
	size_t len;
	if (decompress_file(pk_path, PACKAGES_MAX, &s->pk_text, &len, err) < 0)
		return -1;
	int r = apt_packages_parse(s->pk_text, len, &s->idx, err);
	/* The parsed entries own copies: the ~50 MiB text can go now. */
	free(s->pk_text);
	s->pk_text = NULL;
	if (r < 0)
		return verr_wrap(err, "%s", pk_path);
	return 0;
}

/* Builds the root disk from the unpacked busybox (s->bw). */
static int make_disk(struct pull_state *s, const struct image_pull_opts *o, const char *disk_path,
		     struct verr **err)
{
	note(o, "building the root disk %s", disk_path);
	cleanup_free char *tmpl = xasprintf("%s/rootfs.XXXXXX", s->dir);
	if (!mkdtemp(tmpl))
		return verr_set(err, errno, "mkdtemp in '%s'", s->dir);
	int r = disk_populate(tmpl, s->bw.bin, s->bw.len, err);
	if (r == 0)
		r = disk_build(tmpl, o->disk_size, disk_path, err);
	rm_rf(tmpl);
	return r < 0 ? verr_wrap(err, "root disk") : 0;
}

/* Kernel and initramfs are current but the disk is not: unpack busybox
 * only, build the disk and update the disk lines of the manifest. */
static int disk_only(struct pull_state *s, const struct image_pull_opts *o, const char *mirror,
		     const struct apt_package *bp, const char *disk_path, const char *disk_size_s,
		     const char *man_path, struct verr **err)
{
	if (get_deb(s->f, mirror, s->dir, bp, &s->bdeb, err) < 0 ||
	    deb_walk(s->bdeb, busybox_entry, &s->bw, err) < 0)
		return -1;
	if (!s->bw.bin)
		return verr_set(err, 0, "package %s: no /bin/busybox", bp->name);
	if (make_disk(s, o, disk_path, err) < 0)
		return -1;
	size_t len = strlen(s->old.text);
	char *man = xmalloc(len + strlen(disk_path) + strlen(disk_size_s) + 32), *w = man;
	for (const char *p = s->old.text; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
		if (strncmp(p, "disk=", 5) != 0 && strncmp(p, "disk_size=", 10) != 0) {
			memcpy(w, p, n);
			w += n;
		}
		p += n;
	}
	if (w > man && w[-1] != '\n')
		*w++ = '\n';
	w += sprintf(w, "disk=%s\ndisk_size=%s\n", disk_path, disk_size_s);
	int r = write_file_atomic(man_path, man, (size_t)(w - man), 0644);
	free(man);
	return r < 0 ? verr_set(err, -r, "write '%s'", man_path) : 0;
}

int image_pull(const struct image_pull_opts *o, struct image_pull_result *res, struct verr **err)
{
	const char *name = o->name ? o->name : "debian";
	const char *release = o->release ? o->release : DEFAULT_RELEASE;
	uint64_t t0 = now_ns();
	struct pull_state s = { .lock_fd = -1 };
	int ret = -1;
	char *debs = NULL, *lock = NULL, *man_path = NULL, *ksum = NULL, *bsum = NULL;
	char *img_path = NULL, *initrd_path = NULL, *img_sum = NULL, *initrd_sum = NULL;
	char *pk_hex = NULL, *mod_list = NULL, *man = NULL, *disk_path = NULL, *init_sum = NULL;
	char *mirror = xstrdup(o->mirror ? o->mirror : DEFAULT_MIRROR);
	size_t ml = strlen(mirror);
	while (ml > 0 && mirror[ml - 1] == '/')
		mirror[--ml] = '\0';

	if (strcmp(name, "debian") != 0) {
		verr_set(err, 0, "unknown image '%s' (known: debian)", name);
		goto out;
	}
	for (const char *q = release; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-')) {
			verr_set(err, 0, "invalid release name '%s'", release);
			goto out;
		}
	if (strncmp(mirror, "http://", 7) != 0 && strncmp(mirror, "https://", 8) != 0) {
		verr_set(err, 0, "mirror '%s': only http:// and https:// URLs are supported", mirror);
		goto out;
	}
	if (o->cache_dir)
		s.dir = xstrdup(o->cache_dir);
	else if (image_cache_dir(name, &s.dir, err) < 0)
		goto out;
	debs = xasprintf("%s/debs", s.dir);
	if (mkdir_p(debs, err) < 0)
		goto out;
	/* One pull at a time per cache directory. */
	lock = xasprintf("%s/.lock", s.dir);
	s.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s.lock_fd < 0 || flock(s.lock_fd, LOCK_EX) < 0) {
		verr_set(err, errno, "lock '%s'", lock);
		goto out;
	}
	remove_leftovers(s.dir);
	remove_leftovers(debs);
	s.f = fetch_new(o);
	if (!s.f) {
		verr_set(err, 0, "cannot initialise libcurl");
		goto out;
	}
	man_path = xasprintf("%s/manifest", s.dir);
	size_t man_len;
	if (read_file(man_path, 1 << 20, &s.old.text, &man_len) < 0)
		s.old.text = NULL;

	uint8_t pk_sum[APT_SHA256_LEN];
	if (pull_indexes(&s, o, release, mirror, pk_sum, err) < 0 || load_index(&s, err) < 0)
		goto out;
	const struct apt_package *kp = resolve_kernel(s.idx, err);
	const struct apt_package *bp = apt_packages_find(s.idx, BUSYBOX_PKG);
	if (!kp)
		goto out;
	if (!bp) {
		verr_set(err, 0, "package %s is not in the index", BUSYBOX_PKG);
		goto out;
	}
	/* Keep the two entries, drop the rest of the index (tens of MiB)
	 * before the packages are unpacked. */
	s.keep[0] = *kp;
	s.keep[1] = *bp;
	memset((struct apt_package *)kp, 0, sizeof(*kp));
	memset((struct apt_package *)bp, 0, sizeof(*bp));
	kp = &s.keep[0];
	bp = &s.keep[1];
	apt_packages_free(s.idx);
	s.idx = NULL;
	note(o, "kernel: %s %s; busybox: %s %s", kp->name, kp->version, bp->name, bp->version);
	ksum = hex(kp->sha256);
	/* A newer /init (this build's) makes the initramfs out of date. */
	uint8_t init_bin[APT_SHA256_LEN];
	sha256_buf(initramfs_init_script, strlen(initramfs_init_script), init_bin);
	init_sum = hex(init_bin);
	bsum = hex(bp->sha256);
	char disk_size_s[32];
	snprintf(disk_size_s, sizeof(disk_size_s), "%llu", (unsigned long long)o->disk_size);
	if (o->disk_size && o->disk_output && o->disk_output[0] != '/') {
		/* The manifest records an absolute path. */
		char *cwd = getcwd(NULL, 0);
		if (!cwd) {
			verr_set(err, errno, "getcwd");
			goto out;
		}
		disk_path = xasprintf("%s/%s", cwd, o->disk_output);
		free(cwd);
	} else if (o->disk_size) {
		disk_path = o->disk_output ? xstrdup(o->disk_output)
					   : xasprintf("%s/root.qcow2", s.dir);
	}

	/* Up to date: same packages, outputs intact. The mirror they came
	 * from does not matter: the packages are named by their SHA256. */
	bool outputs_ok = manifest_is(&s.old, "release", release) &&
			  manifest_is(&s.old, "kernel_deb_sha256", ksum) &&
			  manifest_is(&s.old, "busybox_deb_sha256", bsum) &&
			  manifest_file_ok(&s.old, s.dir, "Image", "Image_sha256") &&
			  manifest_file_ok(&s.old, s.dir, "initrd.img", "initrd_sha256") &&
			  manifest_is(&s.old, "init_sha256", init_sum);
	bool disk_ok = !disk_path || (manifest_is(&s.old, "disk", disk_path) &&
				      manifest_is(&s.old, "disk_size", disk_size_s) &&
				      access(disk_path, R_OK) == 0);
	/* A disk holds the user's files: never replace one, even ours. */
	if (disk_path && !disk_ok && access(disk_path, F_OK) == 0) {
		verr_set(err, 0,
			 "'%s' already exists and is not the %s-byte disk of an earlier pull: remove "
			 "it or choose another --output (an existing disk is never overwritten)",
			 disk_path, disk_size_s);
		goto out;
	}
	char buf[1024];
	if (outputs_ok && !disk_ok) {
		if (disk_only(&s, o, mirror, bp, disk_path, disk_size_s, man_path, err) < 0)
			goto out;
		disk_ok = true;
		res->up_to_date = false;
	} else if (outputs_ok) {
		res->up_to_date = true;
	}
	if (outputs_ok && disk_ok) {
		res->kernel_release = xstrdup(manifest_get(&s.old, "kernel_release", buf, sizeof(buf))
						      ? buf
						      : "");
		res->n_modules = 0;
		if (manifest_get(&s.old, "modules", buf, sizeof(buf)))
			for (char *q = buf; *q; q++)
				res->n_modules += *q == ' ' || q == buf;
		ret = 0;
		goto done;
	}

	if (get_deb(s.f, mirror, s.dir, kp, &s.kdeb, err) < 0 ||
	    get_deb(s.f, mirror, s.dir, bp, &s.bdeb, err) < 0)
		goto out;
	note(o, "unpacking %s", kp->name);
	s.kw.mods = kmod_set_new();
	if (deb_walk(s.kdeb, kernel_entry, &s.kw, err) < 0)
		goto out;
	if (!s.kw.image) {
		verr_set(err, 0, "package %s: no /boot/vmlinux-* kernel image", kp->name);
		goto out;
	}
	if (!s.kw.kver || s.kw.kver_clash) {
		verr_set(err, 0, "package %s: %s", kp->name,
			 s.kw.kver ? "modules for several kernel versions" : "no modules");
		goto out;
	}
	if (deb_walk(s.bdeb, busybox_entry, &s.bw, err) < 0)
		goto out;
	if (!s.bw.bin) {
		verr_set(err, 0, "package %s: no /bin/busybox", bp->name);
		goto out;
	}
	/* Debian's riscv64 kernel package ships Image as vmlinux-*; a vmlinuz-*
	 * (Image.gz) is decompressed so the VMM can load it directly. */
	if (strstr(s.kw.image_path, "vmlinuz-")) {
		void *img;
		size_t img_len;
		if (decompress_buf(s.kw.image, s.kw.image_len, KERNEL_MAX, &img, &img_len, err) < 0) {
			verr_wrap(err, "package %s: %s", kp->name, s.kw.image_path);
			goto out;
		}
		free(s.kw.image);
		s.kw.image = img;
		s.kw.image_len = img_len;
	}
	for (size_t i = 0; i < ARRAY_SIZE(wanted_modules); i++)
		if (kmod_set_want(s.kw.mods, wanted_modules[i], err) < 0) {
			verr_wrap(err, "package %s", kp->name);
			goto out;
		}
	const char **mnames;
	const void **mdata;
	const size_t *mlens;
	size_t nm = kmod_set_order(s.kw.mods, &mnames, &mdata, &mlens);

	img_path = xasprintf("%s/Image", s.dir);
	initrd_path = xasprintf("%s/initrd.img", s.dir);
	int wr = write_file_atomic(img_path, s.kw.image, s.kw.image_len, 0644);
	if (wr < 0) {
		verr_set(err, -wr, "write '%s'", img_path);
		goto out;
	}
	if (initramfs_build(initrd_path, s.bw.bin, s.bw.len, mnames, mdata, mlens, nm, err) < 0)
		goto out;
	if (disk_path && !disk_ok && make_disk(&s, o, disk_path, err) < 0)
		goto out;

	uint8_t sum[APT_SHA256_LEN];
	sha256_buf(s.kw.image, s.kw.image_len, sum);
	img_sum = hex(sum);
	if (sha256_file(initrd_path, sum, NULL) < 0) {
		verr_set(err, errno, "read '%s'", initrd_path);
		goto out;
	}
	initrd_sum = hex(sum);
	pk_hex = hex(pk_sum);
	const char *kver = s.kw.kver;
	size_t mod_len = 1;
	for (size_t i = 0; i < nm; i++)
		mod_len += strlen(mnames[i]) + 1;
	mod_list = xcalloc(1, mod_len);
	for (size_t i = 0; i < nm; i++) {
		if (i)
			strcat(mod_list, " ");
		strcat(mod_list, mnames[i]);
	}
	/* The disk this pull made or kept; without --disk, the one an earlier
	 * pull made stays recorded. */
	const char *keep_disk = disk_path, *keep_size = disk_size_s;
	char old_disk[1024], old_size[32];
	if (!disk_path && manifest_get(&s.old, "disk", old_disk, sizeof(old_disk)) &&
	    manifest_get(&s.old, "disk_size", old_size, sizeof(old_size)) &&
	    access(old_disk, F_OK) == 0) {
		keep_disk = old_disk;
		keep_size = old_size;
	}
	man = xasprintf(
		"# vessel image manifest (written by vessel image pull)\n"
		"name=%s\nrelease=%s\nmirror=%s\nrelease_date=%s\npackages_sha256=%s\n"
		"kernel_package=%s\nkernel_version=%s\nkernel_deb_sha256=%s\nkernel_release=%s\n"
		"busybox_package=%s\nbusybox_version=%s\nbusybox_deb_sha256=%s\n"
		"modules=%s\nImage_sha256=%s\ninitrd_sha256=%s\ninit_sha256=%s\n%s%s%s%s%s",
		name, release, mirror, s.rel->date ? s.rel->date : "", pk_hex, kp->name, kp->version,
		ksum, kver, bp->name, bp->version, bsum, mod_list, img_sum, initrd_sum, init_sum,
		keep_disk ? "disk=" : "", keep_disk ? keep_disk : "", keep_disk ? "\ndisk_size=" : "",
		keep_disk ? keep_size : "", keep_disk ? "\n" : "");
	wr = write_file_atomic(man_path, man, strlen(man), 0644);
	if (wr < 0) {
		verr_set(err, -wr, "write '%s'", man_path);
		goto out;
	}
	prune_debs(s.dir, s.kdeb, s.bdeb);
	res->up_to_date = false;
	res->kernel_release = xstrdup(kver);
	res->n_modules = (unsigned)nm;
	ret = 0;
done:
	res->dir = xstrdup(s.dir);
	res->kernel_package = xstrdup(kp->name);
	res->kernel_version = xstrdup(kp->version);
	res->busybox_version = xstrdup(bp->version);
	res->disk = disk_path ? xstrdup(disk_path) : NULL;
	fetch_stats(s.f, &res->downloads, &res->bytes);
	res->elapsed_ns = now_ns() - t0;
out:
	free(mirror);
	free(init_sum);
	free(disk_path);
	free(debs);
	free(lock);
	free(man_path);
	free(ksum);
	free(bsum);
	free(img_path);
	free(initrd_path);
	free(img_sum);
	free(initrd_sum);
	free(pk_hex);
	free(mod_list);
	free(man);
	pull_state_free(&s);
	return ret;
}

void image_pull_result_free(struct image_pull_result *res)
{
	free(res->dir);
	free(res->kernel_package);
	free(res->kernel_version);
	free(res->busybox_version);
	free(res->kernel_release);
	free(res->disk);
	memset(res, 0, sizeof(*res));
}

