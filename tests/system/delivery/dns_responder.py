"""A small DNS server on loopback (UDP and TCP, RFC 1035 4.2) that answers
what dnsmasq will not: SERVFAIL or bytes that are no DNS message for
chosen names, CNAME loops, a thousand MX records (too long for UDP: the
answer comes truncated, TC set, and in full over TCP), MX targets that
are IP addresses. Standard library only; the zone can change while it
runs, so a test can make a name heal.

    dns = DnsResponder(port).start()
    dns.mx("a.test", 10, "mx.a.test"); dns.a("mx.a.test", "127.0.0.41")
    dns.fail("b.test")              # SERVFAIL for every type
    dns.cname("c.test", "d.test"); dns.cname("d.test", "c.test")

A name without records and not under a CNAME gets NXDOMAIN; a known name
without records of the asked type gets an empty NOERROR answer (NODATA).
CNAMEs are followed as a recursive resolver does, each name once: a loop
ends with the chain and nothing else (what BIND answers)."""

import ipaddress
import socket
import socketserver
import struct
import threading

TYPES = {"A": 1, "CNAME": 5, "MX": 15, "AAAA": 28}
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3
UDP_LIMIT = 512   # RFC 1035 4.2.1, without EDNS (c-ares 1.18 sends none)


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_question(msg):
    """(id, flags, qname, qtype, bytes of the question section) of a query."""
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1:
        raise ValueError("one question expected")
    labels, pos = [], 12
    while msg[pos]:
        n = msg[pos]
        if n & 0xC0:
            raise ValueError("compression in a question")
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    qtype, _ = struct.unpack("!HH", msg[pos + 1:pos + 5])
    return qid, flags, ".".join(labels).lower(), qtype, msg[12:pos + 5]


def rr(name, rtype, rdata, ttl=60):
    return encode_name(name) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


class DnsResponder:
    def __init__(self, port):
        self.port = port
        self.records = {}     # name -> list of (type number, rdata bytes)
        self.cnames = {}      # name -> target
        self.rcodes = {}      # name -> rcode answered for every type
        self.garbage = set()  # names answered with bytes that parse as nothing
        self.queries = []     # (transport, name, type number) as they came
        self.lock = threading.Lock()
        self._udp = self._tcp = None

    @property
    def servers(self):
        return f"127.0.0.1:{self.port}"

    # -- the zone

    def _add(self, name, rtype, rdata):
        with self.lock:
            self.records.setdefault(name.lower().rstrip("."), []).append((rtype, rdata))

    def mx(self, name, preference, host):
        self._add(name, TYPES["MX"], struct.pack("!H", preference) + encode_name(host))

    def a(self, name, address):
        ip = ipaddress.ip_address(address)
        self._add(name, TYPES["A"] if ip.version == 4 else TYPES["AAAA"], ip.packed)

    def cname(self, name, target):
        with self.lock:
            self.cnames[name.lower()] = target.lower()

    def fail(self, name, rcode=SERVFAIL):
        with self.lock:
            self.rcodes[name.lower()] = rcode

    def garble(self, name):
        """Answers for name whose records cannot be parsed."""
        with self.lock:
            self.garbage.add(name.lower())

    def heal(self, name):
        with self.lock:
            self.rcodes.pop(name.lower(), None)
            self.garbage.discard(name.lower())

    def asked(self, name, qtype=None, transport=None):
        """How many queries for name (of qtype, over transport) came in."""
        with self.lock:
            return sum(1 for t, n, q in self.queries if n == name.lower()
                       and (qtype is None or q == TYPES[qtype]) and (transport is None or t == transport))

    # -- answers

    def answer(self, msg, transport):
        qid, flags, qname, qtype, question = decode_question(msg)
        with self.lock:
            self.queries.append((transport, qname, qtype))
            rcode, answers = self.rcodes.get(qname, NOERROR), []
            if rcode == NOERROR and qname in self.garbage:
                # One answer record whose name points past the message's end.
                answers = [b"\xc0\xff\x00\x0f"]
            elif rcode == NOERROR:
                rcode, answers = self._lookup(qname, qtype)
        # QR, AA, RD as asked, RA; the rcode
        out_flags = 0x8400 | (flags & 0x0100) | 0x0080 | rcode
        full = struct.pack("!HHHHHH", qid, out_flags, 1, len(answers), 0, 0) + question + b"".join(answers)
        if transport == "udp" and len(full) > UDP_LIMIT:
            return struct.pack("!HHHHHH", qid, out_flags | 0x0200, 1, 0, 0, 0) + question
        return full

    def _lookup(self, name, qtype):
        """(rcode, answer records) for name, CNAMEs followed once each."""
        answers, seen = [], {name}
        while name in self.cnames:
            target = self.cnames[name]
            answers.append(rr(name, TYPES["CNAME"], encode_name(target)))
            if target in seen:
                return NOERROR, answers
            seen.add(target)
            name = target
        if name not in self.records:
            return NXDOMAIN, answers
        return NOERROR, answers + [rr(name, t, d) for t, d in self.records[name] if t == qtype]

    # -- serving

    def start(self):
        responder = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                try:
                    sock.sendto(responder.answer(data, "udp"), self.client_address)
                except (ValueError, IndexError, struct.error):
                    pass

        class Tcp(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    head = self.rfile.read(2)
                    if len(head) < 2:
                        return
                    data = self.rfile.read(struct.unpack("!H", head)[0])
                    try:
                        reply = responder.answer(data, "tcp")
                    except (ValueError, IndexError, struct.error):
                        return
                    self.wfile.write(struct.pack("!H", len(reply)) + reply)
                    self.wfile.flush()

        def server(base, handler):
            cls = type("S", (socketserver.ThreadingMixIn, base), {"daemon_threads": True,
                                                                  "allow_reuse_address": True})
            s = cls(("127.0.0.1", self.port), handler)
            threading.Thread(target=s.serve_forever, daemon=True).start()
            return s

        # Bound before start() returns: no wait for readiness is needed.
        self._udp = server(socketserver.UDPServer, Udp)
        self._tcp = server(socketserver.TCPServer, Tcp)
        return self

    def stop(self):
        for s in (self._udp, self._tcp):
            if s is not None:
                s.shutdown()
                s.server_close()
        self._udp = self._tcp = None


class SilentResolver:
    """A resolver that takes queries and never answers: a UDP socket bound
    on 127.0.0.1:port that nobody reads, and no TCP. Every lookup runs
    into the gateway's DNS timeout."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    @property
    def servers(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        return self

    def stop(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
