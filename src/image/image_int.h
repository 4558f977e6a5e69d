/* Internals of src/image/ shared by its files and its unit tests. */
#ifndef VESSEL_IMAGE_INT_H
#define VESSEL_IMAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "image/apt_index.h"
#include "image/image.h"

/* ---- tool.c ---- */

/* Runs argv (looked up in PATH plus /usr/sbin and /sbin), stdin from
 * /dev/null. Returns 0 when it exited 0; 1 when it did not, with *status its
 * wait status and *log what it printed (stdout and stderr, the first 4 KiB;
 * caller frees); -1 with *err when it could not be run at all. An exit
 * status of 127 means the tool was not found. */
int image_run_tool(const char *const argv[], char **log, int *status, struct verr **err);

/* ---- sha256.c (GLib's GChecksum) ---- */

/* SHA-256 of a buffer. */
void sha256_buf(const void *data, size_t len, uint8_t out[APT_SHA256_LEN]);

/* SHA-256 and size of a file. Returns 0 or -errno. */
int sha256_file(const char *path, uint8_t out[APT_SHA256_LEN], uint64_t *size);

/* True when the file exists with exactly this size and hash. */
bool sha256_file_matches(const char *path, const uint8_t want[APT_SHA256_LEN], uint64_t size);

/* ---- fetch.c (libcurl) ---- */

struct fetch;

/* A downloader that reports progress through o->progress and counts files
 * and bytes. Caller frees with fetch_destroy(). */
struct fetch *fetch_new(const struct image_pull_opts *o);
void fetch_destroy(struct fetch *f);
void fetch_stats(const struct fetch *f, unsigned *files, uint64_t *bytes);

/* Downloads url to path (through "<path>.part", renamed on success). At most
 * max_size bytes are accepted. When want_sha256 is not NULL the body must have
 * exactly want_size bytes and that hash; otherwise nothing is left at path.
 * Errors name the URL (HTTP status, network failure, size or hash mismatch).
 * Returns 0, or -1 with *err set (-2 when the server answered 404). */
int fetch_file(struct fetch *f, const char *url, const char *path, uint64_t max_size,
	       const uint8_t *want_sha256, uint64_t want_size, struct verr **err);

/* Same, with the name shown in progress lines (default: the URL's last part). */
int fetch_file_as(struct fetch *f, const char *label, const char *url, const char *path,
		  uint64_t max_size, const uint8_t *want_sha256, uint64_t want_size,
		  struct verr **err);

/* ---- deb.c (libarchive) ---- */

/* Called for each member of a .deb's data archive with the path normalised
 * ("boot/vmlinux-...", no leading "./"). Return 0 to go on, -1 to stop
 * with *err set. Read the contents with deb_read_data(). */
struct archive;
typedef int (*deb_entry_fn)(void *ctx, const char *path, mode_t mode, int64_t size,
			    const char *symlink, struct archive *a, struct verr **err);

/* Walks the data.tar.{xz,zst,gz} member of the .deb at path. */
int deb_walk(const char *path, deb_entry_fn fn, void *ctx, struct verr **err);

/* Reads the current entry (at most max bytes) into a malloc'd buffer. */
int deb_read_data(struct archive *a, size_t max, void **out, size_t *len, struct verr **err);

/* Decompresses a buffer of any format libarchive's filters know (xz, zstd,
 * gzip, or none) into a malloc'd buffer of at most max bytes. */
int decompress_buf(const void *in, size_t in_len, size_t max, void **out, size_t *out_len,
		   struct verr **err);

/* Decompresses a file the same way. */
int decompress_file(const char *path, size_t max, void **out, size_t *out_len, struct verr **err);

/* ---- kmod.c ---- */

/* The "depends=" value of a kernel module's .modinfo ELF section (the
 * comma-separated list depmod uses), as a malloc'd string ("" if none).
 * ko is an uncompressed ELF64 little-endian module; every offset is
 * checked. Returns 0 or -1 with *err set. */
int kmod_depends(const void *ko, size_t len, char **out, struct verr **err);

/* Canonical module name: base name without .ko[.xz|.zst|.gz], '-' as '_'. */
char *kmod_name(const char *path);

/* A module set being resolved: every module file of a kernel package (kept
 * compressed), the built-in list, and the load order computed so far. */
struct kmod_set;
struct kmod_set *kmod_set_new(void);
void kmod_set_free(struct kmod_set *s);
/* Adds a module file (path inside the package, compressed bytes, taken). */
void kmod_set_add(struct kmod_set *s, const char *path, void *data, size_t len);
/* Records modules.builtin contents (one path per line). */
void kmod_set_builtin(struct kmod_set *s, const char *text, size_t len);
/* Resolves `name` and its dependencies (recursively, via .modinfo) into the
 * load order; built-in modules are skipped. Errors: module not found,
 * dependency cycle, bad module. */
int kmod_set_want(struct kmod_set *s, const char *name, struct verr **err);
/* The load order: n modules, each a file name ("ext4.ko") with its
 * decompressed contents (borrowed from s). */
size_t kmod_set_order(const struct kmod_set *s, const char ***names, const void ***data,
		      const size_t **lens);

/* ---- initramfs.c (libarchive: newc cpio + gzip) ---- */

enum ifs_type { IFS_DIR, IFS_FILE, IFS_SYMLINK, IFS_CHR };

struct ifs_entry {
	enum ifs_type type;
	const char *path;    /* without a leading '/' */
	unsigned mode;       /* permission bits */
	const void *data;    /* IFS_FILE */
	size_t len;
	const char *target;  /* IFS_SYMLINK */
	unsigned major, minor; /* IFS_CHR */
};

/* Writes a gzip-compressed newc archive of the entries (owner 0:0, mtime 0)
 * to path atomically. */
int initramfs_write(const char *path, const struct ifs_entry *e, size_t n, struct verr **err);

/* The guest's /init: see scripts/mkinitramfs.sh and docs/images.md. */
extern const char initramfs_init_script[];

/* Builds the Vessel guest initramfs: busybox, the modules in load order
 * (lib/modules/<file> and lib/modules/load-order), /init, /dev nodes. */
int initramfs_build(const char *path, const void *busybox, size_t busybox_len,
		    const char *const *mod_names, const void *const *mod_data,
		    const size_t *mod_lens, size_t n_mods, struct verr **err);

/* ---- disk.c ---- */

/* Lays out the busybox root filesystem (bin/busybox, links, sbin/init,
 * etc/inittab, etc/init.d/rcS, ...) in the existing empty directory dir. */
int disk_populate(const char *dir, const void *busybox, size_t busybox_len, struct verr **err);

/* Makes an ext4 filesystem of `size` bytes from dir's contents with
 * `mke2fs -d` into a temporary raw file and converts it into a qcow2 image at
 * out (atomically; only non-zero clusters are written). */
int disk_build(const char *dir, uint64_t size, const char *out, struct verr **err);

#endif
