"""smtpd out of file descriptors (issue 14, catalogue case 156, SEC-4).

The gateway runs with RLIMIT_NOFILE 512 (soft and hard) and limits.connections
well above it, and 600 clients connect: smtpd's accept() fails with
EMFILE once ~500 sessions are open. libevent would call accept() again at
once, forever, logging each failure (measured before the fix: a busy
smtpd writing 12 MB of log in two seconds); smtpd instead pauses its
listeners for a second at a time (src/smtp/smtpd.c, on_accept_error):

- one event=accept_error line for the spell, smtpd nearly idle while it
  lasts, the log quiet;
- the connections beyond wait in the backlog (back-pressure), and are
  served once sessions end; the master and smtpd survive (same pids).
"""

import socket
import time

import pytest

import mwsys
from procs import cpu_seconds, open_fds, start_with_nofile

NOFILE = 512
CLIENTS = 600
PER_IP = 10


@pytest.fixture
def gw(make_gateway_fn):
    gw = make_gateway_fn(log={"target": "stderr", "format": "kv", "level": "info"},
                         limits={"connections": 2000, "connections_per_ip": PER_IP}, start=False)
    return start_with_nofile(gw, NOFILE)


def test_accept_out_of_descriptors_pauses_instead_of_spinning(gw):
    """SEC-4, case 156."""
    smtpd = gw.pid("smtpd")
    mark = gw.mark()
    socks = []
    try:
        for i in range(CLIENTS):
            s = socket.socket()
            s.bind((f"127.64.{i // PER_IP // 250}.{i // PER_IP % 250 + 1}", 0))
            s.connect(("127.0.0.1", gw.port))   # the backlog takes it even when smtpd cannot
            socks.append(s)
        gw.wait_event(proc="smtpd", event="accept_error", start=mark, timeout=15)
        assert open_fds(smtpd) >= NOFILE - 2, "smtpd did not run out of descriptors: the test proves nothing"

        quiet = gw.mark()
        cpu0 = cpu_seconds(smtpd)
        time.sleep(2)
        busy = (cpu_seconds(smtpd) - cpu0) / 2
        logged = gw.mark() - quiet
        print(f"\nout of descriptors: smtpd at {100 * busy:.0f} % CPU, {logged} bytes of log in 2 s")
        assert busy < 0.2, f"smtpd busy at {100 * busy:.0f} % while out of descriptors"
        assert logged < 16 * 1024, f"{logged} bytes of log in 2 s while out of descriptors"
        assert len(gw.events(start=mark, proc="smtpd", event="accept_error")) == 1

        # Sessions end: the connections held in the backlog are served.
        for s in socks[:200]:
            s.close()
        late = socks[-1]
        late.settimeout(10)
        assert late.recv(512).startswith(b"220"), "a connection held back was never served"
    finally:
        for s in socks:
            s.close()
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
    assert gw.pid("smtpd") == smtpd and mwsys.pid_alive(smtpd) and gw.running()
