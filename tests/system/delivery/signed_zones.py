"""A DNSSEC-signed test zone for the DANE tests (RFC 7672): zone files
signed with ldns-keygen/ldns-signzone (Debian's ldnsutils) and served,
with unsigned zones beside them, by nsd on 127.0.0.1:port. The trust
anchor is the signed zone's KSK as a DS record (trust_anchor); the gateway's
validator (libunbound) forwards to nsd and validates from it.

Zones are under .example, not .test: libunbound (like unbound) answers
NXDOMAIN for the RFC 6761 names test., invalid. and localhost. itself."""

import os
import signal
import socket
import subprocess

import mwsys


def _zone_text(origin, records):
    head = [f"$ORIGIN {origin}.", "$TTL 300",
            f"@ IN SOA ns.{origin}. admin.{origin}. 1 3600 600 86400 300",
            f"@ IN NS ns.{origin}.", "ns IN A 127.0.0.1"]
    return "\n".join(head + list(records)) + "\n"


def _keygen(directory, origin, *flags):
    out = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", *flags, origin], cwd=directory, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


class SignedZones:
    """nsd on 127.0.0.1:port serving signed (origin -> records) and
    unsigned zones; trust_anchor is the signed zones' DS records."""

    def __init__(self, directory, port, signed, unsigned, bogus=()):
        """bogus: origins among signed whose trust anchor is the DS of
        another key, so that every answer from them fails validation."""
        self.dir = directory
        self.port = port
        self.proc = None
        os.makedirs(directory, exist_ok=True)
        anchors, zones = [], []
        for origin, records in signed.items():
            path = self._write(origin, records)
            ksk = _keygen(directory, origin, "-k")
            zsk = _keygen(directory, origin)
            subprocess.run(["ldns-signzone", "-f", path + ".signed", path, ksk, zsk], cwd=directory, check=True,
                           capture_output=True)
            if origin in bogus:
                ksk = _keygen(directory, origin, "-k")
            with open(os.path.join(directory, ksk + ".ds")) as f:
                anchors.append(f.read())
            zones.append((origin, path + ".signed"))
        for origin, records in unsigned.items():
            zones.append((origin, self._write(origin, records)))
        self.trust_anchor = os.path.join(directory, "trust-anchor.ds")
        with open(self.trust_anchor, "w") as f:
            f.write("".join(anchors))
        for name in os.listdir(directory):
            os.chmod(os.path.join(directory, name), 0o644)   # the queue may run as another user
        os.chmod(directory, 0o755)
        self.conf = os.path.join(directory, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(self._conf(zones))

    def _write(self, origin, records):
        path = os.path.join(self.dir, origin)
        with open(path, "w") as f:
            f.write(_zone_text(origin, records))
        return path

    def _conf(self, zones):
        d = self.dir
        lines = ["server:", "  ip-address: 127.0.0.1", f"  port: {self.port}", '  username: ""', '  chroot: ""',
                 f"  zonesdir: {d}", f"  pidfile: {d}/nsd.pid", '  database: ""', f"  xfrdfile: {d}/xfrd.state",
                 f"  zonelistfile: {d}/zone.list", f"  logfile: {d}/nsd.log", "  server-count: 1",
                 "remote-control:", "  control-enable: no"]
        for origin, path in zones:
            lines += ["zone:", f"  name: {origin}", f"  zonefile: {path}"]
        return "\n".join(lines) + "\n"

    @property
    def servers(self):
        """For the gateway's dns.servers (c-ares)."""
        return f"127.0.0.1:{self.port}"

    @property
    def resolver(self):
        """For outbound_tls.dane.resolver (libunbound's forwarder syntax)."""
        return f"127.0.0.1@{self.port}"

    def start(self):
        self.proc = subprocess.Popen(["nsd", "-d", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mwsys.wait_until(self._answers, what=f"nsd on port {self.port}")
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"nsd exited: {self.proc.stderr.read().decode()}")
        query = (b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x02ns\x04dane\x07example\x00\x00\x01\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(query, ("127.0.0.1", self.port))
                reply = s.recv(512)
                return reply[:2] == b"\x12\x34" and reply[3] & 0x0f == 0   # NOERROR: the zone is loaded
            except OSError:
                return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=5)
        self.proc = None
