"""Connections to a next hop are reused for the next message, and no more
than queue.per_destination of them are open at once."""

import threading

import pytest

import mwsys
from peers import PeerSink, send


@pytest.fixture
def peer(make_sink_fn, ports):
    s = PeerSink(ports.get()).start()
    yield s
    s.stop()


def _burst(gw, n, prefix):
    tokens = [mwsys.unique(prefix) for _ in range(n)]
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        for t in tokens:
            r = c.transaction("a@other.test", ["user@example.test"], f"Subject: {t}\r\n\r\n{t}\r\n".encode())
            assert r.code == 250, r
        c.cmd("QUIT")
    return tokens


def test_one_connection_carries_many_messages(make_gateway_fn, peer):
    gw = make_gateway_fn(sink=peer, queue={"per_destination": 1, "connection_reuse": True})
    tokens = _burst(gw, 8, "reuse")
    for t in tokens:
        peer.wait_token(t)
    assert peer.connections == 1, peer.connections
    assert gw.events(proc="queue", event="client_reuse")


def test_without_reuse_every_message_has_its_connection_and_waits_for_a_slot(make_gateway_fn, peer):
    gw = make_gateway_fn(sink=peer, queue={"per_destination": 1, "connection_reuse": False})
    # The peer holds the first delivery in DATA, so the others are queued
    # while its connection is the one per_destination allows.
    peer.stall = threading.Event()
    try:
        tokens = _burst(gw, 5, "noreuse")
        assert peer.stalled.wait(mwsys.TIMEOUT), "the peer never saw DATA"
        # per_destination held them back (issue 18 item 9: in the scheduler,
        # before a round takes a delivery slot)
        gw.wait_event(proc="queue", event="nexthop_busy")
    finally:
        peer.stall.set()
    for t in tokens:
        peer.wait_token(t)
    assert peer.connections == 5, peer.connections
    assert not gw.events(proc="queue", event="client_reuse")


def test_a_parked_connection_the_peer_closed_is_replaced(make_gateway_fn, peer):
    gw = make_gateway_fn(sink=peer, queue={"per_destination": 1, "connection_reuse": True})
    first = _burst(gw, 1, "first")[0]
    peer.wait_token(first)
    peer.stop()          # closes the parked connection
    peer.start()
    second = _burst(gw, 1, "second")[0]
    peer.wait_token(second)
