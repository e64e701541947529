"""Attack catalogue, section 4: command and envelope parsing (cases 45-73,
SEC-4, SCAN-4, REL-1). Every case also checks U1-U4 (attack_env). The
gateway here validates local recipients against a table (scan.recipients,
so nosuchuser@local.test is refused at RCPT, case 73)."""

import os
import time

import pytest

import attack_env as env
import mwsys

KNOWN = ["u", "postmaster", "control"] + [f"u{i}" for i in range(1001)]
RECIPIENTS = 100          # the gateway's limits.recipients


@pytest.fixture(scope="module")
def refusing(make_sink):
    """The next hop of rejecting.local.test: 550 for every RCPT."""
    s = make_sink()
    s.replies["RCPT"] = "550 5.1.1 no such mailbox here"
    return s


@pytest.fixture(scope="module")
def gw(make_gateway, ports, workdir, internal, outbound, refusing):
    table = os.path.join(workdir, "recipients.txt")
    with open(table, "w") as f:
        f.write("".join(f"{name}@{env.LOCAL}\n" for name in KNOWN) + "@rejecting.local.test\n")
    os.chmod(table, 0o644)
    cfg = env.gateway_config(ports, internal, outbound)
    cfg["local_domains"] = [env.LOCAL, "rejecting.local.test"]
    cfg["routes"]["rejecting.local.test"] = refusing.url
    cfg["limits"] = {"line_length": 512, "recipients": RECIPIENTS, "errors": 20}
    cfg["scan"] = {"dns_servers": "127.0.0.1:1", "recipients": table,
                   "inbound": {"checks": {"recipient": "refuse"}}}
    return make_gateway(**cfg)


def _session(a, mail=False, ehlo="a.test"):
    c = a.client()
    assert c.ehlo(ehlo).code == 250
    if mail:
        assert c.cmd("MAIL FROM:<a@attacker.test>").code == 250
    return c


def _each_refused(gw, lines, codes, mail=False, fresh=False):
    """Send each line (bytes, CRLF added) on one session (or one each);
    every reply must be a refusal with one of codes (U4)."""
    with env.Attack(gw) as a:
        c = None
        for line in lines:
            if c is None or fresh:
                c = _session(a, mail=mail)
            r = c.try_cmd(line + b"\r\n")
            env.assert_refused(r, repr(line), codes=codes)
            if r is None:
                c = None


def _codes(gw, lines, mail=False):
    """The reply code of each line, each on a fresh session."""
    out = []
    with env.Attack(gw) as a:
        for line in lines:
            c = _session(a, mail=mail)
            r = c.try_cmd(line + b"\r\n")
            out.append(None if r is None else r.code)
    return out


# --- 45 -------------------------------------------------------------------

def test_case_45_line_chopping(gw, internal, outbound):
    with env.Attack(gw) as a:
        c = _session(a, mail=True)
        c.send(b"NOOP " + b"A" * 507 + b"RCPT TO:<v@remote.test>\r\n")
        r = c.reply()
        env.assert_refused(r, "overlong line", codes=(500, 501))
        d = c.try_cmd("DATA")
        env.assert_refused(d, "DATA without recipient", codes=(503, 554))
    env.assert_sinks_hold(gw, internal, outbound, outbound_quiet_since=len(outbound.messages))


# --- 46 -------------------------------------------------------------------

@pytest.mark.parametrize("n", [6000, 100000], ids=["46-ehlo-6000", "46-ehlo-100000"])
def test_case_46_long_ehlo(gw, n):
    with env.Attack(gw) as a:
        c = a.client()
        r = c.try_cmd(b"EHLO " + b"x" * n + b"\r\n")
        env.assert_refused(r, "long EHLO", codes=(500, 501))


def test_case_46_megabyte_without_crlf(gw):
    """The connection closes at the line limit; the smtpd's RSS grows by
    less than 1 MB."""
    pid = gw.pid("smtpd")
    rss = lambda: int(mwsys.proc_status(pid)["VmRSS"].split()[0])
    before = rss()
    with env.Attack(gw) as a:
        c = a.client()
        try:
            c.send(b"x" * (1 << 20))
        except OSError:
            pass                 # the server closed while we were writing
        assert c.at_eof(timeout=5), "connection not closed at the line limit"
    assert rss() - before < 1024, f"smtpd RSS grew {rss() - before} kB"


