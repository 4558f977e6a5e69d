/* Logging to stderr (or a file). The level is checked before the arguments
 * are evaluated, so disabled debug lines cost a branch. Guest-triggered paths
 * use log_ratelimited(). Libraries log only here, never to stdout. */
#ifndef VESSEL_BASE_LOG_H
#define VESSEL_BASE_LOG_H

#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level_current; /* process-wide verbosity, set by the CLI */

void log_set_file(FILE *f);
void log_emit(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vlog(lvl, ...)                                   \
	do {                                             \
		if ((int)(lvl) <= log_level_current)     \
			log_emit((lvl), __VA_ARGS__);    \
	} while (0)
#define log_error(...) vlog(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) vlog(LOG_WARN, __VA_ARGS__)
#define log_info(...) vlog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) vlog(LOG_DEBUG, __VA_ARGS__)

/* Rate limit state: at most `burst` messages per second. */
struct log_ratelimit {
	uint64_t window_ns;
	unsigned count;
};
int log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst);
#define log_ratelimited(rl, lvl, ...)                                        \
	do {                                                                 \
		if ((int)(lvl) <= log_level_current && log_ratelimit_ok((rl), 10)) \
			log_emit((lvl), __VA_ARGS__);                        \
	} while (0)

#endif
