/* Control and status registers (privileged spec ch. 2 "CSRs", ch. 3 machine
 * level, ch. 4 supervisor level; unprivileged spec "Zicntr", "Zicsr";
 * Sstc for stimecmp). */
#include "vm/cpu/hart.h"

#define MISA_VALUE                                                                              \
	((2ull << 62) | (1u << ('A' - 'A')) | (1u << ('C' - 'A')) | (1u << ('D' - 'A')) |        \
	 (1u << ('F' - 'A')) | (1u << ('I' - 'A')) | (1u << ('M' - 'A')) | (1u << ('S' - 'A')) | \
	 (1u << ('U' - 'A')))

#define MSTATUS_WMASK                                                                      \
	(MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | \
	 MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |   \
	 MSTATUS_TSR)
#define SSTATUS_RMASK                                                                      \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM |   \
	 MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WMASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)

#define S_INTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define M_INTS (MIP_MSIP | MIP_MTIP | MIP_MEIP)
/* exceptions that may be delegated: all but ecall from M and reserved ones */
#define MEDELEG_MASK 0xb3ffull

enum {
	CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
	CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
	CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
	CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142,
	CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_STIMECMP = 0x14d, CSR_SATP = 0x180,
	CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13, CSR_MHARTID = 0xf14,
	CSR_MCONFIGPTR = 0xf15,
	CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
	CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a,
	CSR_MCOUNTINHIBIT = 0x320, CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342,
	CSR_MTVAL = 0x343, CSR_MIP = 0x344, CSR_PMPCFG0 = 0x3a0, CSR_PMPADDR0 = 0x3b0,
	CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02,
};

static uint64_t status_sd(uint64_t s)
{
	s &= ~MSTATUS_SD;
	if ((s & MSTATUS_FS) == MSTATUS_FS || (s & MSTATUS_XS) == MSTATUS_XS)
		s |= MSTATUS_SD;
	return s;
}

/* Zicntr/Zihpm counter access from S and U (privileged spec 3.1.11
 * "Machine Counter-Enable Register"). */
static bool counter_ok(const struct hart *h, unsigned idx)
{
	if (h->priv == PRIV_M)
		return true;
	if (!((h->mcounteren >> idx) & 1))
		return false;
	if (h->priv == PRIV_U && !((h->scounteren >> idx) & 1))
		return false;
	return true;
}

static bool fs_on(const struct hart *h)
{
	return (h->mstatus & MSTATUS_FS) != 0;
}

