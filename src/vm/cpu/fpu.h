/* F and D extensions: the computational instructions, independent of the
 * hart's other state so they can be tested on their own.
 *
 * IEEE 754-2008 behaviour as the RISC-V unprivileged spec (ch. "F" and "D")
 * defines it: rounding modes RNE/RTZ/RDN/RUP/RMM (static rm or DYN = frm),
 * accrued flags NV/DZ/OF/UF/NX in fflags, canonical NaNs (0x7fc00000,
 * 0x7ff8000000000000), NaN boxing of single-precision values in the 64-bit
 * registers (an improperly boxed input reads as the canonical NaN).
 */
#ifndef VESSEL_VM_FPU_H
#define VESSEL_VM_FPU_H

#include <stdint.h>

/* fflags bits */
#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

struct fpu_state {
	uint64_t f[32]; /* f0..f31; singles are NaN-boxed (upper 32 bits all ones) */
	uint8_t frm;    /* fcsr[7:5] */
	uint8_t fflags; /* fcsr[4:0] */
};

/* Executes one computational F/D instruction: opcode OP-FP (0x53) and the
 * fused multiply-adds MADD/MSUB/NMSUB/NMADD (0x43/0x47/0x4b/0x4f). Loads and
 * stores (FLW/FLD/FSW/FSD) are the CPU's. x is the integer register file;
 * x[0] is never written. Returns 0, or -1 when the instruction is illegal
 * (unknown encoding, or a reserved rounding mode in rm or in frm for DYN);
 * on -1 nothing has been changed. The caller checks mstatus.FS != Off first
 * and marks FS Dirty after success. */
int fpu_exec(struct fpu_state *fs, uint64_t *x, uint32_t insn);

#endif
