#!/usr/bin/env python3
"""Host-side helpers for tests/integration/vm/migrate.sh.

  server PORTFILE LOG     TCP server on 127.0.0.1 (port written to PORTFILE):
                          logs "conn N" per connection, every line received
                          and "closed N"; answers each "T: SEQ ..." line with
                          "E: SEQ" on the same connection (data to the guest)
  fake-dest PORTFILE N    accepts one connection, reads N bytes, then dies
                          (a destination killed in the middle of precopy)
  proxy PORTFILE DEST_PORT MODE N
                          forwards one migration connection to 127.0.0.1:DEST_PORT;
                          MODE truncate: drop both sides after N bytes;
                          MODE corrupt: flip one bit of byte N, forward the rest
  fwd-client PORT LOG STOPFILE
                          one connection to 127.0.0.1:PORT (migrate_hostfwd.sh):
                          sends "L SEQ" every 0.1 s, logs each answer "A L SEQ"
                          as "A SEQ"; exits 1 if the connection breaks or an
                          answer is missing, repeated or out of order, 0 (with
                          a summary) once STOPFILE exists and all are answered
  fwd-once PORT TAG       a new connection to 127.0.0.1:PORT: "L TAG" must be
                          answered "A L TAG" within 20 s (exit 0)
"""
import time
import os
import socket
import sys
import threading


def listen(portfile):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(tmp, portfile)
    return s


def server(portfile, log):
    s = listen(portfile)
    n = 0
    out = open(log, "a", buffering=1)

    def serve(c, k):
        buf = b""
        while True:
            d = c.recv(4096)
            if not d:
                out.write("closed %d\n" % k)
                return
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode(errors="replace").strip()
                out.write(line + "\n")
                f = line.split()
                if len(f) >= 2 and f[0] == "T:":
                    try:
                        c.sendall(("E: %s\n" % f[1]).encode())
                    except OSError:
                        pass

    while True:
        c, _ = s.accept()
        n += 1
        out.write("conn %d\n" % n)
        threading.Thread(target=serve, args=(c, n), daemon=True).start()


def fake_dest(portfile, nbytes):
    s = listen(portfile)
    c, _ = s.accept()
    got = 0
    while got < nbytes:
        d = c.recv(65536)
        if not d:
            break
        got += len(d)
    os._exit(9)


def proxy(portfile, dest_port, mode, n):
    s = listen(portfile)
    a, _ = s.accept()
    b = socket.create_connection(("127.0.0.1", dest_port))

    def back():  # destination -> source (return path)
        try:
            while True:
                d = b.recv(65536)
                if not d:
                    break
                a.sendall(d)
        except OSError:
            pass
        try:
            a.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    threading.Thread(target=back, daemon=True).start()
    sent = 0
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if mode == "truncate" and sent + len(d) >= n:
                b.sendall(d[: n - sent])
                break
            if mode == "corrupt" and sent <= n < sent + len(d):
                d = bytearray(d)
                d[n - sent] ^= 0x04
                d = bytes(d)
            b.sendall(d)
            sent += len(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    os._exit(0)


def fwd_client(port, log, stopfile):
    out = open(log, "a", buffering=1)
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.settimeout(0.1)
    sent, got, buf, last = 0, 0, b"", 0.0
    deadline = None
    while True:
        now = time.monotonic()
        if deadline is None and os.path.exists(stopfile):
            deadline = now + 20
        if deadline is not None and got == sent:
            out.write("done: one connection, %d lines answered in order\n" % got)
            os._exit(0)
        if deadline is not None and now > deadline:
            out.write("FAIL: %d lines sent, %d answered\n" % (sent, got))
            os._exit(1)
        if deadline is None and now - last >= 0.1:
            sent += 1
            c.sendall(b"L %d\n" % sent)
            last = now
        try:
            d = c.recv(4096)
        except socket.timeout:
            continue
        except OSError as e:
            out.write("FAIL: connection broken after %d answers: %s\n" % (got, e))
            os._exit(1)
        if not d:
            out.write("FAIL: connection closed after %d answers\n" % got)
            os._exit(1)
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            f = line.decode(errors="replace").split()
            if len(f) != 3 or f[:2] != ["A", "L"] or f[2] != str(got + 1):
                out.write("FAIL: after %d answers got %r\n" % (got, line))
                os._exit(1)
            got += 1
            out.write("A %d\n" % got)


def fwd_once(port, tag):
    c = socket.create_connection(("127.0.0.1", port), timeout=20)
    c.settimeout(20)
    c.sendall(("L %s\n" % tag).encode())
    buf = b""
    while b"\n" not in buf:
        d = c.recv(4096)
        if not d:
            sys.exit("closed before the answer")
        buf += d
    line = buf.split(b"\n")[0].decode(errors="replace")
    if line != "A L %s" % tag:
        sys.exit("answer %r" % line)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "server":
        server(sys.argv[2], sys.argv[3])
    elif cmd == "fake-dest":
        fake_dest(sys.argv[2], int(sys.argv[3]))
    elif cmd == "proxy":
        proxy(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    elif cmd == "fwd-client":
        fwd_client(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "fwd-once":
        fwd_once(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
