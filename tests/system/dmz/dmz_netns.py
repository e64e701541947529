"""The network picture of the DMZ test: four network namespaces joined by
veth pairs, nothing else. Traffic never leaves them: no namespace has a
link to the machine's own network, and only documentation (198.51.100.0/24)
and private (10.1.0.0/24, 10.2.0.0/24) addresses are used.

    internet                      dmz                       internal-a
    198.51.100.1  client          198.51.100.2  ext0        10.1.0.2  Postfix
    198.51.100.25 mx.remote.test  10.1.0.1      int-a  ---  (a.example, sub.a.example)
    198.51.100.53 dnsmasq         10.2.0.1      int-b  ---  internal-b
                                  (mailwarden)              10.2.0.2  Postfix (b.example)

The dmz does not forward IP packets (a new namespace starts with
ip_forward off): the only way between the internet and the internal
networks is through mailwarden.

Sockets in a namespace are made in this process: the calling thread
enters the namespace (setns), creates the socket and comes back; the socket
stays in the namespace it was made in. Python 3.11 has no os.setns, so
it is called through ctypes.
"""

import ctypes
import os
import socket
import subprocess
import uuid

CLONE_NEWNET = 0x40000000

INTERNET_CLIENT = "198.51.100.1"
INTERNET_MX = "198.51.100.25"
INTERNET_DNS = "198.51.100.53"
DMZ_EXTERNAL = "198.51.100.2"
DMZ_INTERNAL_A = "10.1.0.1"
DMZ_INTERNAL_B = "10.2.0.1"
INTERNAL_A = "10.1.0.2"
INTERNAL_B = "10.2.0.2"
INTERNAL_NETWORKS = ["10.1.0.0/24", "10.2.0.0/24"]

# The dmz's interface towards the internet (the one a test cuts).
DMZ_EXTERNAL_LINK = "ext0"

_libc = ctypes.CDLL(None, use_errno=True)


class NetnsUnavailable(Exception):
    """Namespaces or veth pairs cannot be made here (not root, no
    CAP_NET_ADMIN, a kernel without veth): the test is skipped."""


def ip(*args, check=True):
    """Run ip(8); a failure raises with its stderr."""
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


class Network:
    """The four namespaces, named with a suffix unique to this run so that
    a leftover of a killed run is never taken for ours."""

    ROLES = ("internet", "dmz", "internal-a", "internal-b")

    def __init__(self):
        suffix = uuid.uuid4().hex[:6]
        self.names = {role: f"mw-{role}-{suffix}" for role in self.ROLES}
        self.created = []

    def __getitem__(self, role):
        return self.names[role]

    # -- building and tearing down

    def build(self):
        """Make the namespaces and links. NetnsUnavailable when the first
        namespace or veth cannot be made; anything later is a real error."""
        for role in self.ROLES:
            r = ip("netns", "add", self.names[role], check=False)
            if r.returncode != 0:
                if not self.created:
                    raise NetnsUnavailable(f"ip netns add failed: {r.stderr.strip()}")
                raise RuntimeError(f"ip netns add {self.names[role]}: {r.stderr.strip()}")
            self.created.append(self.names[role])
            ip("-n", self.names[role], "link", "set", "lo", "up")
        self._veth("internet", "eth0", "dmz", DMZ_EXTERNAL_LINK, may_be_unavailable=True)
        self._veth("internal-a", "eth0", "dmz", "int-a")
        self._veth("internal-b", "eth0", "dmz", "int-b")
        for addr in (INTERNET_CLIENT, INTERNET_MX, INTERNET_DNS):
            ip("-n", self["internet"], "addr", "add", f"{addr}/24", "dev", "eth0")
        ip("-n", self["dmz"], "addr", "add", f"{DMZ_EXTERNAL}/24", "dev", DMZ_EXTERNAL_LINK)
        ip("-n", self["dmz"], "addr", "add", f"{DMZ_INTERNAL_A}/24", "dev", "int-a")
        ip("-n", self["dmz"], "addr", "add", f"{DMZ_INTERNAL_B}/24", "dev", "int-b")
        ip("-n", self["internal-a"], "addr", "add", f"{INTERNAL_A}/24", "dev", "eth0")
        ip("-n", self["internal-b"], "addr", "add", f"{INTERNAL_B}/24", "dev", "eth0")
        for role, dev in (("internet", "eth0"), ("dmz", DMZ_EXTERNAL_LINK), ("dmz", "int-a"),
                          ("dmz", "int-b"), ("internal-a", "eth0"), ("internal-b", "eth0")):
            ip("-n", self[role], "link", "set", dev, "up")
        return self

    def _veth(self, role_a, dev_a, role_b, dev_b, may_be_unavailable=False):
        # Both ends are created inside their namespaces: no name is ever
        # taken in the machine's own namespace.
        r = ip("link", "add", dev_a, "netns", self[role_a], "type", "veth",
               "peer", "name", dev_b, "netns", self[role_b], check=False)
        if r.returncode != 0:
            if may_be_unavailable:
                raise NetnsUnavailable(f"cannot create a veth pair: {r.stderr.strip()}")
            raise RuntimeError(f"veth {dev_a}/{dev_b}: {r.stderr.strip()}")

    def pids(self, role):
        """Processes running in one namespace (ip netns pids)."""
        r = ip("netns", "pids", self[role], check=False)
        return [int(p) for p in r.stdout.split()]

    def destroy(self):
        """Delete every namespace made; the veths go with them. Processes
        must have been stopped before (see kill_leftovers)."""
        errors = []
        for name in reversed(self.created):
            r = ip("netns", "del", name, check=False)
            if r.returncode != 0:
                errors.append(f"ip netns del {name}: {r.stderr.strip()}")
        self.created = []
        return errors

    # -- what the tests do with it

    def command(self, role, argv):
        """argv run inside a namespace: ip netns exec execs it, so the pid
        of the process started is the pid of argv[0]."""
        return ["ip", "netns", "exec", self[role], *argv]

    def set_internet_link(self, up):
        ip("-n", self["dmz"], "link", "set", DMZ_EXTERNAL_LINK, "up" if up else "down")

    def socket(self, role, family=socket.AF_INET, kind=socket.SOCK_STREAM):
        """A socket that lives in the namespace of role."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(f"/run/netns/{self[role]}", os.O_RDONLY)
            try:
                _setns(target)
                try:
                    return socket.socket(family, kind)
                finally:
                    _setns(own)
            finally:
                os.close(target)
        finally:
            os.close(own)

    def connect(self, role, address, port, timeout=5.0):
        """A TCP connection from the namespace of role."""
        sock = self.socket(role)
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
        except OSError:
            sock.close()
            raise
        return sock


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")
