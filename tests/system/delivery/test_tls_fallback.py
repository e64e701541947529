"""Outbound TLS level may (issue 16 item 7, TLS-5, TLS-7): a next hop that
offers STARTTLS but fails the handshake (here it says 220 and closes) gets
the message in clear at once, on a new connection to the same host, and
the fallback is logged with its reason. Under encrypt and verify the same
failure defers the message: nothing goes in clear."""

import pytest

import mwsys
from peers import RawPeer, send

SENDER = "sender@other.test"
EHLO_WITH_STARTTLS = b"250-raw.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n"


@pytest.fixture(scope="module")
def broken_tls(ports):
    """Offers STARTTLS, answers it with 220 and closes: no handshake."""
    peer = RawPeer(ports.get())
    peer.script = {"EHLO": EHLO_WITH_STARTTLS, "STAR": b"220 2.0.0 Ready to start TLS\r\n"}
    peer.close_after = {"STAR"}
    yield peer.start()
    peer.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, broken_tls):
    # No retry within a test: each message is tried once.
    return make_gateway(routes={level + ".test": broken_tls.url for level in ("may", "encrypt", "verify")},
                        local_domains=["may.test", "encrypt.test", "verify.test"],
                        outbound_tls={"level": "may"},
                        tls_policy={"encrypt.test": "encrypt", "verify.test": "verify"},
                        queue={"retry_min": "1h", "retry_max": "2h", "lifetime": "1d"})


def _first_try(gw, rcpt):
    token = mwsys.unique("fallback")
    start = gw.mark()
    qid = send(gw, SENDER, [rcpt], f"Subject: {token}\r\n\r\nbody\r\n")
    return token, start, gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)


def _received(peer, token):
    with peer.cond:
        return [m for m in peer.messages if token.encode() in m]


def test_may_retries_a_failed_handshake_in_clear_at_once(gw, broken_tls):
    token, start, delivery = _first_try(gw, "user@may.test")
    assert delivery["status"] == "sent", delivery
    assert delivery["tls"].startswith("none"), delivery
    fallback = gw.wait_event(proc="queue", event="client_tls_fallback", start=start)
    assert fallback["why"].startswith("TLS "), fallback
    assert _received(broken_tls, token), "the message did not reach the peer in clear"


@pytest.mark.parametrize("level", ["encrypt", "verify"])
def test_a_failed_handshake_is_deferred_under(gw, broken_tls, level):
    token, start, delivery = _first_try(gw, f"user@{level}.test")
    assert delivery["status"] == "deferred", delivery
    assert delivery["reply"].startswith("451 4.7.5") and "TLS" in delivery["reply"], delivery
    assert gw.events(start=start, event="client_tls_fallback") == []
    assert _received(broken_tls, token) == []
