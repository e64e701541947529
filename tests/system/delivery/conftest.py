"""Next hops shared by the delivery tests, one of each per test module
(started on a free loopback port, stopped at the end of the module)."""

import pytest

from peers import PeerSink, RawPeer


@pytest.fixture(scope="module")
def peer(ports):
    """A plain SMTP next hop that accepts and keeps every message."""
    s = PeerSink(ports.get()).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def bounces(ports):
    """Where bounces arrive (the sender's domain routed here)."""
    s = PeerSink(ports.get()).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def raw(ports):
    """A next hop that answers what the test scripts, byte for byte."""
    s = RawPeer(ports.get()).start()
    yield s
    s.stop()