# --- 48, 49 ---------------------------------------------------------------

def test_case_48_nul_in_commands(gw):
    _each_refused(gw, [b"MAIL FROM:<a\x00b@attacker.test>"], (500, 501, 553))
    _each_refused(gw, [b"RCPT TO:<u@local.test\x00@remote.test>"], (500, 501, 553, 554), mail=True)
    _each_refused(gw, [b"EHLO a\x00.test", b"\x00"], (500, 501))


def test_case_49_bare_cr_in_commands(gw, internal, outbound):
    _each_refused(gw, [b"EHLO a.test\rX-Injected: yes"], (500, 501), fresh=True)
    _each_refused(gw, [b"MAIL FROM:<a@attacker.test\rBcc: v@remote.test>"], (500, 501, 553))
    env.assert_sinks_hold(gw, internal, outbound, forbidden=["X-Injected"],
                          outbound_quiet_since=len(outbound.messages))


# --- 51 -------------------------------------------------------------------

def test_case_51_utf8_sender_without_smtputf8(gw):
    _each_refused(gw, [b"MAIL FROM:<\xc3\xbc@attacker.test>"], (553, 501, 555))


def test_case_51_utf8_sender_with_smtputf8(gw):
    with env.Attack(gw) as a:
        c = a.client()
        advertised = "SMTPUTF8" in [l.split()[0].upper() for l in c.ehlo("a.test").lines[1:]]
        r = c.try_cmd(b"MAIL FROM:<\xc3\xbc@attacker.test> SMTPUTF8\r\n")
        assert r is not None and (r.code == 250) == advertised, r


@pytest.mark.parametrize("local", [b"\xc0\xaf", b"\xed\xa0\x80", b"\xff", b"\xf4\x90\x80\x80"],
                         ids=["51-overlong", "51-surrogate", "51-ff", "51-above-10ffff"])
def test_case_51_invalid_utf8_with_smtputf8(gw, local):
    _each_refused(gw, [b"MAIL FROM:<" + local + b"@a.test> SMTPUTF8"], (501, 553))


def test_case_51_idn_same_decision(gw):
    codes = _codes(gw, [b"RCPT TO:<u@\xe4\xbe\x8b\xe5\xad\x90.test>",
                        b"RCPT TO:<u@" + "例子.test".encode("idna") + b">"], mail=True)
    assert codes[1] >= 500, codes             # a foreign domain, from an untrusted client
    assert codes[0] >= 500, codes


# --- 52 -------------------------------------------------------------------

STRANGE_HELO = [b"256.1.1.1", b"a..test", b"-a.test", b"_a.test", b"a b", b"${run{/bin/true}}",
                b"<script>", b"\x1b[31mred", b"%n%s"]


def test_case_52_ehlo_without_argument(gw):
    _each_refused(gw, [b"EHLO"], (501,))


@pytest.mark.parametrize("name", STRANGE_HELO, ids=[f"52-{i}" for i in range(len(STRANGE_HELO))])
def test_case_52_strange_ehlo_then_reset(gw, name):
    """Refused (501) or accepted (scored); a second EHLO resets the
    transaction (RCPT afterwards: 503); logged escaped (U3)."""
    with env.Attack(gw) as a:
        c = a.client()
        r = c.try_cmd(b"EHLO " + name + b"\r\n")
        assert r is not None and r.code in (250, 500, 501, 550), r
        assert c.ehlo("a.test").code == 250
        assert c.cmd("MAIL FROM:<a@attacker.test>").code == 250
        assert c.ehlo("b.test").code == 250
        env.assert_refused(c.try_cmd("RCPT TO:<u@local.test>"), "RCPT after a second EHLO", codes=(503,))


# --- 53, 55, 56, 57, 59 -----------------------------------------------------

