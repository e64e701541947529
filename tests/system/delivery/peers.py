"""Real peers on loopback for the delivery tests: dnsmasq serving the test
zone, SMTP sinks on chosen 127.0.0.x addresses (MX hosts all listen on the
same port, queue.mx_port), a sink that refuses chosen recipients or stalls
in DATA, and a small LMTP server (TCP or unix socket) with per-recipient
replies after DATA (RFC 2033 4.2), which aiosmtpd's LMTP class lacks;
a STARTTLS sink that offers REQUIRETLS (RFC 8689), which aiosmtpd lacks
too."""

import email
import email.policy
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

import certs
import mwsys


class Dnsmasq:
    """dnsmasq on 127.0.0.1:port, authoritative for .test (--local), with
    the records given as dnsmasq options."""

    def __init__(self, port, records):
        self.port = port
        self.records = records
        self.proc = None

    @property
    def servers(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        args = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
                "--pid-file=", "--log-facility=/dev/null", "--local=/test/"]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(args + list(self.records), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Ready when it answers a query (no sleeps).
        mwsys.wait_until(self._answers, what=f"dnsmasq on port {self.port}")
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"dnsmasq exited: {self.proc.stderr.read().decode()}")
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x05probe\x04test\x00\x00\x01\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(query, ("127.0.0.1", self.port))
                return s.recv(512)[:2] == b"\x12\x34"
            except OSError:
                return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=5)
        self.proc = None


