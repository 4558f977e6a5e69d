#include "base/log.h"

#include <stdarg.h>

#include "base/util.h"

int log_level_current = LOG_WARN;
static FILE *log_file;

void log_set_file(FILE *f)
{
	log_file = f;
}

void log_emit(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	FILE *f = log_file ? log_file : stderr;
	va_list ap;
	va_start(ap, fmt);
	flockfile(f);
	fprintf(f, "vessel: %s: ", names[lvl]);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	funlockfile(f);
	fflush(f);
	va_end(ap);
}

int log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst)
{
	uint64_t now = now_ns();
	if (now - rl->window_ns > 1000000000ull) {
		rl->window_ns = now;
		rl->count = 0;
	}
	return rl->count++ < burst;
}
