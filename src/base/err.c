#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

int verr_set(struct verr **err, int errnum, const char *fmt, ...)
{
	if (!err || *err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *m = vformat(fmt, ap);
	va_end(ap);
	struct verr *e = xcalloc(1, sizeof(*e));
	e->errnum = errnum;
	if (errnum) {
		e->msg = xasprintf("%s: %s", m, strerror(errnum));
		free(m);
	} else {
		e->msg = m;
	}
	*err = e;
	return -1;
}

int verr_wrap(struct verr **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	char *m = xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = m;
	return -1;
}

void verr_free(struct verr *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void verr_clear(struct verr **err)
{
	if (err) {
		verr_free(*err);
		*err = NULL;
	}
}
