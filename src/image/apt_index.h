/* Parsers for Debian archive indexes (deb822 text): the Release file (its
 * SHA256 section) and Packages files (one stanza per binary package).
 *
 * The input is untrusted (it comes from a mirror; the Release text has been
 * verified by gpgv before it gets here, but Packages is only trusted after
 * its hash matches). Parsers never read past `len`, accept no NUL bytes, and
 * report malformed input as a verr naming the line. Format: Debian Policy
 * §5.1 (syntax of control files) and the "DebianRepository/Format" wiki.
 */
#ifndef VESSEL_IMAGE_APT_INDEX_H
#define VESSEL_IMAGE_APT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define APT_SHA256_LEN 32

/* One line of the Release file's SHA256 field. */
struct apt_release_file {
	char *path;                     /* relative to dists/<release>/ */
	uint64_t size;
	uint8_t sha256[APT_SHA256_LEN];
};

struct apt_release {
	char *suite;     /* "Suite" field or NULL */
	char *codename;  /* "Codename" field or NULL */
	char *date;      /* "Date" field or NULL */
	bool by_hash;    /* "Acquire-By-Hash: yes": indexes under by-hash/SHA256/ */
	struct apt_release_file *files;
	size_t n_files;
};

/* Parses the (already signature-checked) text of a Release file. The SHA256
 * field is required. Caller frees with apt_release_free(). */
int apt_release_parse(const char *text, size_t len, struct apt_release **out, struct verr **err);

/* Entry for `path` (e.g. "main/binary-riscv64/Packages.xz") or NULL. */
const struct apt_release_file *apt_release_find(const struct apt_release *r, const char *path);

/* Frees a release; accepts NULL. */
void apt_release_free(struct apt_release *r);

/* The fields of a Packages stanza that a pull needs. */
struct apt_package {
	char *name;      /* Package */
	char *version;   /* Version */
	char *filename;  /* Filename, relative to the mirror root */
	char *depends;   /* Depends (NULL when absent), continuation lines joined */
	uint64_t size;   /* Size */
	uint8_t sha256[APT_SHA256_LEN];
};

struct apt_packages {
	struct apt_package *pkgs;
	size_t n;
};

/* Parses a whole Packages file. Every stanza must have Package, Version,
 * Filename, Size and SHA256; fields it does not need are skipped (including
 * multi-line ones such as Description). Caller frees with
 * apt_packages_free(). */
int apt_packages_parse(const char *text, size_t len, struct apt_packages **out, struct verr **err);

/* First stanza named `name`, or NULL. */
const struct apt_package *apt_packages_find(const struct apt_packages *p, const char *name);

/* Frees a package list; accepts NULL. */
void apt_packages_free(struct apt_packages *p);

/* Splits a Depends value into its clauses and returns, for each, the package
 * name of the first alternative without version constraint or architecture
 * qualifier ("a (>= 1) | b, c:any" gives {"a", "c"}). *out is a
 * NULL-terminated array; caller frees with apt_strv_free(). Returns the
 * number of names, or -1 with *err set on a malformed value. */
int apt_depends_first(const char *depends, char ***out, struct verr **err);

/* Frees a NULL-terminated string array; accepts NULL. */
void apt_strv_free(char **v);

/* Parses 64 hex digits into 32 bytes. Returns 0 or -1. */
int apt_hex_sha256(const char *hex, size_t len, uint8_t out[APT_SHA256_LEN]);

/* Formats 32 bytes as 64 lower-case hex digits plus NUL. */
void apt_sha256_hex(const uint8_t sum[APT_SHA256_LEN], char out[2 * APT_SHA256_LEN + 1]);

#endif
