/* Debian archive index parsers: see apt_index.h. */
#include "image/apt_index.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

/* A deb822 field: its name and its raw value (first line after the colon and
 * every continuation line, newlines included). */
struct d822_field {
	const char *name;
	size_t name_len;
	const char *val;
	size_t val_len;
	unsigned line;
};

typedef int (*d822_field_fn)(void *ctx, const struct d822_field *f, struct verr **err);
typedef int (*d822_stanza_fn)(void *ctx, unsigned line, struct verr **err);

static bool is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static const char *line_end(const char *p, const char *end)
{
	const char *e = memchr(p, '\n', (size_t)(end - p));
	return e ? e : end;
}

/* Walks the stanzas of a deb822 text (Debian Policy §5.1): fields are
 * "Name: value", a line starting with space or tab continues the previous
 * field, blank lines end a stanza. field() is called per field, stanza() at
 * the end of each non-empty stanza with the line it started on. */
static int d822_parse(const char *text, size_t len, d822_field_fn field, d822_stanza_fn stanza,
		      void *ctx, struct verr **err)
{
	const char *p = text, *end = text + len;
	unsigned line = 0, stanza_line = 0;
	bool in_stanza = false;

	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned l = 1;
		for (const char *q = text; q < nul; q++)
			l += *q == '\n';
		return verr_set(err, 0, "line %u: NUL byte in text", l);
	}
	while (p < end) {
		const char *eol = line_end(p, end);
		size_t n = (size_t)(eol - p);
		line++;
		if (is_blank(p, n)) {
			if (in_stanza && stanza(ctx, stanza_line, err) < 0)
				return -1;
			in_stanza = false;
			p = eol < end ? eol + 1 : end;
			continue;
		}
		if (p[0] == '#') { /* comment lines (Policy §5.1) */
			p = eol < end ? eol + 1 : end;
			continue;
		}
		if (p[0] == ' ' || p[0] == '\t')
			return verr_set(err, 0, "line %u: continuation line without a field", line);
		const char *colon = memchr(p, ':', n);
		if (!colon || colon == p)
			return verr_set(err, 0, "line %u: expected 'Field: value'", line);
		for (const char *q = p; q < colon; q++)
			if (*q <= ' ' || *q > '~')
				return verr_set(err, 0, "line %u: invalid character in field name", line);
		struct d822_field f = {
			.name = p, .name_len = (size_t)(colon - p), .val = colon + 1, .line = line,
		};
		/* Extend over continuation lines. */
		const char *vend = eol;
		const char *q = eol < end ? eol + 1 : end;
		while (q < end && (*q == ' ' || *q == '\t')) {
			const char *qe = line_end(q, end);
			if (is_blank(q, (size_t)(qe - q)))
				break;
			line++;
			vend = qe;
			q = qe < end ? qe + 1 : end;
		}
		f.val_len = (size_t)(vend - f.val);
		if (!in_stanza) {
			in_stanza = true;
			stanza_line = f.line;
		}
		if (field(ctx, &f, err) < 0)
			return -1;
		p = q;
	}
	if (in_stanza && stanza(ctx, stanza_line, err) < 0)
		return -1;
	return 0;
}

