"""REL-3 on the header (issue 18 item 13): a user who logged in may put in
From (and Sender) only addresses their login owns, as smtpd demands of the
envelope sender. The scanner's from_binding check refuses at the final dot
a From the login does not own, a second From, or none; it reads the same
sender-login table as smtpd; it does not touch mail from clients that did
not log in; and its policy (scan.<direction>.checks.from_binding) can make
it score or switch it off. It runs with or without a scan: section."""

import base64
import os
import signal
import subprocess

import pytest

import certs
import mwsys

ALICE, PASSWORD = "alice@example.test", "correct horse battery"
REFUSAL = "5.7.1 Message refused: header From does not belong to the authenticated user"


@pytest.fixture(scope="module")
def credentials(mw_bin, workdir):
    """alice's credentials; the sender-login table lets her use sales@."""
    out = subprocess.run([mw_bin, "passwd", ALICE], input=PASSWORD + "\n", capture_output=True, text=True,
                         check=True).stdout
    path = os.path.join(workdir, "from-credentials")
    with open(path, "w") as f:
        f.write(out)
    senders = os.path.join(workdir, "from-sender-logins")
    with open(senders, "w") as f:
        f.write("sales@example.test alice@example.test\n")
    for p in (path, senders):
        os.chmod(p, 0o644)
    return path, senders


def _gateway(make_gateway, ports, sink, credentials, **changes):
    path, senders = credentials
    return make_gateway(
        sink=sink,
        listeners=[{"name": "mta", "address": "127.0.0.1", "port": ports.get()},
                   {"name": "submission", "address": "127.0.0.1", "port": ports.get(), "mode": "submission"}],
        auth={"credentials": path, "sender_logins": senders},
        **changes)


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink, credentials):
    """No scan: section at all: from_binding still runs on authenticated mail."""
    return _gateway(make_gateway, ports, sink, credentials)


@pytest.fixture(scope="module")
def gw_scan(make_gateway, ports, sink, credentials):
    """A scan: section that does not name from_binding: its default (refuse) holds."""
    return _gateway(make_gateway, ports, sink, credentials, scan={"inbound": {"tag": 5}})


def _login(gw):
    c = mwsys.SmtpClient(gw.listener_port("submission"))
    assert c.greeting().code == 220
    c.ehlo()
    assert c.starttls(certs.client_context()).code == 220
    c.ehlo()
    plain = base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()
    assert c.cmd("AUTH PLAIN " + plain).code == 235
    return c


def _message(token, *froms, extra=""):
    head = "".join(f"From: {f}\r\n" for f in froms) + extra
    return (f"{head}Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <{token}@client.test>\r\n"
            f"Subject: {token}\r\n\r\nbody\r\n").encode()


def _submit(gw, token, *froms, extra="", sender=ALICE):
    with _login(gw) as c:
        return c.transaction(sender, ["user@example.test"], _message(token, *froms, extra=extra))


def _assert_refused(gw, start, final, detail):
    assert final.code == 550, final
    assert final.text == REFUSAL, final
    hit = gw.wait_event(start=start, proc="scanner", event="content_hit", check="from_binding", action="refuse")
    assert detail in hit["detail"], hit
    assert hit["auth"] == ALICE


@pytest.fixture(params=["no_scan_section", "scan_section"])
def any_gw(request, gw, gw_scan):
    return gw if request.param == "no_scan_section" else gw_scan


@pytest.mark.parametrize("header_from", [
    ALICE,
    "Alice <alice@example.test>",
    "\"Alice\" (the real one)\r\n <ALICE@example.test>",   # folded, case does not matter
])
def test_own_address_in_from_is_accepted_and_delivered(any_gw, sink, header_from):
    """REL-3: the login's own address in From passes."""
    token = mwsys.unique("from-own")
    final = _submit(any_gw, token, header_from)
    assert final.code == 250, final
    sink.wait_token(token)


@pytest.mark.parametrize("header_from, detail", [
    ("bob@example.test", "bob@example.test"),
    ("\"alice@example.test\" <bob@example.test>", "bob@example.test"),   # the display name is no address
    ("alice@example.test, boss@example.test", "boss@example.test"),       # every mailbox counts
    ("Team: alice@example.test, boss@example.test;", "boss@example.test"),  # group members too
    ("ceo@other.test", "ceo@other.test"),
])
def test_a_from_the_login_does_not_own_is_refused_at_the_final_dot(any_gw, sink, header_from, detail):
    """REL-3: someone else's address in From is refused with 550 5.7.1,
    and the log names the address."""
    token = mwsys.unique("from-foreign")
    start = any_gw.mark()
    final = _submit(any_gw, token, header_from)
    _assert_refused(any_gw, start, final, detail)
    assert not sink.with_token(token)


@pytest.mark.parametrize("froms", [
    (ALICE, ALICE),
    (ALICE, "bob@example.test"),
    ("bob@example.test", ALICE),
])
def test_two_from_headers_are_refused(any_gw, froms):
    """REL-3, RFC 5322 3.6: exactly one From; a second one, owned or not, is refused."""
    start = any_gw.mark()
    final = _submit(any_gw, mwsys.unique("from-two"), *froms)
    _assert_refused(any_gw, start, final, "more than one From")


def test_no_from_at_all_is_refused(any_gw):
    """REL-3: authenticated mail without From would get one made up downstream."""
    start = any_gw.mark()
    final = _submit(any_gw, mwsys.unique("from-none"))
    _assert_refused(any_gw, start, final, "no From header")