int csr_read(struct hart *h, unsigned csr, uint64_t *val)
{
	if (((csr >> 8) & 3) > h->priv)
		return -1;
	switch (csr) {
	case CSR_FFLAGS:
		if (!fs_on(h))
			return -1;
		*val = h->fp.fflags;
		return 0;
	case CSR_FRM:
		if (!fs_on(h))
			return -1;
		*val = h->fp.frm;
		return 0;
	case CSR_FCSR:
		if (!fs_on(h))
			return -1;
		*val = ((uint64_t)h->fp.frm << 5) | h->fp.fflags;
		return 0;
	case CSR_CYCLE:
		if (!counter_ok(h, 0))
			return -1;
		*val = h->instret + h->cycle_offset;
		return 0;
	case CSR_TIME:
		if (!counter_ok(h, 1))
			return -1;
		*val = cpu_mtime(h->sh);
		return 0;
	case CSR_INSTRET:
		if (!counter_ok(h, 2))
			return -1;
		*val = h->instret;
		return 0;
	case CSR_SSTATUS:
		*val = status_sd(h->mstatus) & SSTATUS_RMASK;
		return 0;
	case CSR_SIE:
		*val = h->mie & h->mideleg;
		return 0;
	case CSR_STVEC:
		*val = h->stvec;
		return 0;
	case CSR_SCOUNTEREN:
		*val = h->scounteren;
		return 0;
	case CSR_SENVCFG:
		*val = h->senvcfg;
		return 0;
	case CSR_SSCRATCH:
		*val = h->sscratch;
		return 0;
	case CSR_SEPC:
		*val = h->sepc;
		return 0;
	case CSR_SCAUSE:
		*val = h->scause;
		return 0;
	case CSR_STVAL:
		*val = h->stval;
		return 0;
	case CSR_SIP:
		*val = atomic_load(&h->mip) & h->mideleg;
		return 0;
	case CSR_STIMECMP:
		if (h->priv < PRIV_M && (!(h->menvcfg & MENVCFG_STCE) || !((h->mcounteren >> 1) & 1)))
			return -1;
		*val = h->stimecmp;
		return 0;
	case CSR_SATP:
		if (h->priv == PRIV_S && (h->mstatus & MSTATUS_TVM))
			return -1;
		*val = h->satp;
		return 0;
	case CSR_MVENDORID:
	case CSR_MARCHID:
	case CSR_MIMPID:
	case CSR_MCONFIGPTR:
		*val = 0;
		return 0;
	case CSR_MHARTID:
		*val = h->hartid;
		return 0;
	case CSR_MSTATUS:
		*val = status_sd(h->mstatus);
		return 0;
	case CSR_MISA:
		*val = MISA_VALUE;
		return 0;
	case CSR_MEDELEG:
		*val = h->medeleg;
		return 0;
	case CSR_MIDELEG:
		*val = h->mideleg;
		return 0;
	case CSR_MIE:
		*val = h->mie;
		return 0;
	case CSR_MTVEC:
		*val = h->mtvec;
		return 0;
	case CSR_MCOUNTEREN:
		*val = h->mcounteren;
		return 0;
	case CSR_MENVCFG:
		*val = h->menvcfg;
		return 0;
	case CSR_MCOUNTINHIBIT:
		*val = h->mcountinhibit;
		return 0;
	case CSR_MSCRATCH:
		*val = h->mscratch;
		return 0;
	case CSR_MEPC:
		*val = h->mepc;
		return 0;
	case CSR_MCAUSE:
		*val = h->mcause;
		return 0;
	case CSR_MTVAL:
		*val = h->mtval;
		return 0;
	case CSR_MIP:
		*val = atomic_load(&h->mip);
		return 0;
	case CSR_MCYCLE:
		*val = h->instret + h->cycle_offset;
		return 0;
	case CSR_MINSTRET:
		*val = h->instret;
		return 0;
	default:
		break;
	}
	if (csr >= CSR_PMPCFG0 && csr < CSR_PMPCFG0 + 16) {
		if (csr & 1) /* odd pmpcfg registers do not exist on RV64 */
			return -1;
		unsigned base = (csr - CSR_PMPCFG0) * 4;
		uint64_t v = 0;
		for (unsigned i = 0; i < 8; i++)
			v |= (uint64_t)h->pmpcfg[base + i] << (8 * i);
		*val = v;
		return 0;
	}
	if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + 64) {
		*val = h->pmpaddr[csr - CSR_PMPADDR0];
		return 0;
	}
	/* hpmcounter3..31 (gated by counteren), mhpmcounter3..31, mhpmevent3..31 */
	if (csr >= 0xc03 && csr <= 0xc1f) {
		if (!counter_ok(h, csr - 0xc00))
			return -1;
		*val = 0;
		return 0;
	}
	if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) {
		*val = 0;
		return 0;
	}
	return -1;
}

