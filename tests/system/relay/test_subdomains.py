"""Local domains with every subdomain (TOP-1, REL-1, issue 16 item 3):
".example.org" in local_domains takes mail from the internet for any
subdomain of example.org (an internal server that owns the whole tree, as
in seed 000), routed by a ".example.org" route; the parent and look-alike
domains stay foreign. The same form marks a tree in tls_required_domains
(TLS-6)."""

import pytest

import mwsys

INTERNET = "127.0.0.2"


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(
        local_domains=[".example.org", "example.test"],
        tls_required_domains=[".secure.example.org"],
        routes={".example.org": sink.url, "example.test": sink.url})


def test_subdomain_mail_from_the_internet_is_accepted_and_routed_by_the_dot_route(gw, sink):
    token = mwsys.unique("subdomain")
    start = gw.mark()
    final = mwsys.send_from(gw.port, INTERNET, ["u@sub.example.org"], token)
    assert final.code == 250, final
    delivery = gw.wait_delivered(mwsys.queue_id(final), start=start)
    assert delivery["nexthop"] == sink.url
    assert sink.wait_token(token).rcpt_tos == ["u@sub.example.org"]


@pytest.mark.parametrize("rcpt", ["u@deep.sub.EXAMPLE.org", "u@a.example.org"])
def test_every_depth_of_subdomain_is_local(gw, rcpt):
    assert mwsys.rcpt_reply(gw.port, INTERNET, rcpt).code == 250


@pytest.mark.parametrize("rcpt", ["u@example.org", "u@notexample.org", "u@sub.example.org.evil.test",
                                  "u@example.org.evil.test"],
                         ids=["parent", "suffix_lookalike", "local_as_prefix", "parent_as_prefix"])
def test_dot_domain_does_not_cover_the_parent_or_lookalikes(gw, rcpt):
    r = mwsys.rcpt_reply(gw.port, INTERNET, rcpt)
    assert r.code == 554 and "Relay access denied" in r.text, r


def test_dot_domain_in_tls_required_domains_refuses_plaintext_for_subdomains(gw):
    r = mwsys.rcpt_reply(gw.port, INTERNET, "u@mx.secure.example.org")
    assert r.code == 530 and r.enhanced == "5.7.0", r
    assert "accepting only secure delivery (STARTTLS)" in r.text
    assert mwsys.rcpt_reply(gw.port, INTERNET, "u@secure.example.org").code == 250   # the parent is not in the tree
