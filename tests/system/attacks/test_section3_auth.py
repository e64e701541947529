"""Attack catalogue, section 3: SMTP AUTH (cases 35-43, TLS-3, REL-3,
REL-4). The submission listener ("587") offers AUTH only inside TLS;
the MTA listener ("25") has no AUTH at all. Every case also checks U1-U4
(attack_env)."""

import base64
import time

import pytest

import attack_env as env
import certs

BAD_PLAIN = "AUTH PLAIN " + base64.b64encode(b"\0user\0wrong").decode()


def _tls(a, gw):
    c = a.client(port=env.port_of(gw, "submission"))
    c.ehlo("a.test")
    assert c.starttls(certs.client_context()).code == 220
    assert c.ehlo("a.test").code == 250
    return c


@pytest.mark.parametrize("listener", ["mta", "submission"], ids=["35-port-25", "35-port-587"])
def test_case_35_auth_before_tls(gw, listener):
    """No AUTH in the plaintext EHLO; the same refusal for valid and
    invalid credentials and for LOGIN; no back-end lookup (no auth event)."""
    with env.Attack(gw) as a:
        replies = []
        for command in (env.AUTH_PLAIN, BAD_PLAIN, "AUTH LOGIN"):
            c = a.client(port=env.port_of(gw, listener))
            assert "AUTH" not in c.ehlo("a.test").keywords
            r = c.try_cmd(command)
            env.assert_refused(r, command, codes=(530, 538, 502, 503))
            replies.append((r.code, r.text))
        assert replies[0] == replies[1], replies
        assert gw.events(start=a.start, proc="smtpd", event="auth") == []


def test_case_36_authzid_impersonation(gw):
    with env.Attack(gw) as a:
        c = _tls(a, gw)
        r = c.cmd("AUTH PLAIN YWRtaW5AbG9jYWwudGVzdAB1c2VyAHBhc3M=")   # admin@local.test\0user\0pass
        # 535 5.7.8 in the catalogue; the gateway refuses a foreign authzid
        # before any password check, as a malformed response (501 5.5.2).
        env.assert_refused(r, "authzid admin", codes=(535, 501))
        env.assert_refused(c.try_cmd("MAIL FROM:<admin@local.test>"), "MAIL as admin")


BAD_BASE64 = ["A" * 2003, "====", "AH*zZXI", "AHVz ZXIA"]


@pytest.mark.parametrize("blob", BAD_BASE64, ids=["37-4n+3", "37-padding", "37-star", "37-space"])
def test_case_37_malformed_base64(gw, blob):
    with env.Attack(gw) as a:
        c = _tls(a, gw)
        env.assert_refused(c.try_cmd(f"AUTH PLAIN {blob}"), "PLAIN initial response", codes=(501, 535))
        c = _tls(a, gw)
        assert c.cmd("AUTH LOGIN").code == 334
        env.assert_refused(c.try_cmd(blob), "LOGIN response", codes=(501, 535))


def test_case_37_empty_initial_response(gw):
    with env.Attack(gw) as a:
        c = _tls(a, gw)
        r = c.try_cmd("AUTH PLAIN =")
        env.assert_refused(r, "empty response", codes=(501, 535))


def test_case_39_auth_repeated_or_misplaced(gw):
    with env.Attack(gw) as a:
        c = _tls(a, gw)
        assert c.cmd(env.AUTH_PLAIN).code == 235
        for command in (env.AUTH_PLAIN, "AUTH LOGIN"):
            env.assert_refused(c.try_cmd(command), "second AUTH", codes=(503,))
        c = _tls(a, gw)
        # MAIL first is refused on submission (530: log in first), so the
        # "AUTH in a transaction" case is an authenticated session's MAIL
        # followed by AUTH.
        assert c.cmd(env.AUTH_PLAIN).code == 235
        assert c.cmd("MAIL FROM:<user@local.test>").code == 250
        env.assert_refused(c.try_cmd(env.AUTH_PLAIN), "AUTH after MAIL", codes=(503,))


def _timed(c, command):
    began = time.monotonic()
    r = c.try_cmd(command)
    return r, time.monotonic() - began


UNKNOWN_PLAIN = "AUTH PLAIN " + base64.b64encode(b"\0nobody\0pass").decode()


def test_case_41_same_answer_for_unknown_user_and_wrong_password(gw):
    """The same text, and (median of 5 tries each, one address per pair,
    alternating order) latencies within 50 ms: the unknown user costs a
    hash of a dummy password."""
    times = {UNKNOWN_PLAIN: [], BAD_PLAIN: []}
    texts = set()
    with env.Attack(gw) as a:
        for i in range(5):
            c = _tls(a, gw)
            order = (UNKNOWN_PLAIN, BAD_PLAIN) if i % 2 == 0 else (BAD_PLAIN, UNKNOWN_PLAIN)
            for command in order:
                r, took = _timed(c, command)
                texts.add((r.code, r.text))
                times[command].append(took)
    assert len(texts) == 1, texts
    median = {k: sorted(v)[2] for k, v in times.items()}
    assert abs(median[UNKNOWN_PLAIN] - median[BAD_PLAIN]) < 0.05, times


def test_case_41_brute_force(gw):
    """Cut off (421 4.7.0) after a few failures, logged with the client
    address (REL-4); the address stays locked out, even with the right
    password."""
    with env.Attack(gw) as a:
        c = _tls(a, gw)
        replies = []
        for _ in range(20):
            r = c.try_cmd(BAD_PLAIN)
            replies.append(r)
            if r is None or r.code == 421:
                break
        assert replies[-1] is not None and replies[-1].code == 421 and replies[-1].enhanced == "4.7.0", replies
        assert len(replies) <= 10, f"{len(replies)} attempts before the cut"
        assert all(r.code in (535, 421) for r in replies), replies
        failures = gw.events(start=a.start, proc="smtpd", event="auth", result="failed")
        assert failures and all(e.get("client") == c.source for e in failures), failures
        for _ in range(3):
            c2 = a.client(port=env.port_of(gw, "submission"), source=c.source, greet=False)
            try:
                first = c2.reply()
            except Exception:
                continue
            if first.code != 220:
                env.assert_refused(first, "greeting while locked out")
                continue
            c2.ehlo("a.test")
            assert c2.starttls(certs.client_context()).code == 220
            c2.ehlo("a.test")
            env.assert_refused(c2.try_cmd(env.AUTH_PLAIN), "AUTH while locked out")


def test_case_43_sender_bound_to_login(gw):
    with env.Attack(gw) as a:
        c = _tls(a, gw)
        assert c.cmd(env.AUTH_PLAIN).code == 235
        r = c.try_cmd("MAIL FROM:<ceo@local.test>")
        env.assert_refused(r, "sender not owned", codes=(553,))
        assert r.enhanced == "5.7.1", r
