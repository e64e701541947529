"""Faults of the next hop (issue 14 "Fault injection", catalogue case 152,
Q-2): a peer that flaps (every other connection dropped, after the
greeting, after MAIL or in the middle of DATA), one whose port is closed,
and one that stops reading in the middle of DATA past the gateway's reply
timeout. Each time the messages stay queued, are retried, and are
delivered exactly once when the peer heals; each failed try is logged as
event=delivery status=deferred with a reply that says what happened.

DNS down (MX-routed mail waits, static routes deliver) is
tests/system/delivery/test_mx_routing.py::test_dns_down_static_routes_deliver_and_mx_mail_waits_for_dns."""

import itertools

import pytest

import mwsys
from flaky_peer import FlakyPeer

REPLY_TIMEOUT = 2


@pytest.fixture
def peer(ports):
    p = FlakyPeer(ports.get())
    yield p
    p.stop()


@pytest.fixture
def gw(make_gateway_fn, peer):
    # No connection reuse: each connection carries one try of one message.
    return make_gateway_fn(
        routes={"example.test": peer.url},
        limits={"message_size": "4M"},
        queue={"retry_min": "1s", "retry_max": "1s", "reply_timeout": f"{REPLY_TIMEOUT}s",
               "connect_timeout": "2s", "connection_reuse": False},
        start=False)


def _send(gw, token, body_extra=b""):
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        r = c.transaction("a@b.test", ["user@example.test"],
                          f"Subject: {token}\r\n\r\n{token}\r\n".encode() + body_extra)
    assert r.code == 250, r
    return mwsys.queue_id(r)


def _send_several(gw, prefix, n):
    """n messages, each with a token of its own: [(token, queue id)]."""
    tokens = [mwsys.unique(f"{prefix}{i}") for i in range(n)]
    return [(token, _send(gw, token)) for token in tokens]


def _deferred(gw, qid, start):
    return gw.events(start=start, proc="queue", event="delivery", queue_id=qid, status="deferred")


def _assert_delivered_once(gw, peer, tokens_ids):
    for token, qid in tokens_ids:
        gw.wait_delivered(qid, timeout=30)
    for token, qid in tokens_ids:
        copies = peer.with_token(token)
        assert len(copies) == 1, f"{qid} ({token}) arrived {len(copies)} times"


def test_flapping_next_hop_every_message_arrives_once(gw, peer):
    """Case 152: connections alternate between dropped (at three stages)
    and healthy: all six messages arrive, none twice."""
    faults = itertools.cycle(["drop_after_greeting", "drop_after_mail", "drop_mid_data"])
    peer.plan = lambda n: "ok" if n % 2 else next(faults)
    peer.up()
    gw.start()
    mark = gw.mark()
    sent = _send_several(gw, "flap", 6)
    _assert_delivered_once(gw, peer, sent)
    deferred = gw.events(start=mark, proc="queue", event="delivery", status="deferred")
    replies = sorted({d["reply"] for d in deferred})
    print("\nflapping next hop, deferred replies:", replies)
    assert len(deferred) >= 3, f"three dropped connections, {len(deferred)} deferred tries logged"
    assert all(d["reply"].startswith("4") for d in deferred), replies
    assert {"drop_after_greeting", "drop_after_mail", "drop_mid_data"} <= set(peer.behaviours)


def test_refused_connections_keep_mail_queued_until_the_port_opens(gw, peer):
    """Case 152: the next hop's port is closed: each try is deferred
    (connection refused), nothing bounces; once it listens, each message
    arrives once."""
    gw.start()
    mark = gw.mark()
    sent = _send_several(gw, "refused", 3)
    for token, qid in sent:
        mwsys.wait_until(lambda: len(_deferred(gw, qid, mark)) >= 2, timeout=20,
                         what=f"two deferred tries of {qid}")
    reply = _deferred(gw, sent[0][1], mark)[0]["reply"]
    print("\nrefused next hop, deferred reply:", reply)
    assert reply.startswith("4") and "refused" in reply.lower(), reply
    assert not gw.events(start=mark, proc="queue", event="delivery", status="failed")
    peer.up()
    _assert_delivered_once(gw, peer, sent)


def test_next_hop_stalling_mid_data_is_timed_out_and_retried(gw, peer):
    """Case 152: the first connection stops reading in the middle of a
    1 MiB message; after the reply timeout the try is deferred, the retry
    delivers it, once."""
    peer.plan = lambda n: "stall_mid_data" if n == 0 else "ok"
    peer.up()
    gw.start()
    mark = gw.mark()
    token = mwsys.unique("stall")
    qid = _send(gw, token, body_extra=(b"y" * 1022 + b"\r\n") * 1024)
    first = gw.wait_event(start=mark, proc="queue", event="delivery", queue_id=qid, status="deferred",
                          timeout=REPLY_TIMEOUT + 10)
    print("\nstalling next hop, deferred reply:", first["reply"])
    assert first["reply"].startswith("4") and "timeout" in first["reply"], first
    _assert_delivered_once(gw, peer, [(token, qid)])
    assert peer.behaviours[0] == "stall_mid_data"
