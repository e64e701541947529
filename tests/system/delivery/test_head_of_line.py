"""A slow next hop keeps to its share of the delivery slots (issue 18
item 9, src/queue/readyq.h): messages waiting for a destination that stalls
never occupy more than queue.per_destination of the
queue.delivery_concurrency slots, so mail for a healthy destination is
delivered while a backlog waits for the slow one."""

import threading
import time

import pytest

import mwsys
from peers import PeerSink

SLOW_BACKLOG = 100
FAST_MESSAGES = 20


@pytest.fixture
def slow_peer(ports):
    s = PeerSink(ports.get()).start()
    yield s
    if s.stall is not None:
        s.stall.set()
    s.stop()


@pytest.fixture
def fast_sink(ports):
    s = mwsys.Sink(ports.get()).start()
    yield s
    s.stop()


def _send_all(gw, rcpt, tokens):
    """One session, one transaction per token (each answered 250)."""
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        assert c.greeting().code == 220
        c.ehlo()
        for t in tokens:
            reply = c.transaction("a@sender.test", [rcpt], f"Subject: {t}\r\n\r\n{t}\r\n".encode())
            assert reply.code == 250, reply
        c.cmd("QUIT")


def test_mail_for_a_healthy_domain_flows_while_a_stalled_one_holds_its_share(make_gateway_fn, slow_peer,
                                                                             fast_sink):
    gw = make_gateway_fn(local_domains=["example.test", "slow.test", "fast.test"],
                         routes={"slow.test": slow_peer.url, "fast.test": fast_sink.url},
                         # The stalled replies must not time out during the test.
                         queue={"delivery_concurrency": 10, "per_destination": 2, "reply_timeout": "60s"})
    slow_peer.stall = threading.Event()
    slow = [mwsys.unique(f"slow{i}") for i in range(SLOW_BACKLOG)]
    fast = [mwsys.unique(f"fast{i}") for i in range(FAST_MESSAGES)]
    mark = gw.mark()
    _send_all(gw, "user@slow.test", slow)
    assert slow_peer.stalled.wait(mwsys.TIMEOUT), "the slow peer never saw DATA"
    gw.wait_event(start=mark, proc="queue", event="nexthop_busy", nexthop=slow_peer.url)
    began = time.monotonic()
    _send_all(gw, "user@fast.test", fast)
    for t in fast:
        fast_sink.wait_token(t, timeout=mwsys.TIMEOUT)
    took = time.monotonic() - began
    print(f"{FAST_MESSAGES} messages for the healthy domain in {took:.2f}s behind {SLOW_BACKLOG} stalled")
    # Without the share every slot ends up waiting for a slow.test
    # connection, and fast.test mail waits until the stall ends.
    assert not slow_peer.with_token(slow[-1]), "the stall ended before the healthy mail was through"
    assert slow_peer.connections <= 2, slow_peer.connections
    assert not gw.events(start=mark, proc="queue", event="client_wait"), \
        "a round started for a next hop at its share and waited for a connection, holding a slot"
    slow_peer.stall.set()
    for t in slow:   # the backlog is delivered once the peer answers again
        slow_peer.wait_token(t, timeout=2 * mwsys.TIMEOUT)
