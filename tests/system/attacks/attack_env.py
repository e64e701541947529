"""Shared parts of the attack suite (issue 14, SEC-4): the catalogue's
topology and the universal pass conditions U1-U4 as reusable checks.

Topology (the catalogue's section 0): the gateway is gw.local.test;
local.test is local and routed to the *internal* sink, remote.test is
somebody else's domain whose MX is the *outbound* sink. Untrusted clients
come from their own 127.77.x.y address (never trusted, and findable in the
log), the trusted network is 127.0.0.10. `user`/`pass` is a valid AUTH
account that may send as user@local.test.

The universal conditions, used by every case:
- U1 liveness: `Attack.finish` checks that a fresh connection gets 220
  within 2 s and that the master still runs (conftest fails a test on any
  crashed child or sanitizer report in the log).
- U2 sinks: `assert_sinks_hold` flushes the queue with a control message
  and checks that no message carrying a forbidden token reached a sink.
- U3 hygiene: every raw byte the gateway sent to the case's clients, and
  every log line written during the case, holds no raw control byte (C0
  other than TAB, DEL) and only valid UTF-8; `assert_clean_header_block`
  does the same for the header block the gateway delivers.
- U4 no false acceptance: `assert_refused` (a refused item never gets 2xx).
"""

import os
import re
import socket
import subprocess
import time

import mwsys

HOSTNAME = "gw.local.test"
LOCAL = "local.test"
REMOTE = "remote.test"
TRUSTED = "127.0.0.10"
USER, PASSWORD = "user", "pass"
AUTH_PLAIN = "AUTH PLAIN AHVzZXIAcGFzcw=="     # \0user\0pass
LIVENESS_SECONDS = 2.0

# C0 controls except TAB, and DEL: never raw in a reply line, log line or
# header line (U3).
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


# --------------------------------------------------------------------------
# Configuration


def credentials_file(mw_bin, directory):
    """auth.credentials with user:pass (made by `mailwarden passwd`) and a
    sender-login map binding user to user@local.test."""
    line = subprocess.run([mw_bin, "passwd", USER], input=PASSWORD + "\n", capture_output=True,
                          text=True, check=True).stdout.strip()
    creds = os.path.join(directory, "credentials")
    with open(creds, "w") as f:
        f.write(line + "\n")
    logins = os.path.join(directory, "sender_logins")
    with open(logins, "w") as f:
        f.write(f"user@{LOCAL} {USER}\n")
    for path in (creds, logins):
        os.chmod(path, 0o644)
    return creds, logins


def gateway_config(ports, internal, outbound, credentials=None, **extra):
    """make_gateway keywords for the catalogue's topology: an MTA listener
    with STARTTLS (first, so gw.port is "port 25"), submission with
    STARTTLS ("587") and implicit TLS ("465")."""
    listeners = [
        {"name": "mta", "address": "127.0.0.1", "port": ports.get(), "tls": "starttls"},
        {"name": "submission", "address": "127.0.0.1", "port": ports.get(), "mode": "submission",
         "tls": "starttls"},
        {"name": "smtps", "address": "127.0.0.1", "port": ports.get(), "mode": "submission",
         "tls": "implicit"},
    ]
    cfg = {
        "hostname": HOSTNAME,
        "local_domains": [LOCAL],
        "trusted_networks": [f"{TRUSTED}/32"],
        "listeners": listeners,
        "routes": {LOCAL: internal.url, REMOTE: outbound.url},
        "limits": {"errors": 20},
    }
    if credentials is not None:
        creds, logins = credentials
        cfg["auth"] = {"credentials": creds, "sender_logins": logins, "max_failures": 5,
                       "lockout": "1h", "failure_delay": "0"}
    cfg.update(extra)
    return cfg


def port_of(gw, name):
    return next(int(l["port"]) for l in gw.config["listeners"] if l["name"] == name)


# --------------------------------------------------------------------------
# Clients that keep every byte the gateway sent (for U3)


