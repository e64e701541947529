"""Ready mail is served round-robin over destinations (Q-2,
src/queue/readyq.h): a backlog for one domain does not make mail for
another domain wait behind all of it; each destination with ready mail gets
the next free delivery slot in turn."""

import threading

import pytest

import mwsys
from peers import PeerSink, send


@pytest.fixture
def peer(ports):
    s = PeerSink(ports.get()).start()
    yield s
    s.stop()


def _send(gw, rcpt, token):
    send(gw, "a@sender.test", [rcpt], f"Subject: {token}\r\n\r\n{token}\r\n")


def _arrival_order(peer, tokens):
    order = []
    with peer.cond:
        for m in peer.messages:
            order += [t for t in tokens if t.encode() in m.data]
    return order


def test_a_backlog_for_one_domain_does_not_hold_up_another(make_gateway_fn, peer):
    # One delivery at a time, both domains to the same peer: the order in
    # which the peer sees the messages is the order the scheduler chose.
    gw = make_gateway_fn(local_domains=["example.test", "slow.test", "fast.test"],
                         routes={"slow.test": peer.url, "fast.test": peer.url},
                         queue={"delivery_concurrency": 1, "per_destination": 1})
    peer.stall = threading.Event()
    try:
        slow = [mwsys.unique(f"slow{i}") for i in range(6)]
        _send(gw, "user@slow.test", slow[0])
        assert peer.stalled.wait(mwsys.TIMEOUT), "the peer never saw DATA"
        for t in slow[1:]:
            _send(gw, "user@slow.test", t)
        fast = mwsys.unique("fast")
        _send(gw, "user@fast.test", fast)   # queued behind five slow.test messages
    finally:
        peer.stall.set()
    for t in slow + [fast]:
        peer.wait_token(t)
    order = _arrival_order(peer, slow + [fast])
    assert order[0] == slow[0], order
    # FIFO over all mail would deliver it last (index 6); round-robin gives
    # it the slot after at most one more slow.test message.
    assert order.index(fast) <= 2, f"fast.test waited behind the slow.test backlog: {order}"
    # Within one destination the order stays first come, first served.
    assert [t for t in order if t in slow] == slow, order
