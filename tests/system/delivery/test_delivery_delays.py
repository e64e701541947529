"""Every delivery attempt's log line carries its delay figures (issue 15,
in the spirit of Postfix's delays=a/b/c/d; docs/logging.md): delay_queue
(arrival to the attempt), delay_conn (to a session ready for MAIL),
delay_xmit (MAIL to the last reply) and delay, their sum, in seconds with
millisecond precision."""

import re
import threading

import pytest

import mwsys
from peers import PeerSink, send

FIELDS = ("delay", "delay_queue", "delay_conn", "delay_xmit")


@pytest.fixture
def peer(ports):
    s = PeerSink(ports.get()).start()
    yield s
    s.stop()


def _figures(event):
    """The four figures of a delivery event, checked for form, as floats."""
    for key in FIELDS:
        assert re.fullmatch(r"\d+\.\d{3}", event.get(key, "")), (key, event["_line"])
    d = {key: float(event[key]) for key in FIELDS}
    parts = d["delay_queue"] + d["delay_conn"] + d["delay_xmit"]
    assert abs(parts - d["delay"]) < 0.0015, event["_line"]  # the sum, up to rounding
    return d


def test_a_delivery_logs_plausible_delay_figures(make_gateway_fn, peer):
    gw = make_gateway_fn(sink=peer)
    token = mwsys.unique("delays")
    qid = send(gw, "a@other.test", ["user@example.test"], f"Subject: {token}\r\n\r\n{token}\r\n")
    peer.wait_token(token)
    d = _figures(gw.wait_delivered(qid))
    # a message delivered at once, on loopback, by a healthy peer
    assert d["delay"] < 10, d
    assert d["delay_conn"] < 5 and d["delay_xmit"] < 5, d


def test_a_stalled_peer_makes_the_transmission_longer(make_gateway_fn, peer):
    gw = make_gateway_fn(sink=peer)
    peer.stall = threading.Event()
    release = threading.Timer(2.0, peer.stall.set)
    try:
        token = mwsys.unique("stalled")
        qid = send(gw, "a@other.test", ["user@example.test"], f"Subject: {token}\r\n\r\n{token}\r\n")
        assert peer.stalled.wait(mwsys.TIMEOUT), "the peer never saw DATA"
        release.start()  # the peer answers the end of data 2 s after it got it
        d = _figures(gw.wait_delivered(qid))
    finally:
        peer.stall.set()
        release.cancel()
    assert d["delay_xmit"] >= 1.9, d   # the stall is in the transmission ...
    assert d["delay_conn"] < 1.5, d    # ... not in the connection setup
    assert d["delay"] >= d["delay_xmit"], d


def test_a_deferred_attempt_logs_its_figures_too(make_gateway_fn, peer):
    gw = make_gateway_fn(sink=peer)
    peer.refuse["later@example.test"] = "451 4.7.1 try again later"
    qid = send(gw, "a@other.test", ["later@example.test"], "Subject: deferred\r\n\r\nx\r\n")
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred")
    d = _figures(event)
    assert d["delay_xmit"] < 5, d
