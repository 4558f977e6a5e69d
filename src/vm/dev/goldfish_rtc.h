/* Goldfish RTC (google,goldfish-rtc) as on QEMU's virt board, IRQ 11.
 *
 * TIME_LOW/TIME_HIGH give nanoseconds since the epoch from the host wall
 * clock plus a guest-set offset; reading TIME_LOW latches TIME_HIGH
 * (Android goldfish RTC spec). One alarm: when the time reaches the alarm
 * value with IRQ_ENABLED set, the interrupt line rises until
 * CLEAR_INTERRUPT. The alarm is checked on every access and by the board's
 * periodic tick (goldfish_rtc_poll).
 */
#ifndef VESSEL_VM_DEV_GOLDFISH_RTC_H
#define VESSEL_VM_DEV_GOLDFISH_RTC_H

#include "vm/dev/dev.h"

#define RTC_BASE_GPA 0x00101000ull
#define RTC_SIZE 0x1000ull
#define RTC_IRQ 11

struct goldfish_rtc_state {
	int64_t offset_ns;   /* guest time - host wall clock */
	uint64_t alarm_ns;
	uint32_t time_high;  /* latched by a TIME_LOW read */
	uint32_t alarm_high; /* written before ALARM_LOW arms the alarm */
	uint32_t irq_enabled;
	uint32_t alarm_running;
	uint32_t irq_pending;
	uint32_t pad;
};

struct goldfish_rtc {
	struct goldfish_rtc_state s;
	struct irq_line irq;
	/* Host clock, replaceable by tests; returns ns since the epoch. */
	uint64_t (*clock_ns)(void);
};

extern const struct dev_ops goldfish_rtc_ops;

/* Power-on state, clock = host CLOCK_REALTIME. */
void goldfish_rtc_init(struct goldfish_rtc *r);

/* Fires the alarm if it is due. Board lock held. */
void goldfish_rtc_poll(struct goldfish_rtc *r);

#endif
