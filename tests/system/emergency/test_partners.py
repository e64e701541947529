"""Known communication partners under partners_only (SCAN-11, issue 13),
on the real daemon: a partner's mail is taken and a stranger's gets
450 4.7.1 with the configured text; the allow list (domains and
addresses) counts for everyone; `mailwarden partners` changes reach the
running smtpd without a restart; our own clients still send to partners
but not to strangers under `both`; a rehearsal logs the would-be 450 and
changes no reply."""

import os
import subprocess

import pytest

import mwsys

TRUSTED = "127.0.0.10"   # base_config's trusted network
TEXT = "known partners only during an emergency, retry later"


@pytest.fixture
def gw(make_gateway_fn, sink):
    gw = make_gateway_fn(start=False, sink=sink, emergency={
        "levels": [{"name": "normal"}, {"name": "partners", "partners_only": "both"}],
        "partners": {"allow": ["bank.test", "auditor@firm.test"], "text": TEXT},
    })
    gw.config["emergency"]["partners"]["file"] = gw.path("partners.db")
    os.makedirs(gw.state_dir, exist_ok=True)
    gw.write_config()
    assert partners(gw, "add", "user@example.test", "friend@partner.test").returncode == 0
    gw.start()
    return gw


def partners(gw, *args):
    return subprocess.run([gw.binary, "partners", "-c", gw.config_path, *args],
                          capture_output=True, text=True, timeout=30)


def switch(gw, level, *extra):
    """Switch (or rehearse), and wait until the smtpd has taken it."""
    start = gw.mark()
    p = subprocess.run([gw.binary, "ctl", "-c", gw.config_path, "level", level, *extra],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    gw.wait_event(proc="smtpd", event="rehearsal" if extra else "level", start=start, name=level)


def inbound(gw, sender, rcpt="user@example.test"):
    return mwsys.rcpt_reply(gw.port, mwsys.ADDRESSES.get(), rcpt, mail_from=sender)


def outbound(gw, rcpt, sender="user@example.test"):
    return mwsys.rcpt_reply(gw.port, TRUSTED, rcpt, mail_from=sender)


def test_partners_pass_strangers_get_450_and_changes_need_no_restart(gw):
    assert inbound(gw, "stranger@evil.test").code == 250, "level 0 takes everyone"
    switch(gw, "partners")
    smtpd = gw.pid("smtpd")
    assert inbound(gw, "friend@partner.test").code == 250
    assert inbound(gw, "Colleague@PARTNER.test").code == 250, "the partner's domain counts"
    r = inbound(gw, "stranger@evil.test")
    assert (r.code, r.enhanced) == (450, "4.7.1") and TEXT in r.text, r
    assert inbound(gw, "friend@partner.test", rcpt="other@example.test").code == 450, \
        "a partner of one user is no partner of another"
    assert inbound(gw, "").code == 450, "the null sender is no partner"
    # the static allow list: a domain and an address, for every user
    assert inbound(gw, "noreply@bank.test", rcpt="other@example.test").code == 250
    assert inbound(gw, "auditor@firm.test").code == 250
    assert inbound(gw, "clerk@firm.test").code == 450
    # our own clients: to partners yes, to strangers not under "both",
    # among ourselves always
    assert outbound(gw, "friend@partner.test").code == 250
    assert outbound(gw, "stranger@evil.test").code == 450
    assert outbound(gw, "other@example.test").code == 250
    # the command's changes reach the running smtpd
    assert partners(gw, "add", "user@example.test", "late@new.test").returncode == 0
    mwsys.wait_until(lambda: inbound(gw, "late@new.test").code == 250, what="an added partner taken")
    assert partners(gw, "remove", "user@example.test", "friend@partner.test").returncode == 0
    mwsys.wait_until(lambda: inbound(gw, "friend@partner.test").code == 450, what="a removed partner refused")
    assert gw.pid("smtpd") == smtpd, "no restart"
    switch(gw, "normal")
    assert inbound(gw, "stranger@evil.test").code == 250


def test_rehearsal_logs_the_would_be_450_and_changes_no_reply(gw):
    start = gw.mark()
    switch(gw, "partners", "--rehearse")
    assert inbound(gw, "stranger@evil.test").code == 250
    e = gw.wait_event(proc="smtpd", event="rehearsal", start=start, by="partners_only")
    assert e["would"] == "defer" and e["to"] == "user@example.test" and e["reply"] == "450 4.7.1"
    assert inbound(gw, "friend@partner.test").code == 250
    assert len(gw.log.events(start, proc="smtpd", event="rehearsal", by="partners_only")) == 1, \
        "a partner is no rehearsal finding"


@pytest.fixture
def learning_gw(make_gateway_fn, sink):
    """A scan section that tags nothing: every message is accepted
    untagged, and mail from the trusted network is judged outbound.
    remote.test is not ours: mail to it from our clients goes out."""
    return make_gateway_fn(sink=sink, scan={"inbound": {"tag": 50}, "outbound": {"tag": 50}}, routes={
        "example.test": f"smtp://127.0.0.1:{sink.port}",
        "remote.test": f"smtp://127.0.0.1:{sink.port}",
    }, emergency={"levels": [{"name": "normal"}, {"name": "partners", "partners_only": "inbound"}]})


def exported_pairs(gw):
    p = partners(gw, "export")
    assert p.returncode == 0, p.stderr
    return {tuple(line.split(",")[:2]) for line in p.stdout.splitlines()[1:]}


def test_partners_are_learned_from_an_outbound_delivery_and_an_accepted_inbound_message(learning_gw, sink):
    gw = learning_gw
    token = mwsys.unique("out")
    r = mwsys.send_from(gw.port, TRUSTED, ["friend@remote.test"], token, mail_from="user@example.test")
    assert r.code == 250, r
    sink.wait_token(token)
    mwsys.wait_until(lambda: ("user@example.test", "friend@remote.test") in exported_pairs(gw),
                     what="the pair learned from the delivery")
    token = mwsys.unique("in")
    r = mwsys.send_from(gw.port, mwsys.ADDRESSES.get(), ["other@example.test"], token,
                        mail_from="Writer@Inbound.test")
    assert r.code == 250, r
    mwsys.wait_until(lambda: ("other@example.test", "writer@inbound.test") in exported_pairs(gw),
                     what="the pair learned from the accepted inbound message")
    assert ("other@example.test", "friend@remote.test") not in exported_pairs(gw)
    # under partners_only the learned partner's mail is taken, a stranger's deferred
    switch(gw, "partners")
    mwsys.wait_until(lambda: inbound(gw, "friend@remote.test").code == 250,
                     what="the partner learned outbound taken inbound")
    # smtpd looks at the store every 2 s: the newest pair may take a look
    mwsys.wait_until(lambda: inbound(gw, "writer@inbound.test", rcpt="other@example.test").code == 250,
                     what="the partner learned inbound taken")
    r = inbound(gw, "stranger@evil.test")
    assert (r.code, r.enhanced) == (450, "4.7.1"), r