LITERALS = [b"u@[127.0.0.1]", b"u@[IPv6:::1]", b"u@[IPv6:::ffff:127.0.0.1]", b"u@[192.0.2.1]",
            b"u@[999.1.1.1]", b"u@[IPv6:1::2::3]", b"u@[x-tag:abc]", b"u@127.0.0.1"]


def test_case_53_address_literals(gw, internal, outbound):
    _each_refused(gw, [b"RCPT TO:<" + lit + b">" for lit in LITERALS], (501, 550, 553, 554), mail=True)
    env.assert_sinks_hold(gw, internal, outbound, outbound_quiet_since=len(outbound.messages))


def test_case_55_source_routes(gw):
    with env.Attack(gw) as a:
        c = _session(a, mail=True)
        assert c.cmd("RCPT TO:<@a.test,@b.test:u@local.test>").code == 250
    _each_refused(gw, [b"RCPT TO:<@local.test:v@remote.test>"], (550, 553, 554), mail=True)
    _each_refused(gw, [b"RCPT TO:<@:u@local.test>", b"RCPT TO:<@@local.test:u@local.test>",
                       b"RCPT TO:<@local.test,v@remote.test>"], (501, 553), mail=True)


def test_case_56_trailing_dots_case_whitespace(gw, internal, outbound):
    with env.Attack(gw) as a:
        c = _session(a, mail=True)
        assert c.cmd("RCPT TO:<u@LOCAL.TEST>").code == 250
    dot = _codes(gw, [b"RCPT TO:<u@local.test.>"], mail=True)[0]
    assert dot in (250, 501, 553), dot
    if dot == 250:     # the relay check and the routing must agree: it goes inward
        token = mwsys.unique("dot")
        with env.Attack(gw) as a:
            c = _session(a)
            assert c.transaction("a@attacker.test", ["u@local.test."],
                                 f"Subject: {token}\r\n\r\nx\r\n".encode()).code == 250
        internal.wait_token(token)
    _each_refused(gw, [b"RCPT TO:<v@remote.test.>"], (501, 550, 553, 554), mail=True)
    spaced = _codes(gw, [b"RCPT TO:< u@local.test>", b"RCPT TO:<u@ local.test>",
                         b"RCPT TO : <u@local.test>"], mail=True)
    assert all(code in (250, 501, 553) for code in spaced), spaced
    _each_refused(gw, [b"RCPT TO:<u@local.test> XYZ=1"], (555,), mail=True)
    env.assert_sinks_hold(gw, internal, outbound, outbound_quiet_since=len(outbound.messages))


def test_case_57_several_addresses_in_one_rcpt(gw, internal, outbound):
    count = len(outbound.messages)
    _each_refused(gw, [b"RCPT TO:<u@local.test>,<v@remote.test>", b"RCPT TO:<u@local.test> <v@remote.test>",
                       b"RCPT TO:u@local.test,v@remote.test", b"RCPT TO:<u@local.test>\tv@remote.test"],
                  (501, 553, 555), mail=True)
    env.assert_sinks_hold(gw, internal, outbound, outbound_quiet_since=count)


def test_case_59_empty_invalid_postmaster(gw):
    _each_refused(gw, [b"RCPT TO:<>", b"RCPT TO:<@>", b"RCPT TO:<a>", b"RCPT TO:<a@>", b"RCPT TO:< @doe>"],
                  (501, 550, 553), mail=True)
    with env.Attack(gw) as a:
        c = _session(a, mail=True)
        for rcpt in ("<postmaster>", "<POSTMASTER>", "<postmaster@local.test>"):
            r = c.cmd(f"RCPT TO:{rcpt}")
            assert r.code == 250, f"{rcpt}: {r}"
        c2 = _session(a)
        assert c2.cmd("MAIL FROM:<>").code == 250


# --- 60 -------------------------------------------------------------------

