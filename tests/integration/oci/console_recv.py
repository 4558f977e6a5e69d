#!/usr/bin/env python3
"""Console socket receiver for the OCI tests (runc's --console-socket protocol).

Usage: console_recv.py SOCKET OUTFILE [INPUT]

Listens on the Unix socket SOCKET, accepts one connection, receives the pty
master sent with SCM_RIGHTS, optionally writes INPUT to it, then copies what
the container writes on its terminal into OUTFILE until the terminal closes
(EIO) or 15 seconds pass. Exit status 0 when a descriptor was received and
it is a terminal, 2 otherwise.
"""
import os
import select
import socket
import sys
import time


def main() -> int:
    path, outfile = sys.argv[1], sys.argv[2]
    data_in = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(15)
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        print("console_recv: no connection", file=sys.stderr)
        return 2
    _, fds, _, _ = socket.recv_fds(conn, 4096, 4)
    conn.close()
    if len(fds) != 1:
        print(f"console_recv: expected 1 fd, got {len(fds)}", file=sys.stderr)
        return 2
    master = fds[0]
    if not os.isatty(master):
        print("console_recv: received fd is not a terminal", file=sys.stderr)
        return 2
    if data_in:
        os.write(master, data_in)
    out = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the slave side was closed
            break
        if not chunk:
            break
        out += chunk
    with open(outfile, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
