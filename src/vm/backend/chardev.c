#include "vm/backend/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/util.h"

#define CTRL_A 0x01
#define PENDING_CAP 4096

struct chardev {
	int in_fd, out_fd;
	bool escapes;
	bool raw_active;
	struct termios saved;
	int wake_pipe[2];
	bool thread_started;
	pthread_t thread;
	pthread_mutex_t out_lock;
	struct chardev_handler h;
	bool esc_pending;
	bool in_is_tty;
	int space_pipe[2];     /* written by chardev_notify_space */
	atomic_bool want_space; /* the reader holds pending input */
	uint8_t pending[PENDING_CAP];
	size_t pending_len;
};

struct chardev *chardev_stdio_create(int in_fd, int out_fd, bool raw, bool escapes, struct verr **err)
{
	struct chardev *c = xcalloc(1, sizeof(*c));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->escapes = escapes;
	c->wake_pipe[0] = c->wake_pipe[1] = -1;
	c->space_pipe[0] = c->space_pipe[1] = -1;
	c->in_is_tty = in_fd >= 0 && isatty(in_fd);
	pthread_mutex_init(&c->out_lock, NULL);
	if (pipe2(c->wake_pipe, O_CLOEXEC) < 0 || pipe2(c->space_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		verr_set(err, errno, "console: pipe");
		chardev_destroy(c);
		return NULL;
	}
	if (raw && isatty(in_fd)) {
		if (tcgetattr(in_fd, &c->saved) < 0) {
			verr_set(err, errno, "console: tcgetattr");
			chardev_destroy(c);
			return NULL;
		}
		struct termios t = c->saved;
		cfmakeraw(&t);
		/* Keep output post-processing as the guest's console expects
		 * to drive a real terminal: no translation. */
		if (tcsetattr(in_fd, TCSANOW, &t) < 0) {
			verr_set(err, errno, "console: tcsetattr");
			chardev_destroy(c);
			return NULL;
		}
		c->raw_active = true;
	}
	return c;
}

void chardev_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&c->out_lock);
	/* A closed or broken output must not stop the guest. */
	if (write_full(c->out_fd, buf, len) < 0) {
	}
	pthread_mutex_unlock(&c->out_lock);
}

static void chardev_help(struct chardev *c)
{
	static const char help[] = "\r\n"
				   "C-a h    print this help\r\n"
				   "C-a x    exit the virtual machine\r\n"
				   "C-a a    send C-a\r\n";
	chardev_write(c, (const uint8_t *)help, sizeof(help) - 1);
}

/* Filters escape sequences out of buf in place; returns the bytes to pass on,
 * or -1 if the user asked to quit. */
static ssize_t chardev_filter(struct chardev *c, uint8_t *buf, size_t len)
{
	if (!c->escapes)
		return (ssize_t)len;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = buf[i];
		if (c->esc_pending) {
			c->esc_pending = false;
			switch (ch) {
			case 'x':
			case 'X':
				return -1;
			case 'h':
			case 'H':
			case '?':
				chardev_help(c);
				break;
			case 'a':
			case CTRL_A:
				buf[o++] = CTRL_A;
				break;
			default:
				/* Unknown escape: ignored, as QEMU does. */
				break;
			}
		} else if (ch == CTRL_A) {
			c->esc_pending = true;
		} else {
			buf[o++] = ch;
		}
	}
	return (ssize_t)o;
}

/* Offers the pending bytes to the consumer. */
static void chardev_flush_pending(struct chardev *c)
{
	if (!c->pending_len || !c->h.input)
		return;
	size_t n = c->h.input(c->h.opaque, c->pending, c->pending_len);
	if (n > c->pending_len)
		n = c->pending_len;
	memmove(c->pending, c->pending + n, c->pending_len - n);
	c->pending_len -= n;
}

static void *chardev_reader(void *arg)
{
	struct chardev *c = arg;
	uint8_t buf[256];
	bool eof = false;
	for (;;) {
		/* Ask for a space notification before offering the bytes, so
		 * room made in between is not missed. */
		atomic_store(&c->want_space, c->pending_len > 0);
		chardev_flush_pending(c);
		if (c->pending_len == 0) {
			atomic_store(&c->want_space, false);
			if (eof)
				break;
		}
		bool read_in = !eof && (c->pending_len < PENDING_CAP || c->in_is_tty);
		struct pollfd p[3] = {
			{ .fd = c->wake_pipe[0], .events = POLLIN },
			{ .fd = c->space_pipe[0], .events = POLLIN },
			{ .fd = read_in ? c->in_fd : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents) {
			char drain[64];
			while (read(c->space_pipe[0], drain, sizeof(drain)) > 0) {
			}
		}
		if (!p[2].revents)
			continue;
		size_t room = PENDING_CAP - c->pending_len;
		size_t want = room ? (room < sizeof(buf) ? room : sizeof(buf)) : sizeof(buf);
		ssize_t n = read(c->in_fd, buf, want);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			eof = true; /* EOF or error: no more input, the VM goes on */
			continue;
		}
		ssize_t keep = chardev_filter(c, buf, (size_t)n);
		if (keep < 0) {
			if (c->h.quit)
				c->h.quit(c->h.opaque);
			break;
		}
		/* A full buffer only happens on a terminal (pipes are not read
		 * then): the guest is not reading, extra keystrokes are lost. */
		size_t take = (size_t)keep < room ? (size_t)keep : room;
		memcpy(c->pending + c->pending_len, buf, take);
		c->pending_len += take;
	}
	return NULL;
}

void chardev_notify_space(struct chardev *c)
{
	if (c && atomic_load(&c->want_space)) {
		char b = 's';
		if (write(c->space_pipe[1], &b, 1) < 0) {
			/* full pipe: a notification is already pending */
		}
	}
}

int chardev_start(struct chardev *c, const struct chardev_handler *h)
{
	c->h = *h;
	int r = pthread_create(&c->thread, NULL, chardev_reader, c);
	if (r)
		return -r;
	c->thread_started = true;
	return 0;
}

void chardev_restore_terminal(struct chardev *c)
{
	if (c && c->raw_active)
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
}

void chardev_destroy(struct chardev *c)
{
	if (!c)
		return;
	if (c->thread_started) {
		char b = 0;
		if (write(c->wake_pipe[1], &b, 1) < 0) {
		}
		pthread_join(c->thread, NULL);
	}
	chardev_restore_terminal(c);
	if (c->wake_pipe[0] >= 0)
		close(c->wake_pipe[0]);
	if (c->wake_pipe[1] >= 0)
		close(c->wake_pipe[1]);
	if (c->space_pipe[0] >= 0)
		close(c->space_pipe[0]);
	if (c->space_pipe[1] >= 0)
		close(c->space_pipe[1]);
	pthread_mutex_destroy(&c->out_lock);
	free(c);
}
