"""DNS trouble: a resolver that never answers makes the DNS checks
temperror (never a refusal), never blocks other sessions (the waits are
on the event loop), and a session that times out while waiting ends
cleanly."""

import os
import socket

import pytest

import mwsys
from scan_env import write

WAITING = "127.50.3.1"
ALLOWED = "127.50.3.2"


@pytest.fixture(scope="module")
def silent_dns(ports):
    """A UDP port where nobody answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", ports.get()))
    yield f"127.0.0.1:{s.getsockname()[1]}"
    s.close()


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


def scan(silent_dns, allow, timeout_ms):
    return {"dns_servers": silent_dns, "dns_timeout_ms": timeout_ms, "ip_allow": allow,
            "dnsbl": [{"zone": "bl.test"}],
            "inbound": {"checks": {"iplist": "refuse", "dnsbl": "refuse", "rdns": "refuse",
                                   "fcrdns": "refuse"}}}


@pytest.fixture(scope="module")
def allow(workdir):
    path = os.path.join(workdir, "allow.txt")
    write(path, f"{ALLOWED}\n")
    return path


@pytest.fixture(scope="module")
def gw(make_gateway, sink, silent_dns, allow):
    return make_gateway(sink=sink, scan=scan(silent_dns, allow, 400))


def test_dns_timeout_is_temperror_not_a_refusal(gw, sink):
    with mwsys.SmtpClient(gw.port, source=WAITING) as c:
        assert c.greeting().code == 220
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@good.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        assert c.data(b"Subject: dns-trouble\r\n\r\nx\r\n").code == 250
    msg = sink.wait_token("dns-trouble")
    assert f"iprev=temperror policy.iprev={WAITING}".encode() in msg.data


def test_a_session_waiting_on_dns_does_not_block_others(gw):
    waiting = mwsys.SmtpClient(gw.port, source=WAITING)
    try:
        gw.wait_event(event="wait", kind="scan", start=gw.mark() - 4096 if gw.mark() > 4096 else 0)
        with mwsys.SmtpClient(gw.port, source=ALLOWED) as other:
            assert other.greeting().code == 220
            # the first one is still waiting for its DNS answers
            waiting.sock.setblocking(False)
            try:
                assert waiting.sock.recv(100) == b"", "greeting before the DNS timeout"
            except BlockingIOError:
                pass
            waiting.sock.setblocking(True)
        assert waiting.greeting().code == 220
    finally:
        waiting.close()


def test_session_timing_out_while_waiting_on_dns_ends_cleanly(make_gateway, sink, silent_dns, allow):
    slow = make_gateway(sink=sink, scan=scan(silent_dns, allow, 1500),
                        limits={"command_timeout": "1s"})
    start = slow.mark()
    with mwsys.SmtpClient(slow.port, source=WAITING) as c:
        r = c.greeting()
        assert r.code == 421 and "timeout" in r.text
        assert c.at_eof()
    slow.wait_event(start=start, event="timeout", state="wait", wait="scan")
    # The DNS answers time out later, into a session that is gone.
    slow.wait_event(start=start, event="disconnect")
    with mwsys.SmtpClient(slow.port, source=ALLOWED) as c:
        assert c.greeting().code == 220
