"""STARTTLS (RFC 3207) and implicit TLS (RFC 8314) on the listeners: real
clients (openssl s_client, swaks, Python's ssl), old protocol versions
refused (TLS-4), command injection behind STARTTLS (CVE-2011-0411), the
session reset after the handshake, and a close_notify in the middle of a
BDAT chunk followed by cleartext."""

import os
import select
import socket
import ssl
import subprocess
import time
import warnings

import pytest

import certs
import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink):
    return make_gateway(
        sink=sink,
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get(), "tls": "starttls"},
            {"name": "smtps", "address": "127.0.0.1", "port": ports.get(), "mode": "submission",
             "tls": "implicit", "auth": "required"},
            {"name": "plain", "address": "127.0.0.1", "port": ports.get(), "tls": "none"},
        ])


def _tls_client(gw):
    c = mwsys.SmtpClient(gw.port)
    assert c.greeting().code == 220
    assert "STARTTLS" in c.ehlo().keywords
    assert c.starttls(certs.client_context()).code == 220
    return c


def test_ehlo_offers_starttls_only_in_clear(gw):
    with _tls_client(gw) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        keywords = c.ehlo().keywords
        assert "STARTTLS" not in keywords
        assert "AUTH" not in keywords        # auth is off on an mta listener


def test_listener_without_tls_offers_no_starttls(gw):
    with mwsys.SmtpClient(gw.listener_port("plain")) as c:
        c.greeting()
        assert "STARTTLS" not in c.ehlo().keywords
        assert c.cmd("STARTTLS").code == 502


