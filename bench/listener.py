#!/usr/bin/python3
"""Whether the benches' own processes are the only ones listening on a
loopback TCP port, read from /proc: the LISTEN sockets of /proc/net/tcp
against the socket inodes of the processes (/proc/PID/fd).

smtp-sink and Postfix's master bind with SO_REUSEPORT, so a second bench
on the same ports starts without an error and the kernel shares the
connections out between the two: each sink counts part of the other's
messages, and a client's message may land in the other bench's Postfix
(the malware bench's run on a busy machine saw both). A bench must make
sure the ports it measures on are its alone."""

import os
import time

LISTEN = "0A"


def listen_inodes(port):
    """The inodes of the IPv4 sockets listening on port."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == LISTEN and int(local.split(":")[1], 16) == port:
                inodes.add(inode)
    return inodes


def socket_inodes(pids):
    """The socket inodes the processes hold open."""
    out = set()
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in names:
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                out.add(link[8:-1])
    return out


def listeners(port, pids):
    """(listening sockets of ours, of others) on port."""
    inodes = listen_inodes(port)
    ours = inodes & socket_inodes(pids)
    return len(ours), len(inodes - ours)


def check_sole_listener(port, pids, what):
    """RuntimeError unless the processes pids listen on port and nothing
    else does."""
    ours, others = listeners(port, pids)
    if others:
        raise RuntimeError(f"{what}: {others} other listener(s) on port {port} besides ours (SO_REUSEPORT): "
                           "another bench on these ports? Set BENCH_PORT_BASE to another value")
    if not ours:
        raise RuntimeError(f"{what} does not listen on port {port}")


def wait_sole_listener(proc, port, timeout=10.0):
    """Until proc (a Popen) listens on port, then check_sole_listener;
    RuntimeError when it exits first or does not listen within timeout
    (a busy machine starts slowly)."""
    deadline = time.monotonic() + timeout
    while listeners(port, [proc.pid])[0] == 0:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}): port {port} taken?")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args[0]} does not listen on port {port} after {timeout:.0f} s")
        time.sleep(0.05)
    check_sole_listener(port, [proc.pid], proc.args[0])
