#!/usr/bin/env python3
"""Console of `vessel vm run` on a terminal: raw mode while running, Ctrl-A h
prints help, Ctrl-A x quits with status 0, and the terminal mode is restored
on exit and when the VMM is killed by SIGTERM.
usage: vm_console.py VESSEL"""
import os, pty, select, sys, tempfile, termios, time

vessel = sys.argv[1]
fails = 0

def check(cond, what):
    global fails
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        fails += 1

def canonical(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ICANON)

def read_for(fd, secs):
    out, end = b"", time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out

def spawn(fw):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(vessel, ["vessel", "vm", "run", "--bios", fw])
    deadline = time.time() + 20
    while canonical(fd) and time.time() < deadline:
        time.sleep(0.05)
    return pid, fd

with tempfile.TemporaryDirectory() as d:
    fw = os.path.join(d, "wfi.bin")
    with open(fw, "wb") as f:
        f.write(bytes.fromhex("73005010" "6ff0dfff"))  # 1: wfi; j 1b
    pid, fd = spawn(fw)
    check(not canonical(fd), "terminal in raw mode while the VM runs")
    os.write(fd, b"\x01h")
    check(b"C-a x" in read_for(fd, 2.0), "Ctrl-A h prints help")
    # the guest never reads the UART: its FIFO fills, Ctrl-A x must still work
    os.write(fd, b"y" * 200)
    time.sleep(0.5)
    os.write(fd, b"\x01x")
    deadline = time.time() + 20
    st = None
    while time.time() < deadline:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        _, st = os.waitpid(pid, 0)
    check(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0,
          "Ctrl-A x quits with status 0 (after input the guest never read)")
    check(canonical(fd), "terminal restored after Ctrl-A x")
    os.close(fd)
    pid, fd = spawn(fw)
    os.kill(pid, 15)
    _, st = os.waitpid(pid, 0)
    check(os.WIFSIGNALED(st) and os.WTERMSIG(st) == 15, "SIGTERM ends the VMM")
    check(canonical(fd), "terminal restored after SIGTERM")
sys.exit(1 if fails else 0)
