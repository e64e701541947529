"""The DMZ end to end (issue 15): mailwarden in a dmz namespace between an
internet namespace (a client, dnsmasq, an MX host) and two internal
namespaces, each with Debian's Postfix serving its own domains (dmz_picture.py
draws it). Every scenario goes over real veth links between real daemons.

TOP-1 inbound per-domain routing, TOP-2 outbound via MX, REL-1/REL-2 the
relay rule, TOP-4 internal mail without the internet link and outbound
mail waiting for it, TOP-6 no path from the internet to an internal host
but mailwarden."""

import smtplib
import subprocess

import pytest

import mwsys
from dmz_client import rcpt_reply, send
from dmz_internet import REMOTE_DOMAIN
from dmz_netns import DMZ_EXTERNAL, INTERNAL_A, INTERNAL_B, INTERNET_CLIENT, INTERNET_MX, ip

# Postfix hands mail on at once, mailwarden too; this bounds a hop chain.
DELIVERY_TIMEOUT = 20


def wait_delivered(server, token):
    try:
        return mwsys.wait_until(lambda: server.delivered(token), timeout=DELIVERY_TIMEOUT,
                                what=f"{token} in {server.role}'s maildir")
    except TimeoutError as e:
        raise AssertionError(f"{e}\n{server.role} maillog:\n{server.log_tail()}") from None


def wait_at_sink(dmz, token):
    return mwsys.wait_until(lambda: dmz.sink.received(token), timeout=DELIVERY_TIMEOUT,
                            what=f"{token} at the internet's MX host")


@pytest.mark.parametrize("rcpt", ["alice@a.example", "bob@sub.a.example", "carol@b.example"])
def test_internet_mail_reaches_the_server_of_its_domain(dmz, rcpt):
    """TOP-1, REL-1: from 198.51.100.1 to the dmz's public address; each
    domain lands on its own internal Postfix and on no other."""
    token = mwsys.unique("inbound")
    code, _ = send(dmz.net, "internet", DMZ_EXTERNAL, "someone@remote.test", rcpt, token)
    assert code == 250
    right = dmz.internal(rcpt.split("@")[1])
    other = dmz.internal_b if right is dmz.internal_a else dmz.internal_a
    [path] = wait_delivered(right, token)
    with open(path, "rb") as f:
        delivered = f.read()
    assert f"Delivered-To: {rcpt}".encode() in delivered
    assert INTERNET_CLIENT.encode() in delivered   # mailwarden's Received names the client
    assert other.delivered(token) == []


@pytest.mark.parametrize("role", ["internal-a", "internal-b"])
def test_internal_server_sends_out_through_mailwarden_to_the_mx(dmz, role):
    """TOP-2, REL-2: a user submits to the internal Postfix, which relays
    via [dmz]; mailwarden finds remote.test's MX in the internet's DNS."""
    server = dmz.internal_a if role == "internal-a" else dmz.internal_b
    token = mwsys.unique("outbound")
    code, _ = send(dmz.net, role, server.address, f"user@{server.domains[0]}", f"bob@{REMOTE_DOMAIN}", token)
    assert code == 250
    [path] = wait_at_sink(dmz, token)
    with open(path, "rb") as f:
        dump = f.read()
    # smtp-sink records who handed it the message: the dmz, not the internal host.
    assert f"X-Client-Addr: {DMZ_EXTERNAL}".encode() in dump
    assert f"X-Mail-Args: <user@{server.domains[0]}>".encode() in dump


def test_internet_host_cannot_relay(dmz):
    """REL-1: a client on the internet side gets 554 5.7.1 for a domain
    that is not local, and nothing reaches the MX host."""
    token = mwsys.unique("relay")
    sender, victim = "spammer@remote.test", f"victim@{REMOTE_DOMAIN}"
    code, text = rcpt_reply(dmz.net, "internet", DMZ_EXTERNAL, sender, victim)
    assert (code, text[:5]) == (554, b"5.7.1"), (code, text)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(dmz.net, "internet", DMZ_EXTERNAL, sender, victim, token)
    assert dmz.sink.received(token) == []


def test_internet_cannot_reach_an_internal_server_directly(dmz):
    """TOP-6: even with a route to the internal networks via the dmz, the
    internet does not get through to an internal Postfix (the dmz forwards
    no packets), while mailwarden in the dmz does."""
    ip("-n", dmz.net["internet"], "route", "add", "10.0.0.0/8", "via", DMZ_EXTERNAL)
    try:
        with pytest.raises(OSError):
            dmz.net.connect("internet", INTERNAL_A, 25, timeout=1).close()
    finally:
        ip("-n", dmz.net["internet"], "route", "del", "10.0.0.0/8", "via", DMZ_EXTERNAL)
    with dmz.net.connect("dmz", INTERNAL_A, 25, timeout=2) as s:
        assert s.recv(4) == b"220 "


def test_internal_mail_flows_with_the_internet_link_down(dmz):
    """TOP-4: the dmz's internet interface is down (so is the internet's
    DNS); internal-a's mail for b.example still arrives on internal-b,
    through mailwarden's static route."""
    token = mwsys.unique("cut")
    with dmz.internet_link_down():
        with pytest.raises(OSError):   # the cut is real
            dmz.net.connect("dmz", INTERNET_MX, 25, timeout=1).close()
        code, _ = send(dmz.net, "internal-a", INTERNAL_A, "user@a.example", "carol@b.example", token)
        assert code == 250
        [path] = wait_delivered(dmz.internal_b, token)
    with open(path, "rb") as f:
        assert b"by mx.a.example" in f.read()   # mailwarden's Received: it went through the dmz
    assert dmz.internal_a.delivered(token) == []


def test_outbound_mail_waits_for_the_link_and_then_leaves(dmz, mw_bin):
    """TOP-4, Q-2: mail for the internet sent while the link is down is
    deferred in mailwarden's queue (DNS unreachable), and goes out once the
    link is back and the queue is flushed."""
    token = mwsys.unique("waits")
    gw = dmz.gw
    start = gw.mark()
    with dmz.internet_link_down():
        code, _ = send(dmz.net, "internal-b", INTERNAL_B, "user@b.example", f"dave@{REMOTE_DOMAIN}", token)
        assert code == 250
        deferred = gw.wait_event(proc="queue", event="delivery", status="deferred",
                                 to=f"dave@{REMOTE_DOMAIN}", start=start, timeout=DELIVERY_TIMEOUT)
        assert deferred["reply"].startswith("451 4.4.3"), deferred["reply"]   # no DNS: temporary
        # Still down a while later: nothing has left.
        gw.wait_event(proc="queue", event="delivery", status="deferred", queue_id=deferred["queue_id"],
                      attempt="2", start=start, timeout=DELIVERY_TIMEOUT)
        assert dmz.sink.received(token) == []
    r = subprocess.run([mw_bin, "queue", "-c", gw.config_path, "flush"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    wait_at_sink(dmz, token)
    gw.wait_delivered(deferred["queue_id"], to=f"dave@{REMOTE_DOMAIN}", start=start, timeout=DELIVERY_TIMEOUT)