static void write_mstatus(struct hart *h, uint64_t v)
{
	uint64_t old = h->mstatus;
	uint64_t mask = MSTATUS_WMASK;
	if (((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2) /* reserved: keep old MPP */
		mask &= ~MSTATUS_MPP;
	uint64_t nv = (old & ~mask) | (v & mask);
	nv = status_sd(nv);
	h->mstatus = nv;
	if ((old ^ nv) & (MSTATUS_SUM | MSTATUS_MXR))
		mmu_flush_paged(h);
	hart_update_dpriv(h);
	h->brk = true; /* interrupt enables may have changed */
}

int csr_write(struct hart *h, unsigned csr, uint64_t v)
{
	if (((csr >> 8) & 3) > h->priv || ((csr >> 10) & 3) == 3)
		return -1;
	switch (csr) {
	case CSR_FFLAGS:
		if (!fs_on(h))
			return -1;
		h->fp.fflags = v & 0x1f;
		hart_fs_dirty(h);
		return 0;
	case CSR_FRM:
		if (!fs_on(h))
			return -1;
		h->fp.frm = v & 7;
		hart_fs_dirty(h);
		return 0;
	case CSR_FCSR:
		if (!fs_on(h))
			return -1;
		h->fp.fflags = v & 0x1f;
		h->fp.frm = (v >> 5) & 7;
		hart_fs_dirty(h);
		return 0;
	case CSR_SSTATUS:
		write_mstatus(h, (h->mstatus & ~SSTATUS_WMASK) | (v & SSTATUS_WMASK));
		return 0;
	case CSR_SIE:
		h->mie = (h->mie & ~h->mideleg) | (v & h->mideleg);
		h->brk = true;
		return 0;
	case CSR_STVEC:
		h->stvec = (v & 3) >= 2 ? (v & ~3ull) : v;
		return 0;
	case CSR_SCOUNTEREN:
		h->scounteren = v & 0xffffffff;
		return 0;
	case CSR_SENVCFG:
		h->senvcfg = v & 1; /* FIOM */
		return 0;
	case CSR_SSCRATCH:
		h->sscratch = v;
		return 0;
	case CSR_SEPC:
		h->sepc = v & ~1ull;
		return 0;
	case CSR_SCAUSE:
		h->scause = v;
		return 0;
	case CSR_STVAL:
		h->stval = v;
		return 0;
	case CSR_SIP:
		/* only SSIP is writable from S, and only if delegated */
		if (h->mideleg & MIP_SSIP) {
			if (v & MIP_SSIP)
				atomic_fetch_or(&h->mip, MIP_SSIP);
			else
				atomic_fetch_and(&h->mip, ~MIP_SSIP);
		}
		h->brk = true;
		return 0;
	case CSR_STIMECMP:
		if (h->priv < PRIV_M && (!(h->menvcfg & MENVCFG_STCE) || !((h->mcounteren >> 1) & 1)))
			return -1;
		h->stimecmp = v;
		hart_update_timers(h, cpu_mtime(h->sh));
		h->brk = true;
		return 0;
	case CSR_SATP: {
		if (h->priv == PRIV_S && (h->mstatus & MSTATUS_TVM))
			return -1;
		unsigned mode = v >> 60;
		if (mode != 0 && mode != 8 && mode != 9)
			return 0; /* unsupported mode (Sv57...): the write is ignored */
		if (mode == 0)
			v = 0;
		h->satp = v & ((0xfull << 60) | (0xffffull << 44) | ((1ull << 44) - 1));
		mmu_flush_paged(h);
		return 0;
	}
	case CSR_MSTATUS:
		write_mstatus(h, v);
		return 0;
	case CSR_MISA:
		return 0; /* WARL, nothing can be turned off */
	case CSR_MEDELEG:
		h->medeleg = v & MEDELEG_MASK;
		return 0;
	case CSR_MIDELEG:
		h->mideleg = v & S_INTS;
		h->brk = true;
		return 0;
	case CSR_MIE:
		h->mie = v & (S_INTS | M_INTS);
		h->brk = true;
		return 0;
	case CSR_MTVEC:
		h->mtvec = (v & 3) >= 2 ? (v & ~3ull) : v;
		return 0;
	case CSR_MCOUNTEREN:
		h->mcounteren = v & 0xffffffff;
		return 0;
	case CSR_MENVCFG:
		h->menvcfg = v & (MENVCFG_STCE | 1);
		hart_update_timers(h, cpu_mtime(h->sh));
		h->brk = true;
		return 0;
	case CSR_MCOUNTINHIBIT:
		h->mcountinhibit = v & 0xfffffffd;
		return 0;
	case CSR_MSCRATCH:
		h->mscratch = v;
		return 0;
	case CSR_MEPC:
		h->mepc = v & ~1ull;
		return 0;
	case CSR_MCAUSE:
		h->mcause = v;
		return 0;
	case CSR_MTVAL:
		h->mtval = v;
		return 0;
	case CSR_MIP: {
		/* M writes SSIP, STIP (unless Sstc drives it) and SEIP */
		uint64_t mask = MIP_SSIP | MIP_SEIP;
		if (!(h->menvcfg & MENVCFG_STCE) && !h->sh->sbi_builtin)
			mask |= MIP_STIP;
		uint64_t old = atomic_load(&h->mip);
		while (!atomic_compare_exchange_weak(&h->mip, &old, (old & ~mask) | (v & mask)))
			;
		h->brk = true;
		return 0;
	}
	case CSR_MCYCLE:
		h->cycle_offset = v - h->instret - 1;
		return 0;
	case CSR_MINSTRET:
		/* the instruction that writes minstret does not count itself */
		h->cycle_offset += h->instret - (v - 1);
		h->instret = v - 1;
		return 0;
	default:
		break;
	}
	if (csr >= CSR_PMPCFG0 && csr < CSR_PMPCFG0 + 16) {
		if (csr & 1)
			return -1;
		unsigned base = (csr - CSR_PMPCFG0) * 4;
		for (unsigned i = 0; i < 8; i++) {
			if (h->pmpcfg[base + i] & 0x80) /* locked entry */
				continue;
			/* R=0,W=1 is reserved: keep such fields as written minus W */
			uint8_t c = (v >> (8 * i)) & 0x9f;
			if ((c & 3) == 2)
				c &= ~2;
			h->pmpcfg[base + i] = c;
		}
		return 0;
	}
	if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + 64) {
		unsigned i = csr - CSR_PMPADDR0;
		if (!(h->pmpcfg[i] & 0x80))
			h->pmpaddr[i] = v & ((1ull << 54) - 1);
		return 0;
	}
	if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f))
		return 0; /* hardwired zero counters/events */
	return -1;
}