static bool field_is(const struct d822_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

/* The value with surrounding whitespace removed, as a new string. */
static char *value_dup(const struct d822_field *f)
{
	const char *s = f->val, *e = f->val + f->val_len;
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	char *r = xmalloc((size_t)(e - s) + 1);
	memcpy(r, s, (size_t)(e - s));
	r[e - s] = '\0';
	return r;
}

/* Decimal, digits only, at most 2^53 (a file that size is already absurd). */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 16)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (UINT64_C(1) << 53))
		return -1;
	*out = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int apt_hex_sha256(const char *hex, size_t len, uint8_t out[APT_SHA256_LEN])
{
	uint8_t tmp[APT_SHA256_LEN];
	if (len != 2 * APT_SHA256_LEN)
		return -1;
	for (size_t i = 0; i < APT_SHA256_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

void apt_sha256_hex(const uint8_t sum[APT_SHA256_LEN], char out[2 * APT_SHA256_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < APT_SHA256_LEN; i++) {
		out[2 * i] = digits[sum[i] >> 4];
		out[2 * i + 1] = digits[sum[i] & 15];
	}
	out[2 * APT_SHA256_LEN] = '\0';
}

/* Next whitespace-separated token in [*p, end): returns its length (0 at the
 * end) and sets *tok. Newlines count as whitespace. */
static size_t next_token(const char **p, const char *end, const char **tok)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	const char *e = s;
	while (e < end && !(*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n'))
		e++;
	*tok = s;
	*p = e;
	return (size_t)(e - s);
}

/* ---- Release ---- */

struct release_ctx {
	struct apt_release *r;
	size_t cap;
	unsigned stanzas;
	bool have_sha256;
};

static int release_sha256(struct release_ctx *c, const struct d822_field *f, struct verr **err)
{
	const char *p = f->val, *end = f->val + f->val_len;
	/* The first line (after "SHA256:") is empty; each continuation line
	 * is "<64 hex> <size> <path>". */
	unsigned line = f->line;
	const char *eol = line_end(p, end);
	if (!is_blank(p, (size_t)(eol - p)))
		return verr_set(err, 0, "line %u: SHA256 field: expected the list on the next lines", line);
	p = eol;
	while (p < end) {
		p++; /* the newline */
		line++;
		eol = line_end(p, end);
		const char *q = p, *tok;
		size_t n = next_token(&q, eol, &tok);
		struct apt_release_file rf = { 0 };
		if (apt_hex_sha256(tok, n, rf.sha256) < 0)
			return verr_set(err, 0, "line %u: SHA256 field: invalid hash", line);
		n = next_token(&q, eol, &tok);
		if (parse_u64(tok, n, &rf.size) < 0)
			return verr_set(err, 0, "line %u: SHA256 field: invalid size", line);
		n = next_token(&q, eol, &tok);
		if (n == 0)
			return verr_set(err, 0, "line %u: SHA256 field: missing file name", line);
		const char *path = tok;
		size_t plen = n;
		if (next_token(&q, eol, &tok) != 0)
			return verr_set(err, 0, "line %u: SHA256 field: trailing text after the file name", line);
		if (c->r->n_files == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			c->r->files = xrealloc(c->r->files, c->cap * sizeof(*c->r->files));
		}
		rf.path = xmalloc(plen + 1);
		memcpy(rf.path, path, plen);
		rf.path[plen] = '\0';
		c->r->files[c->r->n_files++] = rf;
		p = eol;
	}
	c->have_sha256 = true;
	return 0;
}

static int release_field(void *ctx, const struct d822_field *f, struct verr **err)
{
	struct release_ctx *c = ctx;
	char **slot = NULL;
	if (c->stanzas > 0)
		return verr_set(err, 0, "line %u: a Release file has one paragraph, found a second",
				f->line);
	if (field_is(f, "SHA256")) {
		if (c->have_sha256)
			return verr_set(err, 0, "line %u: SHA256 field given twice", f->line);
		return release_sha256(c, f, err);
	}
	if (field_is(f, "Acquire-By-Hash")) {
		cleanup_free char *v = value_dup(f);
		c->r->by_hash = strcasecmp(v, "yes") == 0;
		return 0;
	}
	if (field_is(f, "Suite"))
		slot = &c->r->suite;
	else if (field_is(f, "Codename"))
		slot = &c->r->codename;
	else if (field_is(f, "Date"))
		slot = &c->r->date;
	if (!slot)
		return 0;
	if (*slot)
		return verr_set(err, 0, "line %u: field %.*s given twice", f->line, (int)f->name_len, f->name);
	*slot = value_dup(f);
	return 0;
}

static int release_stanza(void *ctx, unsigned line, struct verr **err)
{
	struct release_ctx *c = ctx;
	if (++c->stanzas > 1)
		return verr_set(err, 0, "line %u: a Release file has one paragraph, found a second", line);
	return 0;
}

int apt_release_parse(const char *text, size_t len, struct apt_release **out, struct verr **err)
{
	struct release_ctx c = { .r = xcalloc(1, sizeof(struct apt_release)) };
	if (d822_parse(text, len, release_field, release_stanza, &c, err) < 0) {
		apt_release_free(c.r);
		return verr_wrap(err, "Release file");
	}
	if (!c.have_sha256) {
		apt_release_free(c.r);
		return verr_set(err, 0, "Release file: no SHA256 field");
	}
	*out = c.r;
	return 0;
}

const struct apt_release_file *apt_release_find(const struct apt_release *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i].path, path) == 0)
			return &r->files[i];
	return NULL;
}

void apt_release_free(struct apt_release *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->suite);
	free(r->codename);
	free(r->date);
	free(r);
}

/* ---- Packages ---- */

struct packages_ctx {
	struct apt_packages *p;
	size_t cap;
	struct apt_package cur;
	bool have_size, have_sha256;
};

static void package_clear(struct apt_package *p)
{
	free(p->name);
	free(p->version);
	free(p->filename);
	free(p->depends);
	memset(p, 0, sizeof(*p));
}

