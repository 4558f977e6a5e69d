/* Guest images: `vessel image pull debian` and the lookup the VM CLI uses.
 *
 * A pull fetches Debian's riscv64 kernel and busybox-static from a Debian
 * mirror over HTTP (libcurl), checks the signed InRelease with gpgv, every
 * index and package against the hashes of the signed chain, and builds an
 * initramfs; optionally an ext4 root disk as qcow2. Results live under
 * ${XDG_CACHE_HOME:-$HOME/.cache}/vessel/images/<name>/ (Image, initrd.img,
 * manifest, root.qcow2), each written atomically. See docs/images.md.
 * Nothing here prints: progress and notes go through callbacks.
 */
#ifndef VESSEL_IMAGE_H
#define VESSEL_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* Progress of one transfer: `what` names the file, total is 0 if unknown. */
typedef void (*image_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total,
				  uint64_t elapsed_ns);
/* A one-line note for the user ("InRelease verified", "up to date", ...). */
typedef void (*image_note_fn)(void *ctx, const char *msg);

struct image_pull_opts {
	const char *name;        /* only "debian" for now */
	const char *release;     /* NULL: "trixie" */
	const char *mirror;      /* NULL: "http://deb.debian.org/debian" */
	const char *keyring;     /* NULL: /usr/share/keyrings/debian-archive-keyring.gpg */
	const char *cache_dir;   /* NULL: the default cache directory for `name` */
	uint64_t disk_size;      /* 0: no root disk; else its size in bytes */
	const char *disk_output; /* NULL: <cache_dir>/root.qcow2 */
	image_progress_fn progress; /* may be NULL */
	image_note_fn note;         /* may be NULL */
	void *cb_ctx;
};

struct image_pull_result {
	bool up_to_date;          /* nothing but InRelease was downloaded */
	unsigned downloads;       /* files downloaded */
	uint64_t bytes;           /* bytes downloaded */
	uint64_t elapsed_ns;
	char *dir;                /* the cache directory */
	char *kernel_package;     /* e.g. linux-image-6.12.57+deb13-riscv64 */
	char *kernel_version;     /* its Debian version */
	char *busybox_version;
	char *kernel_release;     /* uname -r of the kernel */
	unsigned n_modules;       /* modules in the initramfs */
	char *disk;               /* root disk path, or NULL */
};

/* Pulls (or refreshes) an image. On success fills *res (caller frees with
 * image_pull_result_free()). Errors name the URL, file or package at fault;
 * the cache keeps its previous complete contents. */
int image_pull(const struct image_pull_opts *o, struct image_pull_result *res, struct verr **err);

/* Frees the strings of a result; accepts a zeroed one. */
void image_pull_result_free(struct image_pull_result *res);

/* The cache directory of image `name` (malloc'd), from XDG_CACHE_HOME or
 * HOME. Returns 0 or -1 with *err set. */
int image_cache_dir(const char *name, char **out, struct verr **err);

/* Paths of a pulled image's kernel and initrd (malloc'd, caller frees).
 * Fails with "image 'NAME' is not pulled: run 'vessel image pull NAME'"
 * when the image is missing or incomplete. *kernel and *initrd are written
 * only on success. */
int image_resolve(const char *name, char **kernel, char **initrd, struct verr **err);

#endif
