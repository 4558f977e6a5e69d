/* Character backends for consoles: today the process's stdio.
 *
 * A reader thread reads the input fd and hands bytes to a callback (the
 * board feeds them to the UART). When the input is a terminal it is put in
 * raw mode (restored by chardev_destroy or chardev_restore_terminal) and the
 * QEMU escape keys are handled: Ctrl-A x quits, Ctrl-A h prints help,
 * Ctrl-A a sends a literal Ctrl-A. EOF on the input ends the reader thread
 * only; output continues.
 *
 * Input the consumer cannot take yet waits in a 4 KiB buffer. A pipe is then
 * no longer read (back-pressure, nothing lost); a terminal keeps being read
 * so that Ctrl-A x always works, and keystrokes beyond the buffer are
 * dropped.
 */
#ifndef VESSEL_VM_BACKEND_CHARDEV_H
#define VESSEL_VM_BACKEND_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct chardev;

struct chardev_handler {
	/* Bytes typed by the user, in order. Must not block: returns how many
	 * were taken; the backend keeps the rest and offers them again after
	 * chardev_notify_space(). */
	size_t (*input)(void *opaque, const uint8_t *buf, size_t len);
	/* Ctrl-A x: the user asks to quit. */
	void (*quit)(void *opaque);
	void *opaque;
};

/* Creates a backend on in_fd/out_fd (borrowed, not closed). raw: put in_fd
 * in raw mode if it is a terminal. escapes: handle Ctrl-A sequences.
 * Returns NULL and sets *err on failure. Free with chardev_destroy(). */
struct chardev *chardev_stdio_create(int in_fd, int out_fd, bool raw, bool escapes, struct verr **err);

/* Starts the reader thread; `h` is copied. Returns 0 or -errno. */
int chardev_start(struct chardev *c, const struct chardev_handler *h);

/* Writes output bytes (errors such as a closed pipe are ignored, the guest
 * must not stall on them). Thread-safe. */
void chardev_write(struct chardev *c, const uint8_t *buf, size_t len);

/* The consumer has room for input again (e.g. the guest read the UART).
 * Cheap when the backend has nothing pending; never blocks. Thread-safe. */
void chardev_notify_space(struct chardev *c);

/* Restores the terminal mode; async-signal-safe (for the CLI's signal
 * handlers). */
void chardev_restore_terminal(struct chardev *c);

/* Stops the reader thread, restores the terminal, frees. Accepts NULL. */
void chardev_destroy(struct chardev *c);

#endif