class Client(mwsys.SmtpClient):
    """SmtpClient that records the raw bytes it received."""

    def __init__(self, *args, **kwargs):
        self.received = b""
        super().__init__(*args, **kwargs)

    def _fill(self):
        before = len(self.buf)
        try:
            super()._fill()
        finally:
            self.received += self.buf[before:]

    def read_for(self, seconds):
        """Every reply until the server closes or is silent for seconds."""
        self.sock.settimeout(seconds)
        replies = []
        try:
            while True:
                replies.append(self.reply())
        except (mwsys.Closed, OSError):
            pass
        return replies

    def try_cmd(self, line):
        """cmd(), or None when the server has closed the connection."""
        try:
            return self.cmd(line) if isinstance(line, str) else self._raw_cmd(line)
        except (mwsys.Closed, OSError):
            return None

    def _raw_cmd(self, data):
        self.send(data)
        return self.reply()


# --------------------------------------------------------------------------
# U3: hygiene of bytes


def control_bytes_in_line(line):
    """A description of what is wrong with one line (bytes without its
    terminator), or None if it is clean."""
    m = _CONTROL.search(line)
    if m:
        return f"raw control byte {m.group(0)!r} at {m.start()} in {line[:200]!r}"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"invalid UTF-8 ({e.reason}) in {line[:200]!r}"
    return None


def assert_clean_reply_stream(data, where="replies"):
    """Replies are CRLF-terminated lines, each clean (U3)."""
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        problem = control_bytes_in_line(line)
        assert problem is None, f"{where}: {problem}"


def assert_clean_log(gw, start):
    """Every log line the gateway wrote since start is clean (U3)."""
    with open(gw.log.path, "rb") as f:
        f.seek(start)
        data = f.read()
    for line in data[:data.rfind(b"\n") + 1].split(b"\n"):
        problem = control_bytes_in_line(line)
        assert problem is None, f"log line: {problem}"


def header_block(data):
    end = data.find(b"\r\n\r\n")
    return data if end < 0 else data[:end + 2]


def assert_clean_header_block(data):
    """The delivered header block: CRLF-terminated lines only, no raw
    control bytes; Received: and Authentication-Results: valid UTF-8 (U3)."""
    block = header_block(data)
    for line in block.split(b"\r\n")[:-1]:
        m = _CONTROL.search(line)
        assert m is None, f"raw control byte {m.group(0)!r} in delivered header line {line[:200]!r}"
    for name in (b"received:", b"authentication-results:"):
        for line in block.split(b"\r\n"):
            if line.lower().startswith(name):
                line.decode("utf-8")


# --------------------------------------------------------------------------
# U4 and reply helpers


def assert_refused(reply, what="", codes=None):
    """U4: the item was not accepted (no 2xx; None means the server closed
    the connection, which refuses it too). codes narrows the accepted
    refusals."""
    assert reply is None or reply.code >= 400, f"{what}: false acceptance {reply}"
    if codes is not None and reply is not None:
        assert reply.code in codes, f"{what}: expected one of {codes}, got {reply}"


# --------------------------------------------------------------------------
# The per-case frame: U1 and U3 after every case


class Attack:
    """One case against one gateway. Use as a context manager:

        with Attack(gw) as a:
            c = a.client()          # untrusted, port 25
            ...
    On a clean exit it checks U1 (liveness) and U3 (replies, log)."""

    def __init__(self, gw, internal=None, outbound=None):
        self.gw = gw
        self.internal = internal
        self.outbound = outbound
        self.start = gw.mark()
        self.clients = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for c in self.clients:
            c.close()
        if exc_type is None:
            self.finish()
        return False

    def client(self, port=None, source=None, greet=True, **kwargs):
        c = Client(port or self.gw.port, source=source, **kwargs)
        self.clients.append(c)
        if greet:
            r = c.greeting()
            assert r.code == 220, f"greeting {r}"
        return c

    def prelude(self, rcpt=f"u@{LOCAL}", mail_from="a@attacker.test", source=None):
        """Prelude P: 220, EHLO, MAIL, RCPT, DATA read one by one; 354."""
        c = self.client(source=source)
        assert c.ehlo("a.test").code == 250
        for line in (f"MAIL FROM:<{mail_from}>", f"RCPT TO:<{rcpt}>"):
            r = c.cmd(line)
            assert r.code == 250, f"{line}: {r}"
        r = c.cmd("DATA")
        assert r.code == 354, f"DATA: {r}"
        return c

    def finish(self):
        assert_live(self.gw)
        for c in self.clients:
            assert_clean_reply_stream(c.received)
        assert_clean_log(self.gw, self.start)


