"""Greylisting (off by default): a new client-network/sender/recipient
triplet gets 451; the same triplet retried after greylist_delay passes.
The database lives in the state directory, outside smtpd's chroot."""

import os

import pytest

import mwsys
from scan_env import CLEAN, session


@pytest.fixture(scope="module")
def gw(make_gateway, dns):
    return make_gateway(scan={"dns_servers": dns.servers, "greylist_delay": 3,
                              "inbound": {"checks": {"greylist": "refuse"}}})


def rcpt(gw, sender, to):
    r = session(gw, CLEAN, sender=sender, rcpt=to)
    r["client"].close()
    return r["rcpt"]


def test_new_triplet_is_deferred_then_passes_after_the_delay(gw):
    first = rcpt(gw, "a@good.test", "user@other.test")
    assert first.code == 451 and first.text.startswith("4.7.1")
    assert rcpt(gw, "a@good.test", "user@other.test").code == 451  # too soon
    mwsys.wait_until(lambda: rcpt(gw, "a@good.test", "user@other.test").code == 250,
                     what="the greylisted triplet to pass")
    # passed triplets stay passed; a new sender starts over
    assert rcpt(gw, "a@good.test", "user@other.test").code == 250
    assert rcpt(gw, "b@good.test", "user@other.test").code == 451
    assert os.path.exists(gw.path("greylist.db"))


def test_greylisting_is_off_by_default(make_gateway, dns):
    plain = make_gateway(scan={"dns_servers": dns.servers})
    assert rcpt(plain, "c@good.test", "user@other.test").code == 250
    assert not os.path.exists(plain.path("greylist.db"))
