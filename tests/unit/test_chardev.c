/* Unit tests of the stdio character backend over pipes: escape keys,
 * buffering of input the consumer cannot take yet, EOF, output. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/backend/chardev.h"

struct sink {
	pthread_mutex_t lock;
	uint8_t got[8192];
	size_t len;
	size_t limit; /* bytes the consumer accepts in total for now */
	int quits;
};

static size_t sink_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct sink *s = opaque;
	pthread_mutex_lock(&s->lock);
	size_t room = s->limit > s->len ? s->limit - s->len : 0;
	size_t n = len < room ? len : room;
	memcpy(s->got + s->len, buf, n);
	s->len += n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void sink_quit(void *opaque)
{
	struct sink *s = opaque;
	pthread_mutex_lock(&s->lock);
	s->quits++;
	pthread_mutex_unlock(&s->lock);
}

static size_t sink_len(struct sink *s)
{
	pthread_mutex_lock(&s->lock);
	size_t n = s->len;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Waits up to 5 s for cond(s) to hold. */
static void wait_len(struct sink *s, size_t want)
{
	for (int i = 0; i < 500 && sink_len(s) < want; i++)
		usleep(10000);
	assert_int_equal(sink_len(s), want);
}

static void test_escapes_and_output(void **state)
{
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	struct verr *err = NULL;
	struct chardev *c = chardev_stdio_create(in[0], out[1], true, true, &err);
	assert_non_null(c);
	struct sink s = { .lock = PTHREAD_MUTEX_INITIALIZER, .limit = sizeof(s.got) };
	struct chardev_handler h = { .input = sink_input, .quit = sink_quit, .opaque = &s };
	assert_int_equal(chardev_start(c, &h), 0);
	/* "ab", C-a h (help), "cd", C-a a (literal C-a), C-a z (ignored) */
	const char keys[] = "ab\x01h"
			    "cd\x01"
			    "a\x01z";
	assert_int_equal(write(in[1], keys, sizeof(keys) - 1), (ssize_t)sizeof(keys) - 1);
	wait_len(&s, 5);
	assert_memory_equal(s.got, "abcd\x01", 5);
	char help[512];
	ssize_t n = read(out[0], help, sizeof(help) - 1);
	assert_true(n > 0);
	help[n] = 0;
	assert_non_null(strstr(help, "C-a x"));
	chardev_write(c, (const uint8_t *)"guest", 5);
	assert_int_equal(read(out[0], help, 5), 5);
	assert_memory_equal(help, "guest", 5);
	/* C-a x: quit */
	assert_int_equal(write(in[1], "\x01x", 2), 2);
	for (int i = 0; i < 500 && !s.quits; i++)
		usleep(10000);
	assert_int_equal(s.quits, 1);
	chardev_destroy(c);
	close(in[1]);
	close(out[0]);
	close(in[0]);
	close(out[1]);
}

static void test_backpressure_and_eof(void **state)
{
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	struct verr *err = NULL;
	struct chardev *c = chardev_stdio_create(in[0], out[1], false, false, &err);
	assert_non_null(c);
	struct sink s = { .lock = PTHREAD_MUTEX_INITIALIZER, .limit = 10 };
	struct chardev_handler h = { .input = sink_input, .quit = sink_quit, .opaque = &s };
	assert_int_equal(chardev_start(c, &h), 0);
	/* 6000 bytes: more than the consumer takes and than the backend
	 * buffers; escapes are off so C-a passes through */
	static uint8_t data[6000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	data[3] = 0x01;
	assert_int_equal(write(in[1], data, sizeof(data)), (ssize_t)sizeof(data));
	close(in[1]); /* EOF after the data */
	wait_len(&s, 10);
	usleep(50000);
	assert_int_equal(sink_len(&s), 10);
	/* room again, announced: everything arrives, in order, none lost */
	pthread_mutex_lock(&s.lock);
	s.limit = sizeof(s.got);
	pthread_mutex_unlock(&s.lock);
	chardev_notify_space(c);
	wait_len(&s, sizeof(data));
	assert_memory_equal(s.got, data, sizeof(data));
	assert_int_equal(s.quits, 0);
	chardev_destroy(c);
	close(in[0]);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_and_output),
		cmocka_unit_test(test_backpressure_and_eof),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
