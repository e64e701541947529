"""Attack catalogue, section 5: the open-relay matrix (cases 76-101,
REL-1, REL-2, REL-3). From an untrusted client every row's RCPT is
refused (554 5.7.1, or 550/553/501), nothing reaches the outbound sink,
and nothing reaches the internal sink with sender-specified routing
(%, !, @ or a quote) left in its local part. Row 101 is the positive
control. Every case also checks U1-U4 (attack_env)."""

import pytest

import attack_env as env
import certs
import mwsys

DEFAULT_FROM = "spamtest@attacker.test"

# case id: (MAIL FROM, RCPT TO as written)
MATRIX = {
    "76-remote-to-remote": ("nobody@remote.test", "<nobody@remote.test>"),
    "77-spoofed-local-sender": ("spamtest@local.test", "<nobody@remote.test>"),
    "80-null-sender": ("", "<nobody@remote.test>"),
    "82-percent-hack": (DEFAULT_FROM, "<nobody%remote.test@local.test>"),
    "84-quoted-address": (DEFAULT_FROM, '<"nobody@remote.test">'),
    "86-double-at": (DEFAULT_FROM, "<nobody@remote.test@local.test>"),
    "87-quoted-at-local": (DEFAULT_FROM, '<"nobody@remote.test"@local.test>'),
    "89-source-route": (DEFAULT_FROM, "<@local.test:nobody@remote.test>"),
    "91-bang-path": (DEFAULT_FROM, "<remote.test!nobody>"),
    "92-bang-path-at-local": (DEFAULT_FROM, "<remote.test!nobody@local.test>"),
    "94-trailing-dot": (DEFAULT_FROM, "<nobody@remote.test.>"),
    "96-foreign-literal": (DEFAULT_FROM, "<nobody@[192.0.2.1]>"),
    "96-foreign-numeric-domain": (DEFAULT_FROM, "<nobody@192.0.2.1>"),
}

ROUTING = ("%", "!", "@", '"')


def _routed_local_parts(sink):
    return [r for m in sink.messages for r in m.rcpt_tos
            if any(ch in r.rsplit("@", 1)[0] for ch in ROUTING)]


@pytest.mark.parametrize("row", MATRIX.values(), ids=MATRIX.keys())
def test_case_relay_attempt(gw, internal, outbound, row):
    sender, rcpt = row
    token = mwsys.unique("relay")
    count = len(outbound.messages)
    with env.Attack(gw) as a:
        c = a.client()
        assert c.ehlo("relaytest.attacker.test").code == 250
        assert c.cmd(f"MAIL FROM:<{sender}>").code == 250
        r = c.try_cmd(f"RCPT TO:{rcpt}")
        env.assert_refused(r, rcpt, codes=(501, 550, 553, 554))
        if r is not None and r.code == 554:
            assert r.enhanced == "5.7.1", r
        env.assert_refused(c.try_cmd("DATA"), "DATA after the refused RCPT")
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token], outbound_quiet_since=count)
    assert _routed_local_parts(internal) == []


def test_case_101a_trusted_network_relays(gw, internal, outbound):
    token = mwsys.unique("trusted")
    with env.Attack(gw) as a:
        c = a.client(source=env.TRUSTED)
        c.ehlo("relaytest.attacker.test")
        r = c.transaction(DEFAULT_FROM, ["nobody@remote.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
        assert r.code == 250, r
    msg = outbound.wait_token(token)
    env.assert_clean_header_block(msg.data)


def test_case_101b_authenticated_submission_relays(gw, internal, outbound):
    token = mwsys.unique("auth")
    with env.Attack(gw) as a:
        c = a.client(port=env.port_of(gw, "submission"))
        c.ehlo("a.test")
        assert c.starttls(certs.client_context()).code == 220
        c.ehlo("a.test")
        assert c.cmd(env.AUTH_PLAIN).code == 235
        r = c.transaction("user@local.test", ["nobody@remote.test"],
                          f"From: user@local.test\r\nSubject: {token}\r\n\r\nx\r\n".encode())
        assert r.code == 250, r
    msg = outbound.wait_token(token)
    env.assert_clean_header_block(msg.data)


def test_case_101c_untrusted_to_local_is_delivered_inward(gw, internal, outbound):
    token = mwsys.unique("inward")
    count = len(outbound.messages)
    with env.Attack(gw) as a:
        c = a.client()
        c.ehlo("relaytest.attacker.test")
        r = c.transaction(DEFAULT_FROM, ["u@local.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
        assert r.code == 250, r
    msg = internal.wait_token(token)
    assert msg.rcpt_tos == ["u@local.test"]
    env.assert_clean_header_block(msg.data)
    env.assert_sinks_hold(gw, internal, outbound, outbound_quiet_since=count)