@pytest.mark.parametrize("header_from, extra, detail", [
    ("<>", "", "does not parse"),
    ("alice", "", "does not parse"),
    (ALICE, "Sender: bob@example.test\r\n", "Sender address bob@example.test"),
])
def test_an_unparsable_from_or_a_foreign_sender_is_refused(gw, header_from, extra, detail):
    """REL-3: a From that is no address, or a Sender the login does not own."""
    start = gw.mark()
    final = _submit(gw, mwsys.unique("from-bad"), header_from, extra=extra)
    _assert_refused(gw, start, final, detail)


def test_obsolete_space_before_the_colon_does_not_hide_a_from(gw):
    """REL-3: "From :" is a From to mail clients (RFC 5322 4.5.8), so it is one here."""
    start = gw.mark()
    token = mwsys.unique("from-obs")
    body = f"From : bob@example.test\r\nSubject: {token}\r\n\r\nx\r\n".encode()
    with _login(gw) as c:
        final = c.transaction(ALICE, ["user@example.test"], body)
    _assert_refused(gw, start, final, "bob@example.test")


@pytest.mark.parametrize("header_from", ["sales@example.test", "Sales <SALES@example.test>"])
def test_the_sender_login_table_lets_alice_use_sales(any_gw, sink, header_from):
    """REL-3: an address listed for the login in auth.sender_logins may be used in From."""
    token = mwsys.unique("from-sales")
    final = _submit(any_gw, token, header_from, sender="sales@example.test")
    assert final.code == 250, final
    sink.wait_token(token)


@pytest.mark.parametrize("froms", [("bob@example.test",), ("a@client.test", "b@client.test"), ()])
def test_mail_from_clients_that_did_not_log_in_is_not_affected(any_gw, sink, froms):
    """REL-3 binds logins only: inbound mail keeps whatever From it has,
    and no From check runs on it."""
    token = mwsys.unique("from-inbound")
    start = any_gw.mark()
    with mwsys.SmtpClient(any_gw.listener_port("mta"), source=mwsys.ADDRESSES.get()) as c:
        assert c.greeting().code == 220
        c.ehlo()
        final = c.transaction("someone@client.test", ["user@example.test"], _message(token, *froms))
    assert final.code == 250, final
    sink.wait_token(token)
    assert not any_gw.events(start=start, proc="scanner", event="content_hit", check="from_binding")
    # With a scan: section other content checks (the attachment policy is
    # on by default) may scan it; never for a From symbol.
    for e in any_gw.events(start=start, proc="scanner", event="content_scanned", queue_id=mwsys.queue_id(final)):
        assert "FROM_" not in e["symbols"], e


@pytest.mark.parametrize("policy, symbol", [
    ("score", "FROM_NOT_OWNED(1)"),
    ({"action": "score", "points": 4}, "FROM_NOT_OWNED(4)"),
    ("off", None),
])
def test_the_policy_can_make_the_check_score_or_switch_it_off(make_gateway, ports, sink, credentials, policy,
                                                              symbol):
    """REL-3's check is configurable like any other: scan.outbound.checks.from_binding."""
    gw = _gateway(make_gateway, ports, sink, credentials,
                  scan={"outbound": {"checks": {"from_binding": policy}}})
    token = mwsys.unique("from-policy")
    start = gw.mark()
    final = _submit(gw, token, "bob@example.test")
    assert final.code == 250, final
    sink.wait_token(token)
    scanned = gw.events(start=start, proc="scanner", event="content_scanned", queue_id=mwsys.queue_id(final))
    if symbol:
        assert scanned and scanned[0]["symbols"] == symbol, scanned
    else:  # the attachment policy (on by default) may still scan it
        assert not scanned or "FROM_" not in scanned[0]["symbols"], scanned


def test_a_custom_reply_keeps_the_refusal(make_gateway, ports, sink, credentials):
    """REL-3: a mapping with only a reply changes the words, not the action."""
    gw = _gateway(make_gateway, ports, sink, credentials,
                  scan={"outbound": {"checks": {"from_binding": {"reply": "550 5.7.1 Not your From"}}}})
    final = _submit(gw, mwsys.unique("from-reply"), "bob@example.test")
    assert (final.code, final.text) == (550, "5.7.1 Not your From"), final


def test_a_reload_gives_the_scanner_the_changed_table(make_gateway_fn, ports, sink, credentials):
    """REL-3: SIGHUP replaces the scanner, which reads the sender-login table again."""
    path, _ = credentials
    senders = os.path.join(os.path.dirname(path), "from-sender-logins-reload")
    with open(senders, "w") as f:
        f.write("sales@example.test alice@example.test\n")
    os.chmod(senders, 0o644)
    gw = _gateway(make_gateway_fn, ports, sink, (path, senders))
    start = gw.mark()
    final = _submit(gw, mwsys.unique("from-boss"), "boss@example.test", sender="sales@example.test")
    _assert_refused(gw, start, final, "boss@example.test")
    with open(senders, "a") as f:
        f.write("boss@example.test alice@example.test\n")
    old = gw.pid("scanner")
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    gw.wait_event(proc="master", event="reload", result="ok", start=start)
    gw.wait_event(proc="queue", event="scanner_connected", start=start)
    gw.wait_event(proc="smtpd", event="queue_connected", start=start)
    assert gw.pid("scanner") != old
    token = mwsys.unique("from-boss")
    final = _submit(gw, token, "boss@example.test", sender="sales@example.test")
    assert final.code == 250, final
    sink.wait_token(token)
