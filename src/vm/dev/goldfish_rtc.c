#include "vm/dev/goldfish_rtc.h"

#include <errno.h>
#include <string.h>
#include <time.h>

enum {
	RTC_TIME_LOW = 0x00,
	RTC_TIME_HIGH = 0x04,
	RTC_ALARM_LOW = 0x08,
	RTC_ALARM_HIGH = 0x0c,
	RTC_IRQ_ENABLED = 0x10,
	RTC_CLEAR_ALARM = 0x14,
	RTC_ALARM_STATUS = 0x18,
	RTC_CLEAR_INTERRUPT = 0x1c,
};

static uint64_t rtc_host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void goldfish_rtc_init(struct goldfish_rtc *r)
{
	memset(r, 0, sizeof(*r));
	r->clock_ns = rtc_host_ns;
}

static uint64_t rtc_now(const struct goldfish_rtc *r)
{
	return r->clock_ns() + (uint64_t)r->s.offset_ns;
}

static void rtc_update(struct goldfish_rtc *r)
{
	irq_line_set(&r->irq, r->s.irq_pending && r->s.irq_enabled);
}

void goldfish_rtc_poll(struct goldfish_rtc *r)
{
	if (r->s.alarm_running && rtc_now(r) >= r->s.alarm_ns) {
		r->s.alarm_running = 0;
		r->s.irq_pending = 1;
	}
	rtc_update(r);
}

static int rtc_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct goldfish_rtc *r = dev;
	if (size != 4)
		return -1;
	goldfish_rtc_poll(r);
	switch (off) {
	case RTC_TIME_LOW: {
		uint64_t t = rtc_now(r);
		r->s.time_high = (uint32_t)(t >> 32);
		*val = (uint32_t)t;
		break;
	}
	case RTC_TIME_HIGH:
		*val = r->s.time_high;
		break;
	case RTC_ALARM_LOW:
		*val = (uint32_t)r->s.alarm_ns;
		break;
	case RTC_ALARM_HIGH:
		*val = (uint32_t)(r->s.alarm_ns >> 32);
		break;
	case RTC_IRQ_ENABLED:
		*val = r->s.irq_enabled;
		break;
	case RTC_ALARM_STATUS:
		*val = r->s.alarm_running;
		break;
	default:
		*val = 0;
		break;
	}
	return 0;
}

static int rtc_write(void *dev, uint64_t off, unsigned size, uint64_t val64)
{
	struct goldfish_rtc *r = dev;
	uint32_t val = (uint32_t)val64;
	if (size != 4)
		return -1;
	switch (off) {
	case RTC_TIME_LOW: {
		/* Setting the clock: TIME_HIGH was latched/written first. */
		uint64_t t = ((uint64_t)r->s.time_high << 32) | val;
		r->s.offset_ns = (int64_t)(t - r->clock_ns());
		break;
	}
	case RTC_TIME_HIGH:
		r->s.time_high = val;
		break;
	case RTC_ALARM_LOW:
		r->s.alarm_ns = ((uint64_t)r->s.alarm_high << 32) | val;
		r->s.alarm_running = 1;
		break;
	case RTC_ALARM_HIGH:
		r->s.alarm_high = val;
		break;
	case RTC_IRQ_ENABLED:
		r->s.irq_enabled = val & 1;
		break;
	case RTC_CLEAR_ALARM:
		r->s.alarm_running = 0;
		break;
	case RTC_CLEAR_INTERRUPT:
		r->s.irq_pending = 0;
		break;
	default:
		break;
	}
	goldfish_rtc_poll(r);
	return 0;
}

static void rtc_reset(void *dev)
{
	struct goldfish_rtc *r = dev;
	memset(&r->s, 0, sizeof(r->s));
	rtc_update(r);
}

static size_t rtc_save(const void *dev, void *buf, size_t len)
{
	const struct goldfish_rtc *r = dev;
	if (len >= sizeof(r->s))
		memcpy(buf, &r->s, sizeof(r->s));
	return sizeof(r->s);
}

static int rtc_load(void *dev, const void *buf, size_t len)
{
	struct goldfish_rtc *r = dev;
	struct goldfish_rtc_state s;
	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.irq_enabled > 1 || s.alarm_running > 1 || s.irq_pending > 1)
		return -EINVAL;
	r->s = s;
	goldfish_rtc_poll(r);
	return 0;
}

const struct dev_ops goldfish_rtc_ops = {
	.name = "goldfish-rtc",
	.read = rtc_read,
	.write = rtc_write,
	.reset = rtc_reset,
	.save = rtc_save,
	.load = rtc_load,
};