class _Handler(mwsys._SinkHandler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.refuse:
            return self.sink.refuse[address]
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        if self.sink.stall is not None:
            self.sink.stalled.set()
            loop = __import__("asyncio").get_running_loop()
            await loop.run_in_executor(None, self.sink.stall.wait, 20)
        return await super().handle_DATA(server, session, envelope)


class PeerSink(mwsys.Sink):
    """A Sink that can also refuse chosen recipients (refuse[address] =
    reply), stall in DATA until stall is set, advertise a SIZE limit, and
    listen on any loopback address, IPv6 included."""

    def __init__(self, port, host="127.0.0.1", size_limit=None):
        super().__init__(port, host)
        self.refuse = {}
        self.stall = None
        self.stalled = threading.Event()
        self.size_limit = size_limit
        self.connections = 0

    def start(self):
        from aiosmtpd.controller import Controller
        kwargs = {"data_size_limit": self.size_limit} if self.size_limit else {}
        sink = self

        class CountingController(Controller):
            def factory(self):
                sink.connections += 1
                return super().factory()

        controller = CountingController(_Handler(self), hostname=self.host, port=self.port,
                                        server_hostname="sink.test", ready_timeout=mwsys.TIMEOUT,
                                        **kwargs)
        controller.start()
        self.connections = 0   # the controller's own readiness probe is not a client
        self._controller = controller
        return self


def parse_dsn(message):
    """A SinkMessage holding a DSN -> (email.message.Message, list of
    per-recipient field dicts, per-message field dict)."""
    msg = email.message_from_bytes(message.data, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    status = [p for p in parts if p.get_content_type() == "message/delivery-status"]
    assert len(status) == 1, [p.get_content_type() for p in parts]
    blocks = status[0].get_payload()   # email parses the field groups as messages
    per_message = dict(blocks[0].items())
    per_rcpt = [dict(b.items()) for b in blocks[1:]]
    return msg, per_rcpt, per_message


class _LmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        server = self.server.lmtp
        self.reply("220 lmtp.test ready")
        rcpts, sender = [], None
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            server.commands.append(cmd)
            verb = cmd[:4].upper()
            if verb in ("LHLO", "EHLO"):
                self.reply("250-lmtp.test")
                for cap in server.caps:
                    self.reply(f"250-{cap}")
                self.reply("250 8BITMIME")
            elif verb == "MAIL":
                sender, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                self.reply(server.mail_reply or "250 2.1.0 Ok")
                if server.mail_reply:
                    sender = None
            elif verb == "RCPT":
                addr = cmd[8:].split(">")[0].lstrip("<")
                if sender is None:
                    self.reply("503 5.5.1 MAIL first")
                elif addr in server.rcpt_replies:
                    self.reply(server.rcpt_replies[addr])
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 no valid recipients")
                    continue
                self.reply("354 go ahead")
                data = b""
                while True:
                    l = self.rfile.readline()
                    if l in (b".\r\n", b""):
                        break
                    data += l[1:] if l.startswith(b"..") else l
                if server.smtp:   # SMTP: one reply for all
                    with server.cond:
                        server.messages.extend((sender, r, data) for r in rcpts)
                        server.cond.notify_all()
                    self.reply("250 2.0.0 Ok")
                    continue
                for r in rcpts:   # RFC 2033 4.2: one reply per accepted recipient
                    answer = server.per_rcpt.get(r)
                    if answer:
                        self.reply(answer)
                    else:
                        with server.cond:
                            server.messages.append((sender, r, data))
                            server.cond.notify_all()
                        self.reply(f"250 2.0.0 <{r}> delivered")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 Ok")


def _tcp_server(port, handler):
    """A threading TCP server on 127.0.0.1:port (not yet serving)."""
    cls = type("S", (socketserver.ThreadingMixIn, socketserver.TCPServer),
               {"daemon_threads": True, "allow_reuse_address": True})
    return cls(("127.0.0.1", port), handler)


def _stop_server(peer):
    if peer.server:
        peer.server.shutdown()
        peer.server.server_close()
        peer.server = None


class LmtpServer:
    """An LMTP server on 127.0.0.1:port or on a unix socket path; with
    smtp=True a plain SMTP server (EHLO, one reply after DATA). It records
    every command line (commands) and offers caps after LHLO/EHLO."""

    def __init__(self, port=None, path=None, smtp=False, caps=("PIPELINING",)):
        self.port, self.path = port, path
        self.smtp = smtp
        self.caps = list(caps)
        self.commands = []
        self.mail_reply = None      # refuse MAIL with this reply
        self.rcpt_replies = {}      # refuse RCPT of an address with this reply
        self.per_rcpt = {}
        self.messages = []
        self.cond = threading.Condition()
        self.server = None

    def start(self):
        if self.path:
            cls = type("S", (socketserver.ThreadingMixIn, socketserver.UnixStreamServer), {"daemon_threads": True})
            self.server = cls(self.path, _LmtpHandler)
            os.chmod(self.path, 0o666)
        else:
            self.server = _tcp_server(self.port, _LmtpHandler)
        self.server.lmtp = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        _stop_server(self)

    def wait_for(self, count, timeout=mwsys.TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"lmtp: {len(self.messages)} of {count} messages")
                self.cond.wait(left)
            return list(self.messages)


class _RequireTlsSMTP(SMTP):
    """aiosmtpd's SMTP, which refuses unknown MAIL parameters, taught
    REQUIRETLS: accepted only under TLS, recorded in mail_options."""

    async def smtp_MAIL(self, arg):
        words = (arg or "").split(" ")
        asked = any(w.upper() == "REQUIRETLS" for w in words[1:])
        if asked and self._tls_protocol is None:
            await self.push("530 5.7.10 REQUIRETLS needs TLS")
            return
        await super().smtp_MAIL(" ".join(w for w in words if w.upper() != "REQUIRETLS"))
        if asked and self.envelope.mail_from is not None:
            self.envelope.mail_options.append("REQUIRETLS")


class _RequireTlsHandler(mwsys._SinkHandler):
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.sink.requiretls and server._tls_protocol is not None:
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        return responses


class RequireTlsSink(mwsys.Sink):
    """A STARTTLS sink that offers REQUIRETLS after STARTTLS (requiretls
    True) and records every connection (connections)."""

    def __init__(self, port, host, tls_context, requiretls):
        super().__init__(port, host=host, tls_context=tls_context)
        self.requiretls = requiretls
        self.connections = 0

    def start(self):
        sink = self

        class _Controller(Controller):
            def factory(self):
                sink.connections += 1
                return _RequireTlsSMTP(self.handler, **self.SMTP_kwargs)

        self._controller = _Controller(_RequireTlsHandler(self), hostname=self.host, port=self.port,
                                       server_hostname="sink.test", ready_timeout=mwsys.TIMEOUT,
                                       tls_context=self.tls_context)
        self._controller.start()
        self.connections = 0   # the controller's readiness probe is not the gateway
        return self


def send_requiretls(gw, sender, rcpt, body, requiretls=True):
    """One message from the trusted client over STARTTLS, with "MAIL
    FROM:<sender> REQUIRETLS" (RFC 8689) unless requiretls is False;
    asserts the gateway offered REQUIRETLS and took the message; the
    queue id."""
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        assert c.greeting().code == 220
        c.ehlo()
        assert c.starttls(certs.client_context()).code == 220
        ehlo = c.ehlo()
        assert "REQUIRETLS" in [line.split()[0].upper() for line in ehlo.lines[1:]]
        r = c.cmd(f"MAIL FROM:<{sender}>" + (" REQUIRETLS" if requiretls else ""))
        assert r.code == 250, r
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        reply = c.data(body.encode() if isinstance(body, str) else body)
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return mwsys.queue_id(reply)


def free_port_on(ports, hosts):
    """A port from the ports fixture that is free on every one of hosts
    (MX sinks on several loopback addresses share queue.mx_port)."""
    def free(port):
        for host in hosts:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    return False
        return True
    while True:
        port = ports.get()
        if free(port):
            return port


def send(gw, sender, rcpts, body, source="127.0.0.10"):
    """One message through the gateway from a trusted client; the queue id."""
    with mwsys.SmtpClient(gw.port, source=source) as c:
        assert c.greeting().code == 220
        c.ehlo()
        reply = c.transaction(sender, rcpts, body.encode() if isinstance(body, str) else body)
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return mwsys.queue_id(reply)


class _RawHandler(socketserver.StreamRequestHandler):
    def handle(self):
        peer = self.server.raw
        script = dict(peer.script)
        self.wfile.write(script.get("GREETING", b"220 raw.test ready\r\n"))
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].decode("ascii", "replace").upper()
            if verb == "DATA":
                self.wfile.write(script.get("DATA", b"354 go ahead\r\n"))
                data = b""
                while True:
                    l = self.rfile.readline()
                    if l in (b".\r\n", b""):
                        break
                    data += l
                with peer.cond:
                    peer.messages.append(data)
                    peer.cond.notify_all()
                verb = "DOT"
            self.wfile.write(script.get(verb, b"250 ok\r\n"))
            if verb == "QUIT" or verb in peer.close_after:
                return


class RawPeer:
    """A next hop on 127.0.0.1:port written on raw sockets, so that it can
    answer with any bytes at all: script maps "GREETING", a verb ("EHLO",
    "MAIL", "RCPT", "DATA", "QUIT") or "DOT" (the end of data) to the exact
    bytes of its reply. Records every message body it reads (messages).
    close_after: verbs after whose reply it closes the connection ("STAR":
    a 220 to STARTTLS, then no handshake)."""

    def __init__(self, port):
        self.port = port
        self.script = {}
        self.close_after = set()
        self.messages = []
        self.cond = threading.Condition()
        self.server = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.server = _tcp_server(self.port, _RawHandler)
        self.server.raw = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        _stop_server(self)