def assert_live(gw):
    """U1: a fresh connection gets 220 within 2 s; the master still runs."""
    assert gw.running(), "the gateway's master is gone"
    began = time.monotonic()
    with mwsys.SmtpClient(gw.port, timeout=LIVENESS_SECONDS) as c:
        r = c.greeting()
    took = time.monotonic() - began
    assert r.code == 220, f"liveness: {r}"
    assert took < LIVENESS_SECONDS, f"liveness: 220 after {took:.2f}s"


# --------------------------------------------------------------------------
# U2: what reached the sinks


def send_control(gw, sink, rcpt=f"control@{LOCAL}"):
    """A normal message behind the case; once it is at the sink, what the
    case might have queued before it has had its chance too."""
    token = mwsys.unique("control")
    with mwsys.SmtpClient(gw.port, source=TRUSTED if not rcpt.endswith(LOCAL) else None) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@attacker.test", [rcpt], f"Subject: {token}\r\n\r\nok\r\n".encode())
    assert reply.code == 250, reply
    gw.wait_delivered(mwsys.queue_id(reply))
    sink.wait_token(token)


def assert_sinks_hold(gw, internal, outbound, forbidden=(), outbound_quiet_since=None):
    """U2: after the queue has had its chance (a control message through
    each sink), no message holding a forbidden token reached a sink, and,
    if outbound_quiet_since (a count) is given, the outbound sink got
    nothing beyond its control message."""
    send_control(gw, internal)
    before_control = len(outbound.messages)
    send_control(gw, outbound, rcpt=f"control@{REMOTE}")
    for sink, name in ((internal, "internal"), (outbound, "outbound")):
        for token in forbidden:
            hits = sink.with_token(token)
            assert hits == [], f"{name} sink got {token!r}: {hits}"
    if outbound_quiet_since is not None:
        assert before_control == outbound_quiet_since, \
            f"outbound sink got {before_control - outbound_quiet_since} message(s): {outbound.messages}"


def session_queued(gw, start, source):
    """Queue ids the gateway queued for the session from source since start."""
    sessions = {e["session"] for e in gw.events(start=start, proc="smtpd", event="connect", client=source)}
    return [e.get("queue_id") for e in gw.events(start=start, proc="smtpd", event="queued")
            if e.get("session") in sessions]


# --------------------------------------------------------------------------
# A scripted hostile next hop (section 6: the gateway as the client)


class HostileNextHop:
    """A line-level SMTP server on loopback that answers from a script:
    replies maps a command verb (EHLO, HELO, STARTTLS, ...) to the raw
    reply text; other verbs get 250 (354 for DATA). It records every
    command line it received, so a test can show what was (not) sent."""

    GREETING = "220 hostile.test ESMTP\r\n"

    def __init__(self, port, replies):
        import threading
        self.port = port
        self.replies = replies
        self.commands = []
        self.messages = []     # the DATA content of each message, unstuffed
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def verbs(self):
        with self._lock:
            return [c.split(b" ", 1)[0].split(b":", 1)[0].upper().decode("ascii", "replace")
                    for c in self.commands]

    def stop(self):
        self._sock.close()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self._session(conn)
                except OSError:
                    pass

    def _session(self, conn):
        conn.sendall(self.GREETING.encode())
        buf = b""
        in_data = False
        data = []
        while True:
            while b"\r\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
            line, _, buf = buf.partition(b"\r\n")
            if in_data:
                if line == b".":
                    in_data = False
                    with self._lock:
                        self.messages.append(b"".join(data))
                    data = []
                    conn.sendall(b"250 2.0.0 taken\r\n")
                else:
                    data.append((line[1:] if line.startswith(b".") else line) + b"\r\n")
                continue
            with self._lock:
                self.commands.append(line)
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].upper().decode("ascii", "replace")
            reply = self.replies.get(verb)
            if reply is None:
                reply = {"DATA": "354 go on", "QUIT": "221 bye"}.get(verb, "250 ok")
            conn.sendall(reply.encode() + b"\r\n")
            if verb == "DATA" and reply.startswith("354"):
                in_data = True
            if verb == "QUIT" or reply.startswith("421"):
                return
