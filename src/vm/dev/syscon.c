#include "vm/dev/syscon.h"

#include <errno.h>

#include "base/log.h"

static struct log_ratelimit syscon_rl;

static int syscon_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	*val = 0;
	return 0;
}

static int syscon_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct syscon *s = dev;
	if (off != 0 || size < 4) {
		log_ratelimited(&syscon_rl, LOG_DEBUG, "syscon: ignored write at +0x%llx",
				(unsigned long long)off);
		return 0;
	}
	uint32_t v = (uint32_t)val;
	switch (v & 0xffff) {
	case 0x5555:
		s->request(s->opaque, SYSCON_POWEROFF, 0);
		break;
	case 0x7777:
		s->request(s->opaque, SYSCON_RESET, 0);
		break;
	case 0x3333:
		s->request(s->opaque, SYSCON_FAIL, v >> 16);
		break;
	default:
		log_ratelimited(&syscon_rl, LOG_DEBUG, "syscon: unknown command 0x%x", v);
		break;
	}
	return 0;
}

static void syscon_reset(void *dev)
{
}

/* The device has no guest-visible state. */
static size_t syscon_save(const void *dev, void *buf, size_t len)
{
	return 0;
}

static int syscon_load(void *dev, const void *buf, size_t len)
{
	return len == 0 ? 0 : -EINVAL;
}

const struct dev_ops syscon_ops = {
	.name = "syscon",
	.read = syscon_read,
	.write = syscon_write,
	.reset = syscon_reset,
	.save = syscon_save,
	.load = syscon_load,
};