def test_case_60_recipient_limit(gw, internal):
    token = mwsys.unique("rcpts")
    with env.Attack(gw) as a:
        c = _session(a, mail=True)
        c.send("".join(f"RCPT TO:<u{i}@local.test>\r\n" for i in range(1001)).encode())
        replies = c.replies(1001)
        codes = [r.code for r in replies]
        assert codes[:RECIPIENTS] == [250] * RECIPIENTS, codes[:RECIPIENTS]
        assert all(r.code == 452 and r.enhanced == "4.5.3" for r in replies[RECIPIENTS:]), \
            sorted(set(codes[RECIPIENTS:]))
        assert c.data(f"Subject: {token}\r\n\r\nx\r\n".encode()).code == 250
    got = set()
    mwsys.wait_until(lambda: got.update(r for m in internal.with_token(token) for r in m.rcpt_tos)
                     or len(got) >= RECIPIENTS, what="the accepted recipients")
    assert got == {f"u{i}@local.test" for i in range(RECIPIENTS)}


# --- 63, 65 ---------------------------------------------------------------

def test_case_63_shell_metacharacters(gw):
    began = time.monotonic()
    _each_refused(gw, [b"MAIL FROM:<;sleep 66;>"], (501, 550, 553))
    assert time.monotonic() - began < 10


def test_case_65_format_strings_and_escapes(gw):
    with env.Attack(gw) as a:
        c = a.client()
        r = c.try_cmd(b"EHLO %s%s%s%n\r\n")
        assert r is not None and r.code in (250, 501), r
        c = _session(a)
        r = c.try_cmd(b"MAIL FROM:<%x%x@attacker.test>\r\n")
        assert r is not None and r.code in (250, 501, 553), r
        c = _session(a)
        r = c.try_cmd(b"MAIL FROM:<a@attacker.test>\x1b]0;pwn\x07\r\n")
        env.assert_refused(r, "escape sequence", codes=(500, 501, 553, 555))


# --- 66, 67, 69 -----------------------------------------------------------

@pytest.mark.parametrize("line", [b"GET / HTTP/1.0", b"POST / HTTP/1.1", b"CONNECT 10.0.0.1:25 HTTP/1.0",
                                  b"Host: x"],
                         ids=["66-get", "66-post", "66-connect", "66-host"])
def test_case_66_http_lines_end_the_session(gw, line):
    """221 (Postfix) or, here, 554 5.7.0 'HTTP request in an SMTP
    session': either way the session ends at once."""
    with env.Attack(gw) as a:
        c = a.client()
        r = c.try_cmd(line + b"\r\n")
        assert r is not None and r.code in (221, 554), r
        assert c.at_eof(timeout=2), "still connected after an HTTP-looking line"


def test_case_66_unknown_commands_to_the_error_limit(gw):
    with env.Attack(gw) as a:
        c = a.client()
        c.send(b"XYZZY\r\n" * 30)
        replies = c.read_for(3)
        assert replies and replies[-1].code == 421, replies[-3:]
        assert all(r.code in (500, 502) for r in replies[:-1]), replies
        assert len(replies) - 1 <= 20, len(replies)


def test_case_67_command_sequencing(gw):
    with env.Attack(gw) as a:
        c = _session(a)
        for _ in range(19):
            assert c.cmd("NOOP").code == 250
        env.assert_refused(c.cmd("DATA"), "DATA without MAIL", codes=(503,))
        # After a refused DATA the gateway wants RSET first (a pipelined
        # body might follow and must not run as commands).
        assert c.cmd("RSET").code == 250
        env.assert_refused(c.cmd("RCPT TO:<u@local.test>"), "RCPT before MAIL", codes=(503,))
        assert c.cmd("MAIL FROM:<a@attacker.test>").code == 250
        env.assert_refused(c.cmd("MAIL FROM:<b@attacker.test>"), "nested MAIL", codes=(503,))
        env.assert_refused(c.cmd("DATA"), "DATA with no recipient", codes=(503, 554))
        assert c.cmd("RSET").code == 250
        assert c.cmd("MAIL FROM:<a@attacker.test>").code == 250
        assert c.cmd("RCPT TO:<u@local.test>").code == 250
        assert c.cmd("RSET").code == 250
        env.assert_refused(c.cmd("RCPT TO:<u@local.test>"), "RCPT after RSET", codes=(503,))
        assert c.cmd("RSET").code == 250
        for cmd in ("VRFY u", "EXPN list"):
            r = c.cmd(cmd)
            assert r.code in (252, 502), r
            assert "local.test" not in r.text, r
        token = mwsys.unique("quit")
        assert c.transaction("a@attacker.test", ["u@local.test"],
                             f"Subject: {token}\r\n\r\nQUIT\r\nstill content\r\n".encode()).code == 250
    # (the QUIT line is content: the sink gets it, checked by the next case's flush)


