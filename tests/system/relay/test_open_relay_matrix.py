"""The open-relay matrix (REL-1, REL-2): every classic trick to relay
through a gateway, tried from an untrusted client (refused: 5xx, and for
the routing forms in the local part 554 5.7.1) and from a trusted one
(permitted where the address is valid at all). Only example.test is local
here; other.test is somebody else's domain with a route."""

import pytest

import mwsys

TRUSTED = "127.0.0.10"
LISTENER_TRUSTED = "127.0.0.20"


@pytest.fixture(scope="module")
def other_sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink, other_sink):
    return make_gateway(
        local_domains=["example.test"],
        trusted_networks=[f"{TRUSTED}/32"],
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get()},
            {"name": "internal", "address": "127.0.0.1", "port": ports.get(),
             "trusted_networks": [f"{LISTENER_TRUSTED}/32"]},
        ],
        routes={"example.test": sink.url, "other.test": other_sink.url, ".other.test": other_sink.url})


# case: (recipient as written in RCPT TO, permitted from a trusted client)
MATRIX = {
    "percent_hack": ("<user%other.test@example.test>", True),
    "percent_hack_upper_case": ("<user%OTHER.TEST@EXAMPLE.TEST>", True),
    "percent_hack_double": ("<user%other.test%example.test@example.test>", True),
    "bang_path": ("<other.test!user@example.test>", True),
    "bang_path_nested": ("<a.test!other.test!user@example.test>", True),
    "quoted_at": ('<"user@other.test"@example.test>', True),
    "quoted_percent": ('<"user%other.test"@example.test>', True),
    "source_route": ("<@example.test:user@other.test>", True),
    "source_route_two_hops": ("<@example.test,@example.test:user@other.test>", True),
    "plain_other_domain": ("<user@other.test>", True),
    "upper_case_other_domain": ("<USER@OTHER.TEST>", True),
    "subdomain_of_other": ("<user@mx.other.test>", True),
    "double_at": ("<user@other.test@example.test>", False),
    "trailing_dot": ("<user@other.test.>", False),
    "trailing_dot_local_domain": ("<user@example.test.>", False),
    "address_literal": ("<user@[192.0.2.1]>", False),
    "address_literal_ipv6": ("<user@[IPv6:2001:db8::1]>", False),
    "local_domain_as_suffix": ("<user@evilexample.test>", True),   # trusted: relayed by MX
    "local_domain_as_prefix": ("<user@example.test.other.test>", True),
    "idn_punycode": ("<user@xn--exmple-cua.test>", True),           # trusted: relayed by MX
    "idn_utf8_without_smtputf8": ("<user@exämple.test>", False),
    "idn_utf8_lookalike_of_local": ("<user@exаmple.test>", False),   # Cyrillic a
    "unbracketed": ("user@other.test", False),
}


def _rcpt(gw, source, rcpt, port=None):
    with mwsys.SmtpClient(port or gw.port, source=source) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        return c.cmd(f"RCPT TO:{rcpt}")


@pytest.mark.parametrize("rcpt,trusted_ok", MATRIX.values(), ids=MATRIX.keys())
def test_refused_from_untrusted_client(gw, rcpt, trusted_ok):
    r = _rcpt(gw, mwsys.ADDRESSES.get(), rcpt)
    assert 500 <= r.code < 600, r


ROUTING_LOCAL_PARTS = [k for k, (rcpt, _) in MATRIX.items()
                       if k != "double_at" and rcpt.lower().endswith("@example.test>")]


@pytest.mark.parametrize("case", ROUTING_LOCAL_PARTS)
def test_routing_local_part_to_local_domain_is_554_5_7_1(gw, case):
    """A local-domain recipient whose local part holds %, ! or a quoted @."""
    rcpt, _ = MATRIX[case]
    r = _rcpt(gw, mwsys.ADDRESSES.get(), rcpt)
    assert r.code == 554 and r.enhanced == "5.7.1", r


@pytest.mark.parametrize("rcpt,trusted_ok", MATRIX.values(), ids=MATRIX.keys())
def test_permitted_from_trusted_client(gw, rcpt, trusted_ok):
    r = _rcpt(gw, TRUSTED, rcpt)
    if trusted_ok:
        assert r.code == 250, r
    else:
        assert 500 <= r.code < 600 and r.enhanced != "5.7.1", r   # refused, but not as relaying


def test_plain_local_recipient_accepted_from_anyone(gw):
    assert _rcpt(gw, mwsys.ADDRESSES.get(), "<user@example.test>").code == 250
    assert _rcpt(gw, mwsys.ADDRESSES.get(), "<User@Example.TEST>").code == 250


def test_listener_trusted_networks_apply_on_that_listener_only(gw):
    internal = next(l["port"] for l in gw.config["listeners"] if l["name"] == "internal")
    assert _rcpt(gw, LISTENER_TRUSTED, "<user@other.test>", port=internal).code == 250
    r = _rcpt(gw, LISTENER_TRUSTED, "<user@other.test>")
    assert r.code == 554 and r.enhanced == "5.7.1", r


def test_trusted_relay_is_delivered_to_the_other_domain(gw, other_sink):
    token = mwsys.unique("matrix")
    with mwsys.SmtpClient(gw.port, source=TRUSTED) as c:
        c.greeting()
        c.ehlo()
        final = c.transaction("a@b.test", ["user@other.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert final.code == 250
    assert other_sink.wait_token(token).rcpt_tos == ["user@other.test"]


@pytest.mark.parametrize("domain", ["exämple.test", "EXÄMPLE.TEST", "exаmple.test"],
                         ids=["idn", "idn_upper", "cyrillic_lookalike"])
def test_idn_domain_with_smtputf8_is_not_local(gw, domain):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test> SMTPUTF8").code == 250
        r = c.cmd(f"RCPT TO:<user@{domain}>")
    assert r.code == 554 and r.enhanced == "5.7.1", r
