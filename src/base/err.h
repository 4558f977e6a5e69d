/* Error objects for the control plane (CLI, config files, images, API).
 *
 * A function that can fail for reasons a user must read takes a
 * `struct verr **err` out-parameter, returns -1 (or NULL) and fills *err.
 * Callers add context as the error travels up with verr_wrap(), so the
 * message printed at the top reads as a chain:
 *   "restore 'vm.snap': section cpu0: version 3 is newer than this build (2)".
 * Guest-caused conditions never use this: they become architectural faults
 * or device error states.
 */
#ifndef VESSEL_BASE_ERR_H
#define VESSEL_BASE_ERR_H

#include <stdarg.h>

struct verr {
	int errnum;  /* errno value behind the error, or 0 */
	char *msg;   /* whole chain, outermost context first */
};

/* Sets *err (if err is not NULL and *err is NULL) to a new error with a
 * printf-style message. errnum, if non-zero, appends ": strerror(errnum)".
 * Always returns -1 so callers can `return verr_set(err, ...)`. */
int verr_set(struct verr **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes context to an existing error: "context: old message".
 * Does nothing when err or *err is NULL. Returns -1. */
int verr_wrap(struct verr **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Frees an error; accepts NULL. */
void verr_free(struct verr *e);

/* Frees *err and sets it to NULL (for use with cleanup attributes). */
void verr_clear(struct verr **err);

#endif