def test_case_69_reply_ordering_under_a_burst(gw):
    with env.Attack(gw) as a:
        c = _session(a)
        c.send(b"NOOP\r\n" * 10000)
        replies = c.read_for(5)
        assert len(replies) == 10000 or (replies and replies[-1].code == 421), len(replies)
        assert all(r.code == 250 for r in replies if r.code != 421)
        c = _session(a)
        c.send(b"RSET\r\n" * 50000)
        replies = c.read_for(5)
        assert len(replies) == 50000 or (replies and replies[-1].code == 421), len(replies)


# --- 70, 72, 73 -----------------------------------------------------------

def test_case_70_slow_clients_do_not_block_others(gw, internal):
    """A scaled-down slowloris (the full 500 connections at one byte per
    10 s would take minutes): idle half-sent commands fill the per-IP
    cap (10), the next one from that address is refused with 421, and a
    client from another address gets 220 within 2 s and delivers."""
    source = mwsys.ADDRESSES.get()
    with env.Attack(gw) as a:
        idle = [a.client(source=source) for _ in range(10)]
        for c in idle:
            c.send(b"EH")
        extra = a.client(source=source, greet=False)
        r = extra.reply()
        assert r.code == 421, r
        token = mwsys.unique("legit")
        began = time.monotonic()
        c = a.client()
        assert time.monotonic() - began < 2
        c.ehlo()
        assert c.transaction("a@attacker.test", ["u@local.test"],
                             f"Subject: {token}\r\n\r\nx\r\n".encode()).code == 250
    internal.wait_token(token)


def test_case_72_mail_loop(gw, internal, outbound):
    """101 Received: headers, or 60 Delivered-To: u@local.test: refused
    (554 5.4.6) or bounced; never delivered again."""
    for name, header in (("received", "Received: from x.test by y.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n" * 101),
                         ("delivered-to", "Delivered-To: u@local.test\r\n" * 60)):
        token = mwsys.unique(f"loop-{name}")
        with env.Attack(gw) as a:
            c = a.prelude()
            c.send(f"{header}Subject: {token}\r\n\r\nx\r\n.\r\n".encode())
            r = c.reply()
            env.assert_refused(r, f"loop by {name}", codes=(554,))
            assert r.enhanced == "5.4.6", r
        env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])


def test_case_73_unknown_local_recipient_at_rcpt(gw):
    with env.Attack(gw) as a:
        c = _session(a, mail=True)
        r = c.cmd("RCPT TO:<nosuchuser@local.test>")
        env.assert_refused(r, "unknown recipient", codes=(550,))
        assert r.enhanced == "5.1.1", r


@pytest.mark.parametrize("sender", ["", "a@attacker.test"], ids=["73-null-sender", "73-control-sender"])
def test_case_73_no_dsn_for_the_null_sender(gw, sender):
    """A downstream 5xx bounces mail from a sender, never mail from <>."""
    token = mwsys.unique("bs")
    with env.Attack(gw) as a:
        c = _session(a)
        r = c.transaction(sender, ["x@rejecting.local.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
        assert r.code == 250, r
        qid = mwsys.queue_id(r)
        gw.wait_event(proc="queue", event="bounced", queue_id=qid, start=a.start)
        dsns = gw.events(start=a.start, event="dsn_queued", about=qid)
        if sender:
            assert dsns, "no DSN for a 5xx from the next hop"
        else:
            dropped = gw.wait_event(proc="queue", event="bounce_dropped", queue_id=qid, start=a.start)
            assert dropped and dsns == [], dsns
