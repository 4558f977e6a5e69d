/* NS16550A UART (the virt board's console, 0x1000_0000, IRQ 10).
 *
 * Registers per the National Semiconductor PC16550D data sheet: RBR/THR,
 * IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, and DLL/DLM when LCR.DLAB is set.
 * A 16-byte RX FIFO; transmission is immediate (THR is always empty again
 * after a write), so THRE interrupts follow every write when enabled.
 * MCR loopback is emulated (TX goes to RX, MSR mirrors MCR).
 */
#ifndef VESSEL_VM_DEV_UART16550_H
#define VESSEL_VM_DEV_UART16550_H

#include "vm/dev/dev.h"

#define UART_BASE_GPA 0x10000000ull
#define UART_SIZE 0x100ull
#define UART_IRQ 10
#define UART_CLOCK_HZ 3686400
#define UART_FIFO_LEN 16

struct uart_state {
	uint8_t rx_fifo[UART_FIFO_LEN];
	uint8_t rx_head;  /* index of the oldest byte */
	uint8_t rx_count;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_err;  /* sticky error bits (overrun), cleared on LSR read */
	uint8_t thr_ipending;
	uint8_t pad[6];
};

struct uart16550 {
	struct uart_state s;
	struct irq_line irq;
	/* Host side: a byte the guest transmits, and a notification that the
	 * RX FIFO has room again. Both called with the board lock held. */
	void (*tx)(void *opaque, uint8_t c);
	void (*rx_space)(void *opaque);
	void *backend_opaque;
};

extern const struct dev_ops uart16550_ops;

/* Initializes the UART (power-on state); the caller sets irq, tx, rx_space. */
void uart16550_init(struct uart16550 *u);

/* Feeds received bytes into the RX FIFO. Returns how many were accepted
 * (less than len when the FIFO is full). Board lock held. */
size_t uart16550_rx_push(struct uart16550 *u, const uint8_t *buf, size_t len);

/* A BREAK condition on the line: a NUL character flagged with LSR.BI, as a
 * terminal's break key sends it (Linux reads break + key as magic SysRq
 * on its serial console). Only when the RX FIFO is empty, so the flag is
 * attached to the right character: returns false otherwise (try again
 * later). Board lock held. */
bool uart16550_rx_break(struct uart16550 *u);

/* Takes up to len received bytes out of the RX FIFO (the SBI console read
 * path shares the UART's input). Returns the count. Board lock held. */
size_t uart16550_rx_take(struct uart16550 *u, uint8_t *buf, size_t len);

/* Bytes the RX FIFO can take now. */
size_t uart16550_rx_room(const struct uart16550 *u);

#endif
