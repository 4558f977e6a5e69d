#!/bin/sh
# Snapshot benchmark: `vessel vm` against qemu-system-riscv64 -M virt (TCG)
# on the same idle guest: Debian's riscv64 kernel + the project's initramfs,
# OpenSBI fw_dynamic.bin for both, 1 hart, 256 MiB; the guest prints
# "tick N" every second from a `sleep 1` loop (timer driven, idle between).
#   1. save:    vessel: POST /vm/snapshot (the VM is paused for all of it:
#               "ms" of the answer), wall time of `vessel vm snapshot`;
#               qemu: QMP `migrate` to "exec:cat > FILE" (live: the VM runs
#               meanwhile, then stays paused), wall time to "completed"
#               and its downtime;
#   2. restore: from process start to the guest running: vessel prints it
#               (-v: "guest running X ms after the restore started (Y ms
#               after process start)"); qemu: `-incoming "exec:cat FILE"`,
#               QMP query-status polled every 1 ms until "running";
#               then whether the restored idle guest keeps ticking (its
#               timers were re-armed) over 3 s;
#   3. clones:  10 `vessel vm clone` of the snapshot running at once: RSS
#               and PSS of each (/proc/PID/smaps_rollup), and the total;
#   4. the VMM's own RSS with and without --api-socket (in-tree HTTP server),
#               with a guest that is only a WFI loop.
#
#   bench/snapshot.sh [N]          N runs of save/restore (default 3)
set -eu
N=${1:-${N:-3}}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${VESSEL:=$top/build/vessel}"
: "${QEMU:=$(command -v qemu-system-riscv64 || true)}"
OPENSBI=${OPENSBI:-/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin}
die() {
	echo "snapshot.sh: $*" >&2
	exit 1
}
[ -x "$VESSEL" ] || die "no $VESSEL (build first: make)"
[ -n "$QEMU" ] && [ -x "$QEMU" ] || die "qemu-system-riscv64 not found (package qemu-system-misc)"
[ -r "$OPENSBI" ] || die "$OPENSBI missing (package opensbi)"
eval "$("$top/scripts/fetch-guest.sh" --quiet)"
work=$(mktemp -d "${TMPDIR:-/tmp}/vessel-snapbench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
initrd=$("$top/scripts/mkinitramfs.sh" -o "$work/initramfs.cpio.gz")
hook=$(printf 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done\n' | base64 -w0)
echo "snapshot: $N runs each; kernel $VESSEL_GUEST_KVER; $(nproc) host CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
exec python3 - "$N" "$VESSEL" "$QEMU" "$OPENSBI" "$VESSEL_GUEST_KERNEL" "$initrd" "$hook" "$work" <<'PY'
import json, os, re, signal, socket, statistics, subprocess, sys, time

N, VESSEL, QEMU, OPENSBI, KERNEL, INITRD, HOOK, WORK = sys.argv[1:9]
N = int(N)
APPEND = f"console=ttyS0 quiet vessel.cmd={HOOK}"
procs = []

def die(msg):
    for p in procs:
        if p.poll() is None:
            p.kill()
    sys.exit(f"snapshot.sh: {msg}")

def wait_file(path, pattern, timeout, start=0):
    end = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < end:
        try:
            with open(path, "rb") as f:
                data = f.read().decode(errors="replace")[start:]
            m = rx.search(data)
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return None

def ticks(path):
    try:
        data = open(path, "rb").read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return [int(x) for x in re.findall(r"tick (\d+)", data)]

def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

class QMP:
    def __init__(self, path, timeout=30):
        end = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.time() > end:
                    raise
                time.sleep(0.01)
        self.f = self.s.makefile("rwb")
        self.f.readline()  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r or "error" in r:
                if "error" in r:
                    raise RuntimeError(f"{name}: {r['error']}")
                return r["return"]

def vm_boot_vessel(out, sock):
    p = subprocess.Popen([VESSEL, "vm", "run", "--bios", OPENSBI, "--kernel", KERNEL, "--initrd", INITRD,
                          "--memory", "256M", "--append", APPEND, "--api-socket", sock, "--no-rng"],
                         stdin=subprocess.DEVNULL, stdout=open(out, "wb"), stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait_file(out, r"tick 3\b", 900):
        die(f"vessel guest did not boot: {open(out, 'rb').read()[-300:]!r}")
    return p

def vm_boot_qemu(out, qmp):
    p = subprocess.Popen([QEMU, "-M", "virt", "-m", "256M", "-smp", "1", "-display", "none", "-serial",
                          f"file:{out}", "-monitor", "none", "-qmp", f"unix:{qmp},server=on,wait=off",
                          "-bios", OPENSBI, "-kernel", KERNEL, "-initrd", INITRD, "-append", APPEND],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    if not wait_file(out, r"tick 3\b", 900):
        die("qemu guest did not boot")
    return p

res = {k: [] for k in ("vsave", "vpause", "vbytes", "qsave", "qdown", "qbytes", "vrest", "vrest0", "vcpu", "qrest")}
vticks, qticks = [], []
snap = os.path.join(WORK, "vm.snap")
qfile = os.path.join(WORK, "qemu.mig")

# ---- save ----
vout, vsock = os.path.join(WORK, "v.out"), os.path.join(WORK, "v.sock")
v = vm_boot_vessel(vout, vsock)
for i in range(N):
    time.sleep(1.5)
    t0 = time.perf_counter()
    r = subprocess.run([VESSEL, "vm", "snapshot", "--json", "--api-socket", vsock, snap], capture_output=True, text=True)
    t1 = time.perf_counter()
    if r.returncode:
        die(f"vessel snapshot: {r.stderr}")
    a = json.loads(r.stdout)
    res["vsave"].append((t1 - t0) * 1000)
    res["vpause"].append(a["ms"])
    res["vbytes"].append(a["bytes"])
stop(v)

qout, qsock = os.path.join(WORK, "q.out"), os.path.join(WORK, "q.qmp")
for i in range(N):
    if os.path.exists(qsock):
        os.unlink(qsock)
    q = vm_boot_qemu(qout, qsock)
    m = QMP(qsock)
    m.cmd("migrate-set-capabilities", capabilities=[])
    t0 = time.perf_counter()
    m.cmd("migrate", uri=f"exec:cat > {qfile}")
    while True:
        st = m.cmd("query-migrate")
        if st.get("status") in ("completed", "failed"):
            break
        time.sleep(0.001)
    t1 = time.perf_counter()
    if st["status"] != "completed":
        die(f"qemu migrate: {st}")
    res["qsave"].append((t1 - t0) * 1000)
    res["qdown"].append(st.get("downtime", 0))
    res["qbytes"].append(os.path.getsize(qfile))
    stop(q)

# ---- restore (alternating), then: does the idle guest keep ticking? ----
# (vessel's restore takes milliseconds: 5 more runs of it alone steady the
# median on a loaded machine)
for i in range(5):
    rerr = os.path.join(WORK, "vr.err")
    p = subprocess.Popen([VESSEL, "vm", "run", "-v", "--restore", snap], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=open(rerr, "wb"))
    procs.append(p)
    mm = wait_file(rerr, r"guest running ([0-9.]+) ms after the restore started \(([0-9.]+) ms after process start; ([0-9.]+) ms of CPU\)", 30)
    if not mm:
        die(f"vessel restore: {open(rerr, 'rb').read()[-300:]!r}")
    res["vrest0"].append(float(mm.group(1)))
    res["vrest"].append(float(mm.group(2)))
    res["vcpu"].append(float(mm.group(3)))
    stop(p)
for i in range(N):
    rout = os.path.join(WORK, "vr.out")
    rerr = os.path.join(WORK, "vr.err")
    p = subprocess.Popen([VESSEL, "vm", "run", "-v", "--restore", snap], stdin=subprocess.DEVNULL,
                         stdout=open(rout, "wb"), stderr=open(rerr, "wb"))
    procs.append(p)
    mm = wait_file(rerr, r"guest running ([0-9.]+) ms after the restore started \(([0-9.]+) ms after process start; ([0-9.]+) ms of CPU\)", 30)
    if not mm:
        die(f"vessel restore: {open(rerr, 'rb').read()[-300:]!r}")
    res["vrest0"].append(float(mm.group(1)))
    res["vrest"].append(float(mm.group(2)))
    res["vcpu"].append(float(mm.group(3)))
    time.sleep(3)
    vticks.append(len(ticks(rout)))
    stop(p)

    if os.path.exists(qsock):
        os.unlink(qsock)
    qout2 = os.path.join(WORK, "qr.out")
    if os.path.exists(qout2):
        os.unlink(qout2)
    t0 = time.perf_counter()
    p = subprocess.Popen([QEMU, "-M", "virt", "-m", "256M", "-smp", "1", "-display", "none", "-serial",
                          f"file:{qout2}", "-monitor", "none", "-qmp", f"unix:{qsock},server=on,wait=off",
                          "-bios", OPENSBI, "-kernel", KERNEL, "-initrd", INITRD, "-append", APPEND,
                          "-incoming", f"exec:cat {qfile}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    m = QMP(qsock)
    while True:
        st = m.cmd("query-status")
        if st.get("status") == "running":
            break
        if time.perf_counter() - t0 > 60:
            die(f"qemu restore: still {st}")
        time.sleep(0.001)
    res["qrest"].append((time.perf_counter() - t0) * 1000)
    time.sleep(3)
    qticks.append(len(ticks(qout2)))
    stop(p)

med = lambda k: statistics.median(res[k])
ratio = lambda a, b: f"{a / b:.2f}" if b else "-"
print(f"{'':34s} {'vessel':>12s} {'qemu':>12s} {'vessel/qemu':>12s}")
print(f"{'save, wall (ms)':34s} {med('vsave'):12.0f} {med('qsave'):12.0f} {ratio(med('vsave'), med('qsave')):>12s}")
print(f"{'  guest paused during save (ms)':34s} {med('vpause'):12.0f} {med('qdown'):12.0f}")
print(f"{'  file size (MiB)':34s} {med('vbytes') / 2**20:12.1f} {med('qbytes') / 2**20:12.1f}")
print(f"{'restore to running (ms)':34s} {med('vrest'):12.1f} {med('qrest'):12.1f} {ratio(med('vrest'), med('qrest')):>12s}")
print(f"{'  from the restore start (ms)':34s} {med('vrest0'):12.2f} {'-':>12s}")
print(f"{'  CPU time of the restore (ms)':34s} {med('vcpu'):12.2f} {'-':>12s}")
print(f"{'  idle guest ticks in 3 s after':34s} {statistics.median(vticks):12.0f} {statistics.median(qticks):12.0f}")
print(f"  (restore to running: process start to the first guest instruction; qemu: to query-status 'running';")
print(f"   vessel over {len(res['vrest'])} runs: min {min(res['vrest']):.1f}, max {max(res['vrest']):.1f} ms)")

# ---- 10 clones ----
clones = []
for i in range(10):
    d = os.path.join(WORK, f"clone{i}")
    os.mkdir(d)
    out = os.path.join(d, "out")
    p = subprocess.Popen([VESSEL, "vm", "clone", snap, f"c{i}", "--dir", d], stdin=subprocess.DEVNULL,
                         stdout=open(out, "wb"), stderr=subprocess.STDOUT)
    procs.append(p)
    clones.append((p, out))
for p, out in clones:
    if not wait_file(out, r"tick \d+", 60):
        die(f"clone did not run: {open(out, 'rb').read()[-200:]!r}")
time.sleep(5)
def rollup(pid):
    r = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            r[parts[0][:-1]] = int(parts[1])
    return r
rs = [rollup(p.pid) for p, _ in clones]
alive = sum(1 for p, out in clones if len(ticks(out)) >= 3)
for p, _ in clones:
    stop(p)
rss = [x["Rss"] / 1024 for x in rs]
pss = [x["Pss"] / 1024 for x in rs]
print(f"\n10 clones of the snapshot running at once ({alive} still ticking after 5 s):")
print(f"  RSS per clone (MiB): median {statistics.median(rss):.1f}, min {min(rss):.1f}, max {max(rss):.1f}; sum {sum(rss):.1f}")
print(f"  PSS per clone (MiB): median {statistics.median(pss):.1f}; total {sum(pss):.1f} (what the 10 really cost)")
print(f"  snapshot RAM {med('vbytes') / 2**20:.1f} MiB; private (dirtied) per clone: "
      f"{statistics.median([(x.get('Private_Dirty', 0) + x.get('Private_Clean', 0)) / 1024 for x in rs]):.1f} MiB")

# ---- VMM overhead with and without the API ----
fw = os.path.join(WORK, "wfi.bin")
open(fw, "wb").write(bytes.fromhex("73005010" "6ff0dfff"))
def vmm_rss(extra):
    p = subprocess.Popen([VESSEL, "vm", "run", "--bios", fw, "--memory", "256M"] + extra,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    time.sleep(1.5)
    r = rollup(p.pid)
    stop(p)
    return r["Rss"] / 1024
a = statistics.median([vmm_rss([]) for _ in range(3)])
b = statistics.median([vmm_rss(["--api-socket", os.path.join(WORK, "o.sock")]) for _ in range(3)])
print(f"\nVMM RSS, WFI-loop guest (MiB): {a:.1f} without --api-socket, {b:.1f} with (+{b - a:.1f})")
PY