def _s_client_until(proc, prefix, timeout=mwsys.TIMEOUT):
    """Lines from openssl s_client's stdout up to one starting with prefix."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline().decode(errors="replace")
            if not line:
                break
            lines.append(line)
            if line.startswith(prefix):
                return "".join(lines)
    raise AssertionError(f"no {prefix!r} from s_client: {''.join(lines)}")


def test_openssl_s_client_starttls(gw):
    """An interactive client: it waits for the EHLO reply before QUIT
    (EHLO ends a pipelining group, RFC 2920)."""
    start = gw.mark()
    proc = subprocess.Popen(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{gw.port}",
         "-servername", "mx.gw.test", "-quiet", "-ign_eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    try:
        proc.stdin.write(b"EHLO s-client.test\r\n")
        proc.stdin.flush()
        out = _s_client_until(proc, "250 ")
        proc.stdin.write(b"QUIT\r\n")
        proc.stdin.flush()
        out += _s_client_until(proc, "221")
    finally:
        proc.kill()
        proc.wait()
    assert "250-mx.gw.test Hello s-client.test" in out, out
    assert "221 2.0.0 Bye" in out
    event = gw.wait_event(proc="smtpd", event="tls", client="127.0.0.1", start=start)
    assert event["version"] == "TLSv1.3"


def test_swaks_tls_delivers_with_esmtps_received(gw, sink):
    token = mwsys.unique("swaks")
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{gw.port}", "--tls", "--from", "a@b.test",
         "--to", "user@example.test", "--helo", "swaks.test", "--header", f"Subject: {token}",
         "--body", "over TLS"], capture_output=True, timeout=30)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, out + proc.stderr.decode(errors="replace")
    assert "250 2.0.0 Ok: queued as" in out
    msg = sink.wait_token(token)
    received = msg.data.split(b"\r\n\r\n", 1)[0].decode()
    assert "with ESMTPS id" in received, received
    assert "(using TLSv1.3 with cipher TLS_" in received, received


def test_plaintext_session_is_esmtp_in_received(gw, sink):
    token = mwsys.unique("plain")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        final = c.transaction("a@b.test", ["user@example.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert final.code == 250
    received = sink.wait_token(token).data.split(b"\r\n\r\n", 1)[0].decode()
    assert "with ESMTP id" in received and "using TLS" not in received, received


OLD_VERSIONS = {"sslv3": 0x0300, "tls1_0": 0x0301, "tls1_1": 0x0302}


@pytest.mark.parametrize("version", OLD_VERSIONS.values(), ids=OLD_VERSIONS.keys())
def test_old_protocol_versions_are_refused(gw, version):
    """TLS-4: a ClientHello that offers at most SSLv3 / TLS 1.0 / TLS 1.1
    gets a fatal alert, never a ServerHello."""
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("STARTTLS").code == 220
        c.send(certs.client_hello(version))
        data = b""
        try:
            while len(data) < 7:
                chunk = c.sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        assert not data.startswith(b"\x16"), f"the server answered with a handshake: {data[:16]!r}"
        if data:
            assert data[0] == 0x15 and data[5] == 2, f"expected a fatal alert: {data[:16]!r}"
        session = gw.session_of(c.source, start=start)
        lost = gw.wait_event(proc="smtpd", event="lost", session=session, start=start)
        assert "TLS" in lost["reason"], lost


def test_openssl_s_client_tls1_1_is_refused(gw):
    proc = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{gw.port}",
         "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
        input=b"QUIT\r\n", capture_output=True, timeout=20)
    out = (proc.stdout + proc.stderr).decode(errors="replace")
    assert proc.returncode != 0, out
    assert "Cipher is (NONE)" in out or "Cipher    : 0000" in out, out
    assert "BEGIN CERTIFICATE" not in out, out


def test_python_client_capped_at_tls1_1_fails(gw):
    ctx = certs.client_context()
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT@SECLEVEL=0")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            c.starttls(ctx)


def test_tls1_2_is_accepted(gw):
    ctx = certs.client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        c.starttls(ctx)
        assert c.sock.version() == "TLSv1.2"
        cipher = c.sock.cipher()[0]
        assert cipher.startswith("ECDHE-"), cipher     # forward secrecy only
        assert c.ehlo().code == 250


@pytest.mark.parametrize("injected", ["RSET", "MAIL FROM:<evil@attacker.test>"])
def test_commands_pipelined_behind_starttls_end_the_session_unexecuted(gw, injected):
    """CVE-2011-0411: 'STARTTLS\\r\\nRSET\\r\\n' in one packet. STARTTLS ends
    a pipelining group (RFC 2920, issue 18 item 1): the session ends with
    554 5.5.0, no 220 and no handshake, and the injected command never runs.
    (Bytes that arrive after the 220 are still discarded: conn_start_tls.)"""
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        c.send(f"STARTTLS\r\n{injected}\r\n")
        r = c.reply()
        assert r.code == 554 and "improper command pipelining after STARTTLS" in r.text, r
        assert c.at_eof()
        session = gw.wait_session_end(c.source, start=start)
    assert gw.events(start=start, event="mail", session=session) == []
    assert gw.events(start=start, event="tls", session=session) == []


def test_session_is_reset_and_ehlo_required_after_starttls(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        c.starttls(certs.client_context())
        # RFC 3207 4.2: the transaction and the EHLO are forgotten.
        r = c.cmd("MAIL FROM:<a@b.test>")
        assert r.code == 503, r
        assert c.ehlo().code == 250
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250


def test_starttls_inside_tls_is_refused(gw):
    with _tls_client(gw) as c:
        c.ehlo()
        r = c.cmd("STARTTLS")
        assert r.code == 503 and r.enhanced == "5.5.1", r
        assert c.cmd("NOOP").code == 250


def test_starttls_before_ehlo_is_refused(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        assert c.cmd("STARTTLS").code == 503


def test_implicit_tls_greets_after_the_handshake(gw):
    port = gw.listener_port("smtps")
    with mwsys.SmtpClient(port, tls_context=certs.client_context()) as c:
        assert c.sock.version() == "TLSv1.3"
        assert c.greeting().code == 220
        keywords = c.ehlo().keywords
        assert "STARTTLS" not in keywords
        assert "AUTH" in keywords


def test_cleartext_on_the_implicit_port_gets_no_smtp(gw):
    port = gw.listener_port("smtps")
    start = gw.mark()
    with mwsys.SmtpClient(port) as c:
        c.send("EHLO clear.test\r\n")
        assert c.at_eof(), "the implicit TLS port spoke to a cleartext client"
        assert not c.buf.startswith(b"220"), c.buf
        session = gw.session_of(c.source, start=start)
        gw.wait_event(proc="smtpd", event="disconnect", session=session, start=start)


def _memory_tls(sock):
    """A TLS client over sock with memory BIOs: full control over which
    bytes go out (a close_notify, then cleartext on the same socket)."""
    ctx = certs.client_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())
            data = sock.recv(65536)
            assert data, "closed during the handshake"
            incoming.write(data)
    sock.sendall(outgoing.read())
    return obj, incoming, outgoing


def _memory_reply(sock, obj, incoming):
    buf = b""
    while True:
        try:
            while True:
                buf += obj.read(65536)
        except ssl.SSLWantReadError:
            pass
        lines = buf.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return line
        data = sock.recv(65536)
        assert data, "closed"
        incoming.write(data)


def test_close_notify_inside_bdat_chunk_then_cleartext(gw, sink):
    """A TLS close_notify in the middle of a BDAT chunk, followed by
    cleartext on the same TCP connection: the session ends cleanly, the
    cleartext is never read as commands or data, and nothing touches freed
    memory (the ASan build's log is checked by the fixtures)."""
    start = gw.mark()
    source = mwsys.ADDRESSES.get()
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=mwsys.REPLY_TIMEOUT,
                                    source_address=(source, 0))
    try:
        f = sock.makefile("rb")
        assert f.readline().startswith(b"220")
        sock.sendall(b"EHLO bdat.test\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        sock.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220")
        obj, incoming, outgoing = _memory_tls(sock)
        for cmd in (b"EHLO bdat.test", b"MAIL FROM:<a@b.test>", b"RCPT TO:<user@example.test>"):
            obj.write(cmd + b"\r\n")
            sock.sendall(outgoing.read())
            assert _memory_reply(sock, obj, incoming).startswith(b"250"), cmd
        obj.write(b"BDAT 1000 LAST\r\nSubject: half a chunk\r\n\r\n")
        sock.sendall(outgoing.read())
        # Inside the chunk: the spool file is open and the session reads data.
        session = gw.session_of(source, start=start)
        gw.wait_event(proc="smtpd", event="state", session=session, to="bdat", start=start)
        try:
            obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        sock.sendall(outgoing.read())                      # close_notify
        sock.sendall(b"RSET\r\nMAIL FROM:<x@y.test>\r\nQUIT\r\n" + b"A" * 2000)  # cleartext after it
        sock.settimeout(mwsys.TIMEOUT)
        try:
            while sock.recv(65536):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        sock.close()
    gw.wait_event(proc="smtpd", event="disconnect", session=session, start=start)
    lost = gw.wait_event(proc="smtpd", event="lost", session=session, start=start)
    assert lost["state"] == "bdat" and "TLS" in lost["reason"], lost
    assert not gw.events(start=start, proc="smtpd", event="queued", session=session)
    # The gateway still serves.
    with _tls_client(gw) as c:
        assert c.ehlo().code == 250


def test_tls_session_logged_with_version_and_cipher(gw):
    start = gw.mark()
    with _tls_client(gw) as c:
        c.ehlo()
        session = gw.session_of(c.source, start=start)
    event = gw.wait_event(proc="smtpd", event="tls", session=session, start=start)
    assert event["version"] in ("TLSv1.2", "TLSv1.3")
    assert event["cipher"]