static int packages_field(void *ctx, const struct d822_field *f, struct verr **err)
{
	struct packages_ctx *c = ctx;
	char **slot = NULL;
	if (field_is(f, "Package"))
		slot = &c->cur.name;
	else if (field_is(f, "Version"))
		slot = &c->cur.version;
	else if (field_is(f, "Filename"))
		slot = &c->cur.filename;
	else if (field_is(f, "Depends"))
		slot = &c->cur.depends;
	if (slot) {
		if (*slot)
			return verr_set(err, 0, "line %u: field %.*s given twice", f->line,
					(int)f->name_len, f->name);
		*slot = value_dup(f);
		/* Depends may be folded over several lines. */
		for (char *q = *slot; *q; q++)
			if (*q == '\n' || *q == '\t' || *q == '\r')
				*q = ' ';
		if (!**slot)
			return verr_set(err, 0, "line %u: empty %.*s field", f->line, (int)f->name_len,
					f->name);
		if (slot != &c->cur.depends && strpbrk(*slot, " "))
			return verr_set(err, 0, "line %u: %.*s: unexpected space in '%s'", f->line,
					(int)f->name_len, f->name, *slot);
		return 0;
	}
	const char *p = f->val, *tok;
	size_t n;
	if (field_is(f, "Size")) {
		if (c->have_size)
			return verr_set(err, 0, "line %u: field Size given twice", f->line);
		n = next_token(&p, f->val + f->val_len, &tok);
		if (parse_u64(tok, n, &c->cur.size) < 0 || next_token(&p, f->val + f->val_len, &tok))
			return verr_set(err, 0, "line %u: invalid Size", f->line);
		c->have_size = true;
	} else if (field_is(f, "SHA256")) {
		if (c->have_sha256)
			return verr_set(err, 0, "line %u: field SHA256 given twice", f->line);
		n = next_token(&p, f->val + f->val_len, &tok);
		if (apt_hex_sha256(tok, n, c->cur.sha256) < 0 || next_token(&p, f->val + f->val_len, &tok))
			return verr_set(err, 0, "line %u: invalid SHA256", f->line);
		c->have_sha256 = true;
	}
	return 0;
}

static int packages_stanza(void *ctx, unsigned line, struct verr **err)
{
	struct packages_ctx *c = ctx;
	const char *missing = !c->cur.name ? "Package"
			      : !c->cur.version ? "Version"
			      : !c->cur.filename ? "Filename"
			      : !c->have_size ? "Size"
			      : !c->have_sha256 ? "SHA256"
					       : NULL;
	if (missing) {
		verr_set(err, 0, "paragraph at line %u%s%s: no %s field", line,
			 c->cur.name ? ", package " : "", c->cur.name ? c->cur.name : "", missing);
		return -1;
	}
	if (c->p->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->p->pkgs = xrealloc(c->p->pkgs, c->cap * sizeof(*c->p->pkgs));
	}
	c->p->pkgs[c->p->n++] = c->cur;
	memset(&c->cur, 0, sizeof(c->cur));
	c->have_size = c->have_sha256 = false;
	return 0;
}

int apt_packages_parse(const char *text, size_t len, struct apt_packages **out, struct verr **err)
{
	struct packages_ctx c = { .p = xcalloc(1, sizeof(struct apt_packages)) };
	if (d822_parse(text, len, packages_field, packages_stanza, &c, err) < 0) {
		package_clear(&c.cur);
		apt_packages_free(c.p);
		return verr_wrap(err, "Packages file");
	}
	*out = c.p;
	return 0;
}

const struct apt_package *apt_packages_find(const struct apt_packages *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->pkgs[i].name, name) == 0)
			return &p->pkgs[i];
	return NULL;
}

void apt_packages_free(struct apt_packages *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		package_clear(&p->pkgs[i]);
	free(p->pkgs);
	free(p);
}

/* ---- Depends ---- */

/* Package names: lower-case letters, digits, '+', '-', '.'; at least two
 * characters, starting with a letter or digit (Policy §5.6.1). */
static bool valid_package_name(const char *s, size_t n)
{
	if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' ||
		      ch == '.'))
			return false;
	}
	return true;
}

void apt_strv_free(char **v)
{
	if (!v)
		return;
	for (char **q = v; *q; q++)
		free(*q);
	free(v);
}

int apt_depends_first(const char *depends, char ***out, struct verr **err)
{
	size_t n = 0, cap = 4;
	char **v = xcalloc(cap + 1, sizeof(char *));
	const char *p = depends;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *cend = comma ? comma : p + strlen(p);
		const char *bar = memchr(p, '|', (size_t)(cend - p));
		const char *aend = bar ? bar : cend;
		const char *s = p;
		while (s < aend && (*s == ' ' || *s == '\t'))
			s++;
		const char *e = s;
		while (e < aend && *e != ' ' && *e != '\t' && *e != '(' && *e != ':' && *e != '[' &&
		       *e != '<')
			e++;
		if (!valid_package_name(s, (size_t)(e - s))) {
			apt_strv_free(v);
			return verr_set(err, 0, "Depends: invalid package name in '%.*s'",
					(int)(cend - p), p);
		}
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, (cap + 1) * sizeof(char *));
		}
		v[n] = xmalloc((size_t)(e - s) + 1);
		memcpy(v[n], s, (size_t)(e - s));
		v[n][e - s] = '\0';
		v[++n] = NULL;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = v;
	return (int)n;
}
